//! The API Gateway events in `events/apigw/`, for `cargo lambda invoke --data-file`:
//! each one is invoked here through the real adapter, with the demo's secrets, and
//! must be accepted. `REGENERATE_EVENTS=1 make test` writes them anew.
//!
//! The files are committed, and CI regenerates them and checks that nothing changed,
//! so they cannot carry the time they are used at: the Feishu event is signed at a
//! fixed `X-Lark-Request-Timestamp` and the Feilian one keeps its sample's
//! `header.create_time`. The relay refuses both with the default 24-hour replay
//! window, so these tests, like the README's command, run it with
//! [`REPLAY_WINDOW`] (`MAX_REQUEST_AGE_SECONDS`) wide enough for any date.

mod common;

use common::*;
use org_change_core::{EncryptKey, cipher, signature};
use serde_json::{Value, json};

/// The secrets `make demo` configures (scripts/demo-run.sh).
const DEMO: [(&str, &str); 4] = [
    ("FEISHU_VERIFICATION_TOKEN", "demo-feishu-token"),
    ("FEISHU_ENCRYPT_KEY", "demo-feishu-key"),
    ("FEILIAN_VERIFICATION_TOKEN", "demo-feilian-token"),
    ("FEILIAN_ENCRYPT_KEY", "demo-feilian-key"),
];

/// `MAX_REQUEST_AGE_SECONDS` for the committed, fixed-time events: 100 years.
const REPLAY_WINDOW: (&str, &str) = ("MAX_REQUEST_AGE_SECONDS", "3153600000");

fn demo(name: &str) -> &'static str {
    DEMO.iter()
        .find(|(var, _)| *var == name)
        .map(|(_, value)| *value)
        .expect("a demo variable")
}

/// A request as the platform would send `envelope` with the demo secrets.
fn platform_request(path: &str, mut envelope: Value) -> HttpRequest {
    let feishu = path.ends_with("feishu");
    let (token, key) = if feishu {
        (
            demo("FEISHU_VERIFICATION_TOKEN"),
            demo("FEISHU_ENCRYPT_KEY"),
        )
    } else {
        (
            demo("FEILIAN_VERIFICATION_TOKEN"),
            demo("FEILIAN_ENCRYPT_KEY"),
        )
    };
    match envelope.get_mut("header") {
        Some(header) => header["token"] = json!(token),
        None => envelope["token"] = json!(token),
    }
    let key = EncryptKey::new(key);
    let sealed = cipher::encrypt(&key, envelope.to_string().as_bytes(), *b"fixed-iv-for-doc");
    let body = json!({ "encrypt": sealed }).to_string();
    let request = HttpRequest::post(path, body.clone());
    if feishu && envelope["type"] != "url_verification" {
        let (timestamp, nonce) = ("1732147200", "b1f3c2d4");
        let signature = signature::sign(timestamp, nonce, &key, body.as_bytes());
        return request
            .header("X-Lark-Request-Timestamp", timestamp)
            .header("X-Lark-Request-Nonce", nonce)
            .header("X-Lark-Signature", &signature);
    }
    request
}

fn challenge(value: &str) -> Value {
    json!({"challenge": value, "type": "url_verification"})
}

fn events() -> Vec<(&'static str, Value, u16)> {
    let envelope =
        |path: &str| serde_json::from_str::<Value>(&sample(path)).expect("a JSON sample");
    vec![
        (
            "rest-v1-feishu-department-updated.json",
            platform_request(
                "/prod/feishu",
                envelope("feishu/corehr.department.updated_v2.json"),
            )
            .event(Format::RestV1, true),
            200,
        ),
        (
            "http-v2-feishu-challenge.json",
            platform_request("/feishu", challenge("demo-challenge")).event(Format::HttpV2, false),
            200,
        ),
        (
            "http-v2-feilian-department-update.json",
            platform_request("/feilian", envelope("feilian/department.v1.update.json"))
                .event(Format::HttpV2, true),
            200,
        ),
        (
            "function-url-feilian-challenge.json",
            platform_request("/feilian", challenge("demo-challenge"))
                .event(Format::FunctionUrl, false),
            200,
        ),
    ]
}

#[tokio::test]
async fn the_committed_api_gateway_events_are_accepted_with_the_demo_secrets() {
    let dir = format!("{}/events/apigw", env!("CARGO_MANIFEST_DIR"));
    if std::env::var("REGENERATE_EVENTS").is_ok() {
        for (name, event, _) in events() {
            let text = serde_json::to_string_pretty(&event).expect("JSON") + "\n";
            std::fs::write(format!("{dir}/{name}"), text).expect("events/apigw is writable");
        }
    }
    let Setup { client, queue } = setup(false).await;
    let mut vars = vec![("QUEUE_URL", queue.as_str()), REPLAY_WINDOW];
    vars.extend(DEMO);
    let app = app(&client, &vars);
    for (name, expected, status) in events() {
        let file = format!("{dir}/{name}");
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("the event file exists"))
                .expect("the event file is JSON");
        assert_eq!(
            committed, expected,
            "{name} is out of date: run REGENERATE_EVENTS=1 make test"
        );
        let answer = invoke(&app, committed).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
    }
    // Without the wide window, the relay refuses the two fixed-time events as replays.
    let mut vars = vec![("QUEUE_URL", queue.as_str())];
    vars.extend(DEMO);
    let default_window = common::app(&client, &vars);
    for (name, expected, _) in events() {
        let answer = invoke(&default_window, expected).await;
        let challenge = name.contains("challenge");
        assert_eq!(
            (answer.status, answer.error_code()),
            if challenge {
                (200, String::new())
            } else {
                (401, "stale_request".to_owned())
            },
            "{name}: {}",
            answer.body
        );
    }
    assert_eq!(
        drain(&client, &queue).await.len(),
        2,
        "the two events were enqueued"
    );
}

/// The README's command, as written there: `cargo lambda invoke --data-file` with each
/// committed event, against the relay binary running under cargo-lambda's emulator.
#[tokio::test]
async fn cargo_lambda_invoke_with_each_event_file_gets_a_200() {
    let Setup { client, queue } = setup(false).await;
    let mut vars = vec![REPLAY_WINDOW];
    vars.extend(DEMO);
    let mut stack = LocalStack::start(&queue, &vars);
    let port = stack.emulator.port.to_string();
    let cargo_lambda = format!("{}/.venv/bin/cargo-lambda", env!("CARGO_MANIFEST_DIR"));
    let invoke = |name: &str| {
        std::process::Command::new(&cargo_lambda)
            .args([
                "lambda",
                "invoke",
                "org-change-relay",
                "-A",
                "127.0.0.1",
                "-P",
                &port,
            ])
            .args(["--data-file", &format!("events/apigw/{name}")])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo-lambda runs")
    };
    for (name, _, status) in events() {
        let output = stack.until(std::time::Duration::from_secs(60), || {
            let output = invoke(name);
            output.status.success().then_some(output)
        });
        let response: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "{name}: not a JSON response ({err}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        });
        assert_eq!(response["statusCode"], status, "{name}: {response}");
    }
    assert_eq!(
        drain(&client, &queue).await.len(),
        2,
        "the two events were enqueued"
    );
}
