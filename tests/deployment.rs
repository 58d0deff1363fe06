//! The relay binary configured as template.yaml configures it: the tokens and keys
//! only in a Secrets Manager secret (moto's), Lambda's JSON log format, and the
//! metrics as Embedded Metric Format lines. Driven through cargo-lambda's emulator
//! by the simulator; its output is read back line by line.

mod common;

use std::time::Duration;

use common::*;
use org_change_core::Source;
use serde_json::Value;

/// Runs `org-change-sim <command> --url <url> --token <token> --key <key> <extra>`;
/// what it printed.
fn sim(command: &str, url: &str, token: &str, key: &str, extra: &[&str]) -> String {
    let output = simulator(
        [command, "--url", url, "--token", token, "--key", key]
            .iter()
            .chain(extra),
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn configured_like_the_template_it_reads_the_secret_logs_json_and_emits_metrics() {
    let Setup { client, queue } = setup(false).await;
    let arn = create_secret(Some(&secrets_json())).await;
    let mut stack = LocalStack::start(
        &queue,
        &[
            ("SECRET_ID", &arn),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("METRICS_NAMESPACE", "RelayTest"),
        ],
    );

    let (feishu, feilian) = (stack.url(Source::Feishu), stack.url(Source::Feilian));
    let answer = stack.until(Duration::from_secs(60), || {
        let out = sim("challenge", &feishu, FEISHU_TOKEN, FEISHU_KEY, &[]);
        out.contains("ok: the challenge came back").then_some(out)
    });
    assert!(answer.contains("200"), "{answer}");
    let triggered = sim(
        "trigger",
        &feilian,
        FEILIAN_TOKEN,
        FEILIAN_KEY,
        &["department.v1.update"],
    );
    assert!(triggered.contains("→ 200"), "{triggered}");
    let forged = sim(
        "trigger",
        &feishu,
        "not-the-token",
        FEISHU_KEY,
        &["corehr.department.updated_v2"],
    );
    assert!(
        forged.contains("→ 401") && forged.contains("bad_token"),
        "{forged}"
    );

    // A verified event without the id its message needs: 400, logged with its type
    // and id so that it can be found in the platform's event log.
    let malformed = sample("feishu/corehr.department.updated_v2.json")
        .replace("\"department_id\"", "\"dept\"")
        .replace(
            "5e3702a84e847582be8db7fb73283c02",
            "0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a",
        );
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("malformed-{}.json", std::process::id()));
    std::fs::write(&file, malformed).expect("the scratch folder is writable");
    let refused = sim(
        "send",
        &feishu,
        FEISHU_TOKEN,
        FEISHU_KEY,
        &[file.to_str().expect("a UTF-8 path")],
    );
    assert!(
        refused.contains("→ 400") && refused.contains("malformed_event"),
        "{refused}"
    );

    let messages = drain(&client, &queue).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].body["source"], "feilian");

    // The relay's output: every line JSON, no secret anywhere.
    let output = stack.relay_output();
    for secret in [FEISHU_TOKEN, FEISHU_KEY, FEILIAN_TOKEN, FEILIAN_KEY] {
        assert!(
            !output.contains(secret),
            "a secret in the output:\n{output}"
        );
    }
    let lines: Vec<Value> = output
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();

    let logged = |message: &str, outcome: &str| {
        lines.iter().any(|line| {
            line["fields"]["message"] == message && line["fields"]["outcome"] == outcome
        })
    };
    assert!(logged("request handled", "challenge"), "{output}");
    assert!(logged("request handled", "enqueued"), "{output}");
    assert!(logged("request rejected", "rejected"), "{output}");
    let malformed = lines
        .iter()
        .find(|line| line["fields"]["error"] == "malformed_event")
        .unwrap_or_else(|| panic!("no malformed_event line:\n{output}"));
    assert_eq!(
        (
            &malformed["fields"]["message"],
            &malformed["fields"]["event_type"],
            &malformed["fields"]["event_id"],
            &malformed["fields"]["status"],
        ),
        (
            &Value::from("request rejected"),
            &Value::from("corehr.department.updated_v2"),
            &Value::from("0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a"),
            &Value::from(400),
        ),
        "{output}"
    );

    // At start, one fingerprint line per secret, as
    // `printf 'org-change-relay/fingerprint/v1:%s' VALUE | sha256sum | cut -c1-8` prints them.
    let fingerprints: Vec<(&str, &str)> = lines
        .iter()
        .filter(|line| {
            line["fields"]["message"]
                == "secret fingerprint (printf 'org-change-relay/fingerprint/v1:%s' VALUE | sha256sum | cut -c1-8)"
        })
        .map(|line| {
            assert_eq!(line["level"], "INFO", "{line}");
            (
                line["fields"]["variable"].as_str().unwrap_or_default(),
                line["fields"]["fingerprint"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        fingerprints,
        [
            ("FEISHU_VERIFICATION_TOKEN", "df2f1adc"),
            ("FEISHU_ENCRYPT_KEY", "d27815c4"),
            ("FEILIAN_VERIFICATION_TOKEN", "31bd7451"),
            ("FEILIAN_ENCRYPT_KEY", "2d8d6201"),
        ],
        "{output}"
    );

    let metrics: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("_aws").is_some())
        .collect();
    assert_eq!(metrics.len(), 4, "one metrics line per request:\n{output}");
    for line in &metrics {
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "RelayTest"
        );
        assert_eq!(line["Requests"], 1);
    }
    let outcome = |name: &str| {
        metrics
            .iter()
            .find(|line| line["Outcome"] == name)
            .unwrap_or_else(|| panic!("no {name} metrics line:\n{output}"))
    };
    assert_eq!(outcome("challenge")["Source"], "feishu");
    assert_eq!(outcome("enqueued")["Source"], "feilian");
    assert_eq!(outcome("enqueued")["MessagesEnqueued"], 1);
    let reasons: Vec<&Value> = metrics
        .iter()
        .filter(|line| line["Outcome"] == "rejected")
        .map(|line| &line["Reason"])
        .collect();
    assert_eq!(reasons, ["bad_token", "malformed_event"], "{output}");
    assert_eq!(outcome("rejected")["Rejections"], 1);
}
