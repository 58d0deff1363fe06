//! API Gateway events that lambda_http (1.3) cannot turn into an HTTP request: it
//! panics before any handler runs, and API Gateway would answer 502 with no body.
//! The relay's `handle_event` answers each with a JSON 400 in the event's format.

mod common;

use common::*;
use serde_json::{Value, json};

/// A well-formed, encrypted Feilian event: only the spoiled part of each case below
/// is wrong with it.
fn request(path: &str) -> HttpRequest {
    let mut request = feilian_event(&sample("feilian/department.v1.update.json"));
    request.path = path.to_owned();
    request
}

/// The three inputs, in `format`: (what is wrong, the event).
fn unreadable(format: Format) -> Vec<(&'static str, Value)> {
    let mut not_base64 = request("/feilian").event(format, true);
    not_base64["body"] = json!("this is not base64!");

    let bad_host = request("/feilian")
        .header("Host", "a b")
        .event(format, false);

    let long = format!("/{}/feilian", "p".repeat(100 * 1024));
    let long_path = request(&long).event(format, false);

    vec![
        ("a body marked base64 that is not", not_base64),
        ("Host: a b", bad_host),
        ("a 100 KB path", long_path),
    ]
}

const FORMATS: [Format; 3] = [Format::RestV1, Format::HttpV2, Format::FunctionUrl];

#[tokio::test]
async fn lambda_http_alone_panics_on_each_of_them() {
    // The reason for the guard: the bare adapter, as `lambda_http::run` uses it.
    // If this fails, lambda_http no longer panics on that input: the guard may go.
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    for format in FORMATS {
        for (case, event) in unreadable(format) {
            match invoke_bare_adapter(&app, event).await {
                Err(panic) => assert!(!panic.is_empty(), "{format:?}, {case}"),
                Ok(answer) => panic!(
                    "{format:?}, {case}: lambda_http no longer panics; it answered {}",
                    answer.status
                ),
            }
        }
    }
}

#[tokio::test]
async fn the_relay_answers_each_with_a_json_400_in_the_events_own_format() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    for format in FORMATS {
        for (case, event) in unreadable(format) {
            let answer = invoke(&app, event).await;
            let context = format!("{format:?}, {case}: {}", answer.response);
            assert_eq!(answer.status, 400, "{context}");
            assert_eq!(answer.content_type, "application/json", "{context}");
            assert_eq!(answer.error_code(), "unreadable_request", "{context}");
            let message = answer.json()["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(message.contains("could not be read"), "{context}");
            // REST APIs get a v1 response (headers under `multiValueHeaders`), HTTP
            // APIs and Function URLs a v2 one (headers under `headers`, and `cookies`).
            let v1 = answer.response["multiValueHeaders"]["content-type"].is_array();
            let v2 = answer.response["headers"]["content-type"].is_string()
                && answer.response.get("cookies").is_some();
            assert_eq!(
                (v1, v2),
                (format == Format::RestV1, format != Format::RestV1),
                "{context}"
            );
        }
    }
    assert!(drain(&client, &queue).await.is_empty());

    // The same events, readable, are relayed: only the spoiled part was at fault.
    for format in FORMATS {
        let answer = invoke(&app, request("/feilian").event(format, true)).await;
        assert_eq!(answer.status, 200, "{format:?}: {}", answer.body);
    }
    assert_eq!(drain(&client, &queue).await.len(), FORMATS.len());
}

/// The relay binary under cargo-lambda's emulator, invoked with each event: the
/// runtime loop in `main` answers them, and goes on to answer the next one.
#[tokio::test]
async fn the_relay_binary_answers_them_400_and_keeps_serving() {
    let Setup { client, queue } = setup(false).await;
    let mut vars = vec![];
    vars.extend(SECRETS);
    let mut stack = LocalStack::start(&queue, &vars);
    let port = stack.emulator.port.to_string();
    let cargo_lambda = format!("{}/.venv/bin/cargo-lambda", env!("CARGO_MANIFEST_DIR"));
    let folder = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let invoke = |name: &str, event: &Value| {
        let file = folder.join(format!("unreadable-{}-{name}.json", std::process::id()));
        std::fs::write(&file, event.to_string()).expect("the scratch folder is writable");
        let output = std::process::Command::new(&cargo_lambda)
            .args(["lambda", "invoke", Emulator::FUNCTION, "-A", "127.0.0.1"])
            .args(["-P", &port, "--data-file"])
            .arg(&file)
            .output()
            .expect("cargo-lambda runs");
        let _ = std::fs::remove_file(&file);
        output
    };
    let readable = request("/feilian").event(Format::HttpV2, true);
    let status = |output: &std::process::Output, case: &str| -> Value {
        assert!(
            output.status.success(),
            "{case}: the invocation failed (an error, not an answer): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "{case}: not a JSON response ({err}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    };
    // Once the relay answers a readable event, it is up.
    let first = stack.until(std::time::Duration::from_secs(60), || {
        let output = invoke("first", &readable);
        output.status.success().then_some(output)
    });
    assert_eq!(status(&first, "readable")["statusCode"], 200);
    for (n, (case, event)) in unreadable(Format::HttpV2).into_iter().enumerate() {
        let response = status(&invoke(&n.to_string(), &event), case);
        assert_eq!(response["statusCode"], 400, "{case}: {response}");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap_or_default())
            .unwrap_or_else(|_| panic!("{case}: a JSON body: {response}"));
        assert_eq!(body["error"], "unreadable_request", "{case}: {response}");
    }
    let last = status(&invoke("last", &readable), "readable, after them");
    assert_eq!(last["statusCode"], 200, "{last}");
    assert_eq!(drain(&client, &queue).await.len(), 2);
    // Each logged once, by its request's line, which says where the conversion
    // stopped: the panic hook writes nothing for a panic `handle_event` caught, where
    // the default one printed `thread 'main' panicked at …` and lambda_http's parse
    // error.
    let output = stack.relay_output();
    let rejected: Vec<&str> = output
        .lines()
        .filter(|line| line.contains("request rejected") && line.contains("unreadable_request"))
        .collect();
    assert_eq!(rejected.len(), unreadable(Format::HttpV2).len(), "{output}");
    for line in rejected {
        assert!(
            line.contains("conversion_stopped_at") && line.contains(".rs:"),
            "{line}"
        );
    }
    assert!(!output.contains("panicked"), "{output}");
}
