//! A bad configuration stops the real binary before it takes a request: a non-zero
//! exit and one line on stderr naming the variable, without a panic.

use std::process::Command;

fn start(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_org-change-relay"))
        .env_clear()
        .envs(vars.iter().copied())
        // Were the configuration accepted, the runtime would try this address and fail
        // differently; the tests below must stop before that.
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        // As in Lambda, where the region is always set (else the SDK asks IMDS).
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("the binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/org-changes";

#[test]
fn each_bad_setting_stops_the_function_with_one_line_naming_it() {
    for (vars, variable) in [
        (vec![("FEISHU_VERIFICATION_TOKEN", "t")], "QUEUE_URL"),
        (
            vec![
                ("QUEUE_URL", "not a url"),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
            ],
            "QUEUE_URL",
        ),
        (vec![("QUEUE_URL", QUEUE)], "FEILIAN_VERIFICATION_TOKEN"),
        (
            vec![
                ("QUEUE_URL", QUEUE),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("FEILIAN_ENCRYPT_KEY", "k"),
            ],
            "FEILIAN_ENCRYPT_KEY",
        ),
        (
            vec![
                ("QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q.fifo"),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("QUEUE_DELAY_SECONDS", "5"),
            ],
            "QUEUE_DELAY_SECONDS",
        ),
        (
            vec![
                ("QUEUE_URL", QUEUE),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("MAX_BODY_BYTES", "lots"),
            ],
            "MAX_BODY_BYTES",
        ),
    ] {
        let (code, stderr) = start(&vars);
        assert_eq!(code, Some(2), "{variable}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{variable}: {stderr}");
        assert!(
            lines[0].starts_with("org-change-relay: configuration error:")
                && lines[0].contains(variable),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn secrets_are_not_repeated_in_the_error() {
    let (code, stderr) = start(&[
        ("QUEUE_URL", QUEUE),
        ("FEISHU_ENCRYPT_KEY", "k3y-that-must-not-leak"),
    ]);
    assert_eq!(code, Some(2));
    assert!(!stderr.contains("k3y-that-must-not-leak"), "{stderr}");
}

#[test]
// It reads a secret from this run's moto server: `make test` (the `integration`
// feature, next to moto) runs it; a plain `cargo test` lists it as ignored.
#[cfg_attr(
    not(feature = "integration"),
    ignore = "needs moto (MOTO_ENDPOINT): run with make test"
)]
fn an_unreadable_secret_stops_the_function_naming_the_secret() {
    let endpoint = std::env::var("MOTO_ENDPOINT")
        .expect("MOTO_ENDPOINT is not set: run the tests with `make test`");
    let id = "org-change-relay/no-such-secret";
    let (code, stderr) = start(&[
        ("QUEUE_URL", QUEUE),
        ("SECRET_ID", id),
        ("AWS_ENDPOINT_URL", &endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0]
            .starts_with("org-change-relay: configuration error: SECRET_ID: cannot read secret")
            && lines[0].contains(id)
            && lines[0].contains("ResourceNotFoundException"),
        "{stderr}"
    );
}

#[test]
fn a_secret_pasted_with_a_trailing_newline_stops_the_function_naming_it_not_its_value() {
    let (code, stderr) = start(&[
        ("QUEUE_URL", QUEUE),
        ("FEISHU_VERIFICATION_TOKEN", "t0ken-that-must-not-leak\n"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(
            "org-change-relay: configuration error: FEISHU_VERIFICATION_TOKEN is invalid: it has a trailing newline"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("t0ken-that-must-not-leak"), "{stderr}");
}

#[test]
fn a_bad_endpoints_entry_stops_the_function_naming_the_endpoint_and_field_not_the_value() {
    for (endpoints, place) in [
        (
            r#"{"feishu/lark-global": {"encrypt_key": "k3y-that-must-not-leak"}}"#,
            r#"ENDPOINTS["feishu/lark-global"].verification_token"#,
        ),
        (
            r#"{"feishu/lark-global": {"verification_token": "k3y-that-must-not-leak\n"}}"#,
            r#"ENDPOINTS["feishu/lark-global"].verification_token"#,
        ),
        (
            r#"{"feishu": {"previous_verification_token": "k3y-that-must-not-leak", "previous_until": "2999-01-01T00:00:00Z"}}"#,
            r#"ENDPOINTS["feishu"].previous_until"#,
        ),
        (
            r#"{"Feishu/x": {"verification_token": "k3y-that-must-not-leak"}}"#,
            r#"ENDPOINTS["Feishu/x"]"#,
        ),
    ] {
        let (code, stderr) = start(&[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            ("ENDPOINTS", endpoints),
        ]);
        assert_eq!(code, Some(2), "{place}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{place}: {stderr}");
        assert!(
            lines[0].starts_with(&format!(
                "org-change-relay: configuration error: {place} is invalid"
            )),
            "{stderr}"
        );
        assert!(!stderr.contains("k3y-that-must-not-leak"), "{stderr}");
    }
}
