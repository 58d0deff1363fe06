//! Every request the relay must refuse: the status, the error code, a JSON body,
//! and nothing on the queue. The real `lambda_http` adapter runs over a
//! [`MemoryQueue`], so these tests need no SQS server: a plain `cargo test` runs them.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::memory_queue::MemoryQueue;
use common::*;
use org_change_core::{EncryptKey, cipher};
use org_change_relay::http::App;
use serde_json::{Value, json};

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

/// Not a refusal: a verified Feilian request whose `data.events` is empty reports no
/// change, so there is nothing to enqueue and nothing lost. It is answered 200, and
/// the queue is not called (SQS refuses an empty batch).
#[tokio::test]
async fn a_feilian_request_without_changes_is_200_and_calls_no_queue() {
    let app = encrypted_memory_app();
    let mut envelope: serde_json::Value =
        serde_json::from_str(&sample("feilian/department.v1.update.json")).unwrap();
    envelope["data"]["events"] = json!([]);
    let answer = send(&app, &feilian_event(&envelope.to_string())).await;
    assert_eq!(
        (answer.status, answer.json()["enqueued"].clone()),
        (200, json!(0)),
        "{}",
        answer.body
    );
    assert!(app.queue.calls().is_empty());
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
async fn a_body_that_cannot_be_decrypted_is_401_whatever_the_cause() {
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
            401,
            "undecryptable",
        )
        .await;
    }
    // Feishu: a correctly signed body that does not decrypt comes from a sender that
    // holds the key and sent something broken: 400 with the cause (no oracle).
    let signed_garbage = feishu_signed(&undecryptable[2], FEISHU_KEY);
    let message = assert_refused(&app, &signed_garbage, 400, "malformed_envelope").await;
    assert!(message.contains("does not decrypt"), "{message}");
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
    // Without a signature the shape is not told apart from a failed decryption
    // (see `unauthenticated_ciphertext_gets_one_answer_for_every_failure`).
    assert_refused(&app, &feilian_event(&feilian_no_data), 401, "undecryptable").await;
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
    // A CORS preflight (OPTIONS) included: on Lambda the relay sees it and refuses it.
    for method in ["GET", "OPTIONS", "PUT"] {
        let mut request = HttpRequest::post("/feishu", "");
        request.method = method;
        assert_refused(&app, &request, 405, "method_not_allowed").await;
    }
}

/// The relay's clock in the replay-window tests: 2025-11-30T10:53:20Z.
const NOW: u64 = 1_764_500_000;

fn frozen_clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// `NOW + offset` seconds, as an `X-Lark-Request-Timestamp`.
fn at(offset: i64) -> String {
    NOW.checked_add_signed(offset).unwrap().to_string()
}

/// A schema 1.0 Feishu event (legacy envelope), with the test token.
fn schema_1_event() -> String {
    json!({"ts": "1502199207.7171419", "uuid": "u-1", "token": FEISHU_TOKEN, "type": "event_callback",
           "event": {"type": "corehr.department.created_v1", "department_id": "7043711774159341102"}})
    .to_string()
}

#[tokio::test]
async fn a_replayed_feishu_request_is_401_stale_request_in_both_schemas() {
    let mut app = encrypted_memory_app();
    app.clock = frozen_clock;
    let forty = "1".repeat(40);
    let now = at(0);
    for plaintext in [department_event(), schema_1_event()] {
        let body = encrypt(FEISHU_KEY, &plaintext);
        for timestamp in [
            at(-30 * 86_400), // captured 30 days ago
            "0".to_owned(),
            format!("+{now}"),
            format!(" {now}"),
            format!("{now}.5"),
            String::new(),
            forty.clone(),
            at(301),
            at(-86_401),
        ] {
            let request = feishu_signed_at(&body, FEISHU_KEY, &timestamp, "nonce-42");
            let message = assert_refused(&app, &request, 401, "stale_request").await;
            assert!(message.contains("replay"), "{timestamp:?}: {message}");
        }
        // The signature hashes timestamp + nonce: moving a digit across keeps it valid.
        let signed = feishu_signed_at(&body, FEISHU_KEY, &now, "42");
        let signature = signed
            .headers
            .iter()
            .find(|(name, _)| name == "X-Lark-Signature")
            .map(|(_, value)| value.clone())
            .unwrap();
        for (timestamp, nonce) in [
            (format!("{now}4"), "2".to_owned()),
            (
                now[..now.len() - 1].to_owned(),
                format!("{}42", &now[now.len() - 1..]),
            ),
        ] {
            let moved = HttpRequest::post("/feishu", body.clone())
                .header("X-Lark-Request-Timestamp", &timestamp)
                .header("X-Lark-Request-Nonce", &nonce)
                .header("X-Lark-Signature", &signature);
            assert_refused(&app, &moved, 401, "stale_request").await;
        }
    }
}

#[tokio::test]
async fn an_encrypted_feilian_event_outside_the_window_is_401_stale_request() {
    let mut app = encrypted_memory_app();
    app.clock = frozen_clock;
    let sample = sample("feilian/department.v1.update.json");
    for millis in [
        (NOW - 30 * 86_400) * 1000,
        0,
        (NOW - 86_401) * 1000,
        (NOW + 301) * 1000,
    ] {
        assert_refused(
            &app,
            &feilian_encrypted(&dated(&sample, millis)),
            401,
            "stale_request",
        )
        .await;
    }
}

/// Every encrypted body that no signature authenticates and that does not become the
/// platform's envelope: (what it is, the body).
fn unauthenticated_failures(
    key: &str,
    envelope_without_event_id: Value,
) -> Vec<(&'static str, String)> {
    let sealed = |plaintext: &[u8]| {
        json!({"encrypt": cipher::encrypt(&EncryptKey::new(key), plaintext, [5; 16])}).to_string()
    };
    let mut bad_padding = STANDARD
        .decode(cipher::encrypt(&EncryptKey::new(key), b"{}", [5; 16]))
        .unwrap();
    // The last IV byte flips the only block's last padding byte.
    bad_padding[15] ^= 1;
    vec![
        (
            "bad base64",
            json!({"encrypt": "%%% not base64 %%%"}).to_string(),
        ),
        (
            "bad padding",
            json!({"encrypt": STANDARD.encode(&bad_padding)}).to_string(),
        ),
        ("non-UTF-8 plaintext", sealed(&[0xff, 0xfe, b'{', b'}'])),
        ("non-JSON plaintext", sealed(b"hello world")),
        ("a JSON array", sealed(b"[1, 2]")),
        ("an object of the wrong shape", sealed(br#"{"a": 1}"#)),
        (
            "a header without event_id",
            sealed(envelope_without_event_id.to_string().as_bytes()),
        ),
    ]
}

#[tokio::test]
async fn unauthenticated_ciphertext_gets_one_answer_for_every_failure() {
    let app = encrypted_memory_app();
    for (path, key, no_event_id) in [
        (
            "/feilian",
            FEILIAN_KEY,
            json!({"schema": "1.0", "header": {"event_type": "department.v1.update", "token": FEILIAN_TOKEN}, "data": {"events": []}}),
        ),
        // Feishu without signature headers: decrypted only to find the challenge.
        (
            "/feishu",
            FEISHU_KEY,
            json!({"schema": "2.0", "header": {"event_type": "corehr.department.updated_v2", "token": FEISHU_TOKEN}, "event": {}}),
        ),
    ] {
        let mut answers = Vec::new();
        for (what, body) in unauthenticated_failures(key, no_event_id) {
            let answer = send(&app, &HttpRequest::post(path, body)).await;
            answers.push((what, answer.status, answer.content_type, answer.body));
        }
        let (_, status, content_type, body) = &answers[0];
        assert_eq!((*status, content_type.as_str()), (401, "application/json"));
        assert_eq!(
            serde_json::from_str::<Value>(body).unwrap()["error"],
            "undecryptable"
        );
        for (what, other_status, other_type, other_body) in &answers {
            assert_eq!(
                (other_status, other_type, other_body),
                (status, content_type, body),
                "{path}: {what}"
            );
        }
    }
    assert!(app.queue.is_empty() && app.queue.calls().is_empty());
}

#[tokio::test]
async fn a_signed_feishu_body_of_the_wrong_shape_keeps_malformed_envelope() {
    // Only the key holder can sign: the detail tells an attacker nothing.
    let app = encrypted_memory_app();
    let message = assert_refused(
        &app,
        &feishu_event(r#"{"a": 1}"#),
        400,
        "malformed_envelope",
    )
    .await;
    assert!(message.contains("expected a schema 2.0"), "{message}");
}

#[tokio::test]
async fn the_feilian_only_outer_forms_stay_refused_for_feishu_and_plaintext_data_is_no_downgrade() {
    let app = encrypted_memory_app();
    let challenge =
        json!({"challenge": "c", "token": FEISHU_TOKEN, "type": "url_verification"}).to_string();
    let ciphertext = cipher::encrypt(&EncryptKey::new(FEISHU_KEY), challenge.as_bytes(), [1; 16]);
    let nested = json!({"data": {"encrypt": ciphertext}}).to_string();
    assert_refused(
        &app,
        &HttpRequest::post("/feishu", nested),
        401,
        "plaintext_refused",
    )
    .await;
    let bare = HttpRequest::octet_stream("/feishu", ciphertext.clone());
    let answer = invoke(&app, bare.event(Format::HttpV2, true)).await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (400, "invalid_json"),
        "{}",
        answer.body
    );
    // Feilian with a key: a plaintext `{"data": ...}` body is not encrypted.
    for body in [
        dated(&sample("feilian/department.v1.update.json"), now_millis()),
        json!({"data": {"challenge": "c", "token": FEILIAN_TOKEN, "type": "url_verification"}})
            .to_string(),
        json!({"data": {"encrypt": null}}).to_string(),
    ] {
        assert_refused(
            &app,
            &HttpRequest::post("/feilian", body),
            401,
            "plaintext_refused",
        )
        .await;
    }
    // ... but a nested `encrypt` that is not a string is not plaintext either.
    assert_refused(
        &app,
        &HttpRequest::post("/feilian", json!({"data": {"encrypt": 5}}).to_string()),
        400,
        "malformed_envelope",
    )
    .await;
}
