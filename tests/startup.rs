//! A bad configuration stops the real binary before it takes a request: a non-zero
//! exit and one line on stderr naming the variable, without a panic. A good one logs
//! what each endpoint requires, then polls the Lambda Runtime API.

use std::process::{Command, Output};

use serde_json::Value;

/// The variables Lambda sets for every function, beside the runtime's address.
const LAMBDA: [(&str, &str); 4] = [
    ("AWS_LAMBDA_FUNCTION_NAME", "org-change-relay"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
    // As in Lambda, where the region is always set (else the SDK asks IMDS).
    ("AWS_REGION", "us-east-1"),
];

/// The relay with only `vars` in its environment.
fn run(vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_org-change-relay"))
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .expect("the binary runs")
}

/// The relay as Lambda starts it, with `vars` besides. Were the configuration
/// accepted, the runtime would poll this address, where nothing answers, and exit 1.
fn under_lambda(vars: &[(&str, &str)]) -> Output {
    run(&[
        &[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")][..],
        &LAMBDA,
        vars,
    ]
    .concat())
}

/// [`under_lambda`]'s exit code and stderr.
fn start(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = under_lambda(vars);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The one line on stderr, after asserting that it is the only one, exit 2, no panic.
fn one_line(code: Option<i32>, stderr: &str) -> &str {
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0]
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
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
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

#[test]
fn a_field_or_an_endpoint_given_twice_stops_the_function_naming_it_not_the_value() {
    for (endpoints, place) in [
        (
            r#"{"feishu/x": {"verification_token": "t", "encrypt_key": "k3y-that-must-not-leak", "encrypt_key": ""}}"#,
            r#"ENDPOINTS["feishu/x"].encrypt_key"#,
        ),
        (
            r#"{"feishu/x": {"verification_token": "t", "encrypt_key": "k3y-that-must-not-leak"}, "feishu/x": {"verification_token": "t"}}"#,
            r#"ENDPOINTS["feishu/x"]"#,
        ),
    ] {
        let (code, stderr) = start(&[("QUEUE_URL", QUEUE), ("ENDPOINTS", endpoints)]);
        assert_eq!(
            one_line(code, &stderr),
            format!(
                "org-change-relay: configuration error: {place} is given more than once; give each name once (a repeated name silently replaces the one before it)"
            )
        );
        assert!(!stderr.contains("k3y-that-must-not-leak"), "{stderr}");
    }
}

/// The JSON lines the relay wrote to stdout, started with `vars`, before its runtime
/// gave up; and its stderr.
fn started(vars: &[(&str, &str)]) -> (Vec<Value>, String) {
    let output = under_lambda(&[&[("AWS_LAMBDA_LOG_FORMAT", "JSON")][..], vars].concat());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    // Nothing answers at 127.0.0.1:9: the runtime's first poll fails.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect();
    (lines, stderr)
}

#[test]
fn each_endpoint_says_at_start_what_it_requires_of_a_request() {
    let (lines, _) = started(&[
        ("QUEUE_URL", QUEUE),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
        ("FEISHU_ENCRYPT_KEY", "k"),
        ("FEILIAN_VERIFICATION_TOKEN", "t"),
        ("FEILIAN_ENCRYPT_KEY", "k"),
        (
            "ENDPOINTS",
            r#"{"feishu/plain": {"verification_token": "t"}, "feilian/plain": {"verification_token": "t"}}"#,
        ),
    ]);
    let endpoints: Vec<(&str, &str, &str)> = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "endpoint enabled")
        .map(|line| {
            (
                line["level"].as_str().unwrap_or_default(),
                line["fields"]["endpoint"].as_str().unwrap_or_default(),
                line["fields"]["requires"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        endpoints,
        [
            ("INFO", "feilian", "encrypted"),
            ("INFO", "feilian/plain", "token only"),
            ("INFO", "feishu", "encrypted and signed"),
            ("INFO", "feishu/plain", "token only"),
        ],
        "{lines:?}"
    );
}

#[test]
fn each_secret_has_a_fingerprint_line_the_shell_recipe_reproduces() {
    let (lines, _) = started(&[
        ("QUEUE_URL", QUEUE),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
        ("FEISHU_ENCRYPT_KEY", "k"),
    ]);
    let fingerprints: Vec<(&str, &str)> = lines
        .iter()
        .filter(|line| {
            line["fields"]["message"]
                == "secret fingerprint (printf 'org-change-relay/fingerprint/v1:%s' VALUE | sha256sum | cut -c1-8)"
        })
        .map(|line| {
            (
                line["fields"]["variable"].as_str().unwrap_or_default(),
                line["fields"]["fingerprint"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    // printf 'org-change-relay/fingerprint/v1:%s' t | sha256sum | cut -c1-8, and k.
    assert_eq!(
        fingerprints,
        [
            ("FEISHU_VERIFICATION_TOKEN", "9412736d"),
            ("FEISHU_ENCRYPT_KEY", "0142a987"),
        ],
        "{lines:?}"
    );
}

#[test]
fn cargo_lambdas_managed_concurrency_of_one_is_not_warned_about() {
    // cargo-lambda's emulator sets it; lambda_runtime's `run` warned on every start.
    let (lines, stderr) = started(&[
        ("QUEUE_URL", QUEUE),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
        ("AWS_LAMBDA_MAX_CONCURRENCY", "1"),
    ]);
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["message"] == "endpoint enabled"),
        "{lines:?}"
    );
    let warnings: Vec<&Value> = lines
        .iter()
        .filter(|line| line["level"] == "WARN")
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(!stderr.contains("AWS_LAMBDA_MAX_CONCURRENCY"), "{stderr}");
}

#[test]
fn run_outside_lambda_the_binary_says_how_to_run_it_without_a_panic() {
    // `cargo run --bin org-change-relay` with a good configuration and no Lambda.
    let output = run(&[
        ("AWS_REGION", "us-east-1"),
        ("QUEUE_URL", QUEUE),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        one_line(output.status.code(), &stderr),
        "org-change-relay: AWS_LAMBDA_RUNTIME_API is not set: this is an AWS Lambda function, run by Lambda or by cargo-lambda's emulator; locally, run `make relay` (a local queue and the relay, with the demo's settings), or `.venv/bin/cargo-lambda lambda watch` with your own (docs/testing.md, \"Samples, the local relay and the simulator\")"
    );
    assert!(output.stdout.is_empty(), "{:?}", output.stdout);
}

#[test]
fn without_a_region_the_function_stops_naming_aws_region_before_the_sdk_asks_imds() {
    let output = run(&[
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
        ("AWS_LAMBDA_FUNCTION_NAME", "org-change-relay"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("QUEUE_URL", QUEUE),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        one_line(output.status.code(), &stderr),
        "org-change-relay: configuration error: AWS_REGION is required: the AWS region of the queue; Lambda sets it, a relay run by hand needs it (e.g. AWS_REGION=us-east-1)"
    );
    // No IMDS warning, no start-up line: nothing ran before the check.
    assert!(output.stdout.is_empty(), "{:?}", output.stdout);
}

#[test]
fn secret_id_beside_a_secret_in_the_environment_is_refused_before_the_secret_is_read() {
    // Nothing answers at this endpoint: a read would fail with a network error.
    let (code, stderr) = start(&[
        ("QUEUE_URL", QUEUE),
        ("SECRET_ID", "org-change-relay/webhooks"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("FEISHU_VERIFICATION_TOKEN", "t0ken-that-must-not-leak"),
    ]);
    assert_eq!(
        one_line(code, &stderr),
        "org-change-relay: configuration error: FEISHU_VERIFICATION_TOKEN is invalid: it is set in the environment although SECRET_ID is; keep secrets in the secret only"
    );
}

/// The relay started by `posix_spawn` with exactly `env`, repeats included (`Command`
/// keeps one value per name); its exit code and stderr.
fn spawn_with_raw_environment(env: &[&str]) -> (i32, String) {
    use std::ffi::CString;
    use std::ptr::null_mut;

    let program = CString::new(env!("CARGO_BIN_EXE_org-change-relay")).expect("a path");
    let stderr_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("raw-environment-{}.stderr", std::process::id()));
    let stderr_c = CString::new(stderr_path.to_str().expect("a UTF-8 path")).expect("a path");
    let env: Vec<CString> = env
        .iter()
        .map(|entry| CString::new(*entry).expect("no NUL"))
        .collect();
    let mut envp: Vec<*mut libc::c_char> = env.iter().map(|e| e.as_ptr().cast_mut()).collect();
    envp.push(null_mut());
    let mut argv = [program.as_ptr().cast_mut(), null_mut()];
    let mut pid: libc::pid_t = 0;
    let mut status = 0;
    // SAFETY: every pointer is a live NUL-terminated string or a terminating null, and
    // the file actions are initialised before use and destroyed after.
    unsafe {
        let mut actions = std::mem::zeroed::<libc::posix_spawn_file_actions_t>();
        assert_eq!(libc::posix_spawn_file_actions_init(&mut actions), 0);
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
        let opened = libc::posix_spawn_file_actions_addopen(
            &mut actions,
            2,
            stderr_c.as_ptr(),
            flags,
            0o600,
        );
        assert_eq!(opened, 0);
        let spawned = libc::posix_spawn(
            &mut pid,
            program.as_ptr(),
            &actions,
            std::ptr::null(),
            argv.as_mut_ptr(),
            envp.as_mut_ptr(),
        );
        libc::posix_spawn_file_actions_destroy(&mut actions);
        assert_eq!(spawned, 0, "posix_spawn failed");
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
    }
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = std::fs::remove_file(&stderr_path);
    assert!(libc::WIFEXITED(status), "the relay did not exit: {status}");
    (libc::WEXITSTATUS(status), stderr)
}

#[test]
fn a_variable_given_twice_in_the_environment_stops_the_function_naming_it_not_the_value() {
    let (code, stderr) = spawn_with_raw_environment(&[
        "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9",
        "AWS_LAMBDA_FUNCTION_NAME=org-change-relay",
        "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
        "AWS_REGION=us-east-1",
        "QUEUE_URL=https://sqs.us-east-1.amazonaws.com/123456789012/org-changes",
        "FEISHU_VERIFICATION_TOKEN=t",
        "FEISHU_ENCRYPT_KEY=k3y-that-must-not-leak",
        "FEISHU_ENCRYPT_KEY=",
    ]);
    assert_eq!(
        one_line(Some(code), &stderr),
        "org-change-relay: configuration error: FEISHU_ENCRYPT_KEY is given more than once in the environment; give each name once (a repeated name silently replaces the one before it)"
    );
}
