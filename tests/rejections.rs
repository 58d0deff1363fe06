//! Every request the relay must refuse: the status, the error code, a JSON body,
//! and nothing on the queue. The real `lambda_http` adapter runs over a
//! [`MemoryQueue`], so these tests need no SQS server: a plain `cargo test` runs them.

mod common;

use common::*;
use org_change_relay::http::App;
use org_change_relay::queue::memory::MemoryQueue;
use serde_json::json;

/// Sends `request` and checks the refusal, its JSON error body, and that nothing
/// reached the queue: no message kept, not even a call made.
async fn assert_refused(
    app: &App<MemoryQueue>,
    request: &HttpRequest,
    status: u16,
    code: &str,
) -> String {
    let answer = send(app, request).await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (status, code),
        "{}",
        answer.body
    );
    assert_eq!(answer.content_type, "application/json");
    let message = answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!message.is_empty(), "a clear sentence for {code}");
    assert!(app.queue.is_empty(), "nothing enqueued for {code}");
    assert!(
        app.queue.calls().is_empty(),
        "the queue not called for {code}"
    );
    message
}

fn department_event() -> String {
    sample("feishu/corehr.department.updated_v2.json")
}

/// The control for every test below: the same harness and queue keep a request
/// that is accepted, so an empty queue after a refusal means something.
#[tokio::test]
async fn the_same_harness_enqueues_an_accepted_request() {
    let app = encrypted_memory_app();
    let answer = send(&app, &feishu_event(&department_event())).await;
    assert_eq!(
        (answer.status, answer.json()["enqueued"].clone()),
        (200, json!(1))
    );
    let stored = app.queue.messages();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, "feishu:5e3702a84e847582be8db7fb73283c02");
    assert_eq!(
        stored[0].attributes["event_type"],
        "corehr.department.updated_v2"
    );
    let violations = schema_violations(&message_validator(), &stored[0].json());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = memory_app(&[
        ("FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN),
        ("MAX_BODY_BYTES", "64"),
    ]);
    let message = assert_refused(
        &app,
        &HttpRequest::post("/feishu", department_event()),
        413,
        "body_too_large",
    )
    .await;
    assert!(message.contains("MAX_BODY_BYTES"), "{message}");
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_400() {
    let app = encrypted_memory_app();
    for body in ["", "not json", "[1,2]", "\"encrypt\"", "{\"encrypt\": "] {
        assert_refused(
            &app,
            &HttpRequest::post("/feilian", body),
            400,
            "invalid_json",
        )
        .await;
    }
    let binary = HttpRequest::post("/feilian", vec![0xff, 0xfe, b'{']);
    let answer = invoke(&app, binary.event(Format::HttpV2, true)).await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (400, "invalid_json")
    );
    assert!(app.queue.is_empty() && app.queue.calls().is_empty());
}

#[tokio::test]
async fn an_encrypted_body_without_a_configured_key_is_400_naming_the_variable() {
    let app = memory_app(&[("FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN)]);
    let request = feishu_event(&department_event());
    let message = assert_refused(&app, &request, 400, "encrypt_key_missing").await;
    assert!(message.contains("FEISHU_ENCRYPT_KEY"), "{message}");
}

#[tokio::test]
async fn a_body_that_cannot_be_decrypted_is_400_whatever_the_cause() {
    let app = encrypted_memory_app();
    let undecryptable = [
        json!({"encrypt": "%%% not base64 %%%"}).to_string(),
        json!({"encrypt": "AAAA"}).to_string(),
        encrypt("the wrong key", &department_event()),
        encrypt(FEILIAN_KEY, "decrypts, but is not JSON"),
    ];
    for body in &undecryptable {
        // Feilian signs nothing: every cause gets the same answer (no padding oracle).
        assert_refused(
            &app,
            &HttpRequest::post("/feilian", body.clone()),
            400,
            "undecryptable",
        )
        .await;
    }
    // Feishu: a correctly signed body that does not decrypt is the sender's mistake.
    let signed_garbage = feishu_signed(&undecryptable[2], FEISHU_KEY);
    let message = assert_refused(&app, &signed_garbage, 400, "undecryptable").await;
    assert!(message.contains("FEISHU_ENCRYPT_KEY"), "{message}");
}

#[tokio::test]
async fn a_plaintext_body_when_a_key_is_configured_is_401_even_the_challenge() {
    let app = encrypted_memory_app();
    let challenge =
        json!({"challenge": "c", "token": FEISHU_TOKEN, "type": "url_verification"}).to_string();
    assert_refused(
        &app,
        &HttpRequest::post("/feishu", challenge),
        401,
        "plaintext_refused",
    )
    .await;
    let signed_plaintext = feishu_signed(&department_event(), FEISHU_KEY);
    assert_refused(&app, &signed_plaintext, 401, "plaintext_refused").await;
    let feilian = sample("feilian/department.v1.update.json");
    assert_refused(
        &app,
        &HttpRequest::post("/feilian", feilian),
        401,
        "plaintext_refused",
    )
    .await;
}

#[tokio::test]
async fn a_feishu_event_without_signature_headers_is_401() {
    let app = encrypted_memory_app();
    let unsigned = HttpRequest::post("/feishu", encrypt(FEISHU_KEY, &department_event()));
    assert_refused(&app, &unsigned, 401, "missing_signature").await;
    // Two of the three headers are not a signature either.
    let mut partial = feishu_event(&department_event());
    partial
        .headers
        .retain(|(name, _)| name != "X-Lark-Request-Nonce");
    assert_refused(&app, &partial, 401, "missing_signature").await;
}

#[tokio::test]
async fn a_wrong_signature_is_401_checked_before_decrypting() {
    let app = encrypted_memory_app();
    let body = encrypt(FEISHU_KEY, &department_event());
    assert_refused(
        &app,
        &feishu_signed(&body, "another key"),
        401,
        "bad_signature",
    )
    .await;
    // The signature covers the raw body: re-serializing it (an added space) breaks it.
    let mut reserialized = feishu_signed(&body, FEISHU_KEY);
    reserialized.body = body.replacen(':', ": ", 1).into_bytes();
    assert_refused(&app, &reserialized, 401, "bad_signature").await;
    // Garbage that would not even decrypt is refused for its signature, not its padding.
    let garbage = json!({"encrypt": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}).to_string();
    assert_refused(
        &app,
        &feishu_signed(&garbage, "another key"),
        401,
        "bad_signature",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_401() {
    let app = encrypted_memory_app();
    let wrong = department_event().replace(FEISHU_TOKEN, "not-the-token");
    let message = assert_refused(&app, &feishu_event(&wrong), 401, "bad_token").await;
    assert!(
        message.contains("FEISHU_VERIFICATION_TOKEN") && !message.contains("not-the-token"),
        "{message}"
    );
    let challenge =
        json!({"challenge": "c", "token": "nope", "type": "url_verification"}).to_string();
    assert_refused(
        &app,
        &HttpRequest::post("/feishu", encrypt(FEISHU_KEY, &challenge)),
        401,
        "bad_token",
    )
    .await;
    let tokenless = json!({"challenge": "c", "type": "url_verification"}).to_string();
    assert_refused(&app, &feilian_event(&tokenless), 401, "bad_token").await;
    let feilian = sample("feilian/department.v1.update.json").replace(FEILIAN_TOKEN, "token-tesT");
    assert_refused(&app, &feilian_event(&feilian), 401, "bad_token").await;

    // Without an Encrypt Key the token is the only check, and it is still made.
    let plain_app = memory_app(&[("FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN)]);
    assert_refused(
        &plain_app,
        &HttpRequest::post("/feishu", wrong),
        401,
        "bad_token",
    )
    .await;
}

#[tokio::test]
async fn an_envelope_of_the_wrong_shape_is_400() {
    let app = encrypted_memory_app();
    let no_header = json!({"schema": "2.0", "event": {"department_id": "1"}}).to_string();
    assert_refused(&app, &feishu_event(&no_header), 400, "malformed_envelope").await;
    let no_event_id = department_event().replace("\"event_id\"", "\"eventid\"");
    assert_refused(&app, &feishu_event(&no_event_id), 400, "malformed_envelope").await;
    let feilian_no_data = json!({"schema": "1.0", "header": {"event_id": "e", "event_type": "department.v1.update", "token": FEILIAN_TOKEN}}).to_string();
    assert_refused(
        &app,
        &feilian_event(&feilian_no_data),
        400,
        "malformed_envelope",
    )
    .await;
}

#[tokio::test]
async fn a_known_event_type_with_a_malformed_body_is_400() {
    let app = encrypted_memory_app();
    let no_department = department_event().replace("\"department_id\"", "\"dept\"");
    let message = assert_refused(&app, &feishu_event(&no_department), 400, "malformed_event").await;
    assert!(
        message.contains("corehr.department.updated_v2") && message.contains("department_id"),
        "{message}"
    );
    let bad_fields = department_event().replace("[\n      \"manager\"\n    ]", "\"manager\"");
    assert_ne!(
        bad_fields,
        department_event(),
        "the sample has field_changes as a list"
    );
    assert_refused(&app, &feishu_event(&bad_fields), 400, "malformed_event").await;
    let events_not_a_list = sample("feilian/department.v1.update.json")
        .replace("\"events\": [", "\"events\": {\"x\": [")
        .replace("]\n  }\n}", "]}\n  }\n}");
    assert_refused(
        &app,
        &feilian_event(&events_not_a_list),
        400,
        "malformed_event",
    )
    .await;
    // One bad entry refuses the whole request: no half-enqueued batch.
    let one_bad_entry = sample("feilian/department.v1.create.json")
        .replace("\"open_id\": \"od_Ef56Gh78xxxx\"", "\"open\": 1");
    assert_refused(&app, &feilian_event(&one_bad_entry), 400, "malformed_event").await;
}

#[tokio::test]
async fn unknown_routes_disabled_sources_and_other_methods_are_404_and_405() {
    let app = memory_app(&[("FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN)]);
    assert_refused(&app, &HttpRequest::post("/lark", "{}"), 404, "not_found").await;
    assert_refused(
        &app,
        &HttpRequest::post("/feishu/extra", "{}"),
        404,
        "not_found",
    )
    .await;
    let message = assert_refused(
        &app,
        &HttpRequest::post("/feilian", "{}"),
        404,
        "source_disabled",
    )
    .await;
    assert!(message.contains("FEILIAN_VERIFICATION_TOKEN"), "{message}");
    let mut get = HttpRequest::post("/feishu", "");
    get.method = "GET";
    assert_refused(&app, &get, 405, "method_not_allowed").await;
}
