//! Every refusal the core makes, one table row per way to get it: the variant (with
//! its platform or event type), its stable code, and a message that gives away no
//! secret. The row's name says what was sent.

mod common;

use common::*;
use org_change_core::window::Staleness;
use org_change_core::{Delivery, Rejection, Setting, Source};
use serde_json::{Value, json};

/// A sample of `events/`, edited.
fn edited(source: Source, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(&sample(source, name)).expect("a JSON sample");
    edit(&mut value);
    value.to_string()
}

fn feishu_event() -> String {
    sample(Source::Feishu, "corehr.department.updated_v2")
}

fn feilian_event() -> String {
    sample(Source::Feilian, "department.v1.update")
}

/// The secrets the tests use: no rejection message may contain one.
const SECRETS: [&str; 6] = [
    FEISHU_TOKEN,
    FEISHU_KEY,
    FEILIAN_TOKEN,
    FEILIAN_KEY,
    "not-the-token",
    "another key",
];

/// Whether `actual` is `expected`, detail included; not compared: a malformed event's
/// id (the rows name none) and `undecryptable`'s cause (for the debug log only: its
/// answer is the same for every cause, which the rows check through `to_string`).
fn same_rejection(actual: &Rejection, expected: &Rejection) -> bool {
    match (actual, expected) {
        (
            Rejection::MalformedEvent {
                event_type: a,
                detail: detail_a,
                ..
            },
            Rejection::MalformedEvent {
                event_type: b,
                detail: detail_b,
                ..
            },
        ) => (a, detail_a) == (b, detail_b),
        (
            Rejection::Undecryptable { platform: a, .. },
            Rejection::Undecryptable { platform: b, .. },
        ) => a == b,
        _ => actual == expected,
    }
}

fn malformed_envelope(platform: Source, detail: &'static str) -> Rejection {
    Rejection::MalformedEnvelope { platform, detail }
}

fn undecryptable(platform: Source) -> Rejection {
    Rejection::Undecryptable {
        platform,
        cause: "",
    }
}

fn malformed_event(event_type: &str, detail: &'static str) -> Rejection {
    Rejection::MalformedEvent {
        event_type: event_type.into(),
        event_id: String::new(),
        detail,
    }
}

#[test]
fn every_refusal_has_its_variant_and_code() {
    use Source::{Feilian, Feishu};
    // (what is sent, endpoint, request, expected rejection, its code)
    let rows: Vec<(&str, _, Request, Rejection, &str)> = vec![
        // invalid_json: not UTF-8 text holding one JSON object, checked first.
        (
            "feishu plaintext that is not JSON",
            plain_endpoint(Feishu),
            Request::plain("not json"),
            Rejection::InvalidJson,
            "invalid_json",
        ),
        (
            "feishu JSON array at a keyed endpoint",
            keyed_endpoint(Feishu),
            Request::plain("[1,2]"),
            Rejection::InvalidJson,
            "invalid_json",
        ),
        (
            "feilian body that is not UTF-8",
            keyed_endpoint(Feilian),
            Request::plain(vec![0xff, 0xfe, b'{']),
            Rejection::InvalidJson,
            "invalid_json",
        ),
        (
            "feilian truncated encrypt object",
            keyed_endpoint(Feilian),
            Request::plain(r#"{"encrypt": "#),
            Rejection::InvalidJson,
            "invalid_json",
        ),
        (
            "feilian empty body",
            plain_endpoint(Feilian),
            Request::plain(""),
            Rejection::InvalidJson,
            "invalid_json",
        ),
        // encrypt_key_missing: ciphertext at an endpoint without a key.
        (
            "feishu encrypted and signed, endpoint without a key",
            plain_endpoint(Feishu),
            Request::encrypted_signed(FEISHU_KEY, &feishu_event()),
            Rejection::EncryptKeyMissing { platform: Feishu },
            "encrypt_key_missing",
        ),
        (
            "feilian encrypted, endpoint without a key",
            plain_endpoint(Feilian),
            Request::encrypted(FEILIAN_KEY, &feilian_event()),
            Rejection::EncryptKeyMissing { platform: Feilian },
            "encrypt_key_missing",
        ),
        // undecryptable: one answer for every cause (no padding oracle).
        (
            "feilian encrypted with another key",
            keyed_endpoint(Feilian),
            Request::encrypted("another key", &feilian_event()),
            undecryptable(Feilian),
            "undecryptable",
        ),
        (
            "feilian encrypt value that is not base64",
            keyed_endpoint(Feilian),
            Request::plain(json!({"encrypt": "%%% not base64 %%%"}).to_string()),
            undecryptable(Feilian),
            "undecryptable",
        ),
        (
            "feilian encrypt value shorter than an IV and a block",
            keyed_endpoint(Feilian),
            Request::plain(json!({"encrypt": "AAAA"}).to_string()),
            undecryptable(Feilian),
            "undecryptable",
        ),
        (
            "feilian ciphertext that decrypts to text that is not JSON",
            keyed_endpoint(Feilian),
            Request::encrypted(FEILIAN_KEY, "decrypts, but is not JSON"),
            undecryptable(Feilian),
            "undecryptable",
        ),
        (
            "feishu correctly signed, encrypted with another key",
            keyed_endpoint(Feishu),
            Request::encrypted("another key", &feishu_event()).signed(FEISHU_KEY),
            malformed_envelope(Feishu, "the ciphertext does not decrypt with the key (bad PKCS#7 padding)"),
            "malformed_envelope",
        ),
        // plaintext_refused: no downgrade when a key is configured.
        (
            "feishu plaintext event, correctly signed, at a keyed endpoint",
            keyed_endpoint(Feishu),
            Request::plain(feishu_event()).signed(FEISHU_KEY),
            Rejection::PlaintextRefused { platform: Feishu },
            "plaintext_refused",
        ),
        (
            "feilian plaintext event at a keyed endpoint",
            keyed_endpoint(Feilian),
            Request::plain(feilian_event()),
            Rejection::PlaintextRefused { platform: Feilian },
            "plaintext_refused",
        ),
        // missing_signature: a Feishu event at a keyed endpoint must be signed.
        (
            "feishu encrypted event without signature headers",
            keyed_endpoint(Feishu),
            Request::encrypted(FEISHU_KEY, &feishu_event()),
            Rejection::MissingSignature,
            "missing_signature",
        ),
        // bad_signature: checked over the raw body, before decrypting.
        (
            "feishu encrypted event signed with another key",
            keyed_endpoint(Feishu),
            Request::encrypted(FEISHU_KEY, &feishu_event()).signed("another key"),
            Rejection::BadSignature,
            "bad_signature",
        ),
        (
            "feishu undecryptable garbage signed with another key",
            keyed_endpoint(Feishu),
            Request::plain(json!({"encrypt": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}).to_string())
                .signed("another key"),
            Rejection::BadSignature,
            "bad_signature",
        ),
        (
            "feishu signature header that is not hex",
            keyed_endpoint(Feishu),
            Request::encrypted(FEISHU_KEY, &feishu_event()).with_headers("1700000000", "n", "zz"),
            Rejection::BadSignature,
            "bad_signature",
        ),
        (
            "feishu signed body re-serialized on the way (one added space)",
            keyed_endpoint(Feishu),
            {
                let signed = Request::encrypted_signed(FEISHU_KEY, &feishu_event());
                let body = String::from_utf8(signed.body.clone()).unwrap();
                Request {
                    body: body.replacen(':', ": ", 1).into_bytes(),
                    ..signed
                }
            },
            Rejection::BadSignature,
            "bad_signature",
        ),
        // bad_token: checked on every request, with or without a key.
        (
            "feishu plaintext event with another token",
            plain_endpoint(Feishu),
            Request::plain(feishu_event().replace(FEISHU_TOKEN, "not-the-token")),
            Rejection::BadToken { platform: Feishu },
            "bad_token",
        ),
        (
            "feishu encrypted and signed event with another token",
            keyed_endpoint(Feishu),
            Request::encrypted_signed(
                FEISHU_KEY,
                &feishu_event().replace(FEISHU_TOKEN, "not-the-token"),
            ),
            Rejection::BadToken { platform: Feishu },
            "bad_token",
        ),
        (
            "feishu sample at an endpoint with another token",
            endpoint(Feishu, "not-the-token", None),
            Request::plain(feishu_event()),
            Rejection::BadToken { platform: Feishu },
            "bad_token",
        ),
        (
            "feilian encrypted event without a token",
            keyed_endpoint(Feilian),
            Request::encrypted(
                FEILIAN_KEY,
                &edited(Feilian, "department.v1.update", |v| {
                    v["header"].as_object_mut().unwrap().remove("token");
                }),
            ),
            Rejection::BadToken { platform: Feilian },
            "bad_token",
        ),
        (
            "feilian plaintext event whose token differs in case",
            plain_endpoint(Feilian),
            Request::plain(feilian_event().replace(FEILIAN_TOKEN, "token-tesT")),
            Rejection::BadToken { platform: Feilian },
            "bad_token",
        ),
        (
            "feishu malformed relayed event with another token: the token is checked first",
            plain_endpoint(Feishu),
            Request::plain(edited(Feishu, "corehr.department.updated_v2", |v| {
                v["header"]["token"] = json!("not-the-token");
                v["event"].as_object_mut().unwrap().remove("department_id");
            })),
            Rejection::BadToken { platform: Feishu },
            "bad_token",
        ),
        // malformed_envelope: JSON, but not the platform's envelope.
        (
            "feishu schema 2.0 without a header",
            plain_endpoint(Feishu),
            Request::plain(
                json!({"schema": "2.0", "event": {"department_id": "1"}}).to_string(),
            ),
            malformed_envelope(Feishu, r#"expected a schema 2.0 {"header", "event"}, a schema 1.0 {"type": "event_callback"} or a url_verification object"#),
            "malformed_envelope",
        ),
        (
            "feishu encrypted and signed, header without event_id",
            keyed_endpoint(Feishu),
            Request::encrypted_signed(
                FEISHU_KEY,
                &edited(Feishu, "corehr.department.updated_v2", |v| {
                    v["header"].as_object_mut().unwrap().remove("event_id");
                }),
            ),
            malformed_envelope(Feishu, "header.event_id is missing or empty"),
            "malformed_envelope",
        ),
        (
            "feishu schema 1.0 event_callback without a uuid",
            plain_endpoint(Feishu),
            Request::plain(
                json!({"type": "event_callback", "token": FEISHU_TOKEN, "event": {"type": "x"}})
                    .to_string(),
            ),
            malformed_envelope(Feishu, "schema 1.0 `uuid` is missing or empty"),
            "malformed_envelope",
        ),
        (
            "feilian header without data, plaintext",
            plain_endpoint(Feilian),
            Request::plain(
                json!({"schema": "1.0", "header": {"event_id": "e", "event_type": "department.v1.update", "token": FEILIAN_TOKEN}}).to_string(),
            ),
            malformed_envelope(Feilian, "no `data` object"),
            "malformed_envelope",
        ),
        (
            // Encrypted but not authenticated (Feilian signs nothing): one answer for
            // every failure behind the ciphertext, or it would be an oracle.
            "feilian header without data, encrypted",
            keyed_endpoint(Feilian),
            Request::encrypted(
                FEILIAN_KEY,
                &json!({"schema": "1.0", "header": {"event_id": "e", "event_type": "department.v1.update", "token": FEILIAN_TOKEN}}).to_string(),
            ),
            undecryptable(Feilian),
            "undecryptable",
        ),
        (
            // A JSON object, so not `invalid_json`; nothing was decrypted, so no oracle.
            "feishu encrypt that is not a string, at a keyed endpoint",
            keyed_endpoint(Feishu),
            Request::plain(r#"{"encrypt": 123}"#),
            malformed_envelope(Feishu, "`encrypt` must be a string, and neither `encrypt` nor `data` may appear twice"),
            "malformed_envelope",
        ),
        (
            "feilian encrypt that is not a string, endpoint without a key",
            plain_endpoint(Feilian),
            Request::plain(r#"{"encrypt": ["AAAA"]}"#),
            malformed_envelope(Feilian, "`encrypt` must be a string, and neither `encrypt` nor `data` may appear twice"),
            "malformed_envelope",
        ),
        (
            "feilian encrypt given twice",
            keyed_endpoint(Feilian),
            Request::plain(r#"{"encrypt": "AAAA", "encrypt": "BBBB"}"#),
            malformed_envelope(Feilian, "`encrypt` must be a string, and neither `encrypt` nor `data` may appear twice"),
            "malformed_envelope",
        ),
        (
            "feilian nested encrypt that is not a string, at a keyed endpoint",
            keyed_endpoint(Feilian),
            Request::plain(r#"{"data": {"encrypt": 123}}"#),
            malformed_envelope(Feilian, "`data.encrypt` must be a string, given once"),
            "malformed_envelope",
        ),
        (
            "feilian nested encrypt that is not a string, endpoint without a key",
            plain_endpoint(Feilian),
            Request::plain(r#"{"data": {"encrypt": {}}}"#),
            malformed_envelope(Feilian, "`data.encrypt` must be a string, given once"),
            "malformed_envelope",
        ),
        (
            "feishu data given twice",
            keyed_endpoint(Feishu),
            Request::plain(r#"{"data": {}, "data": {}}"#),
            malformed_envelope(Feishu, "`encrypt` must be a string, and neither `encrypt` nor `data` may appear twice"),
            "malformed_envelope",
        ),
        (
            "feilian header without event_type",
            plain_endpoint(Feilian),
            Request::plain(edited(Feilian, "department.v1.update", |v| {
                v["header"].as_object_mut().unwrap().remove("event_type");
            })),
            malformed_envelope(Feilian, "header.event_type is missing"),
            "malformed_envelope",
        ),
        // malformed_event: a relayed type without what a message needs.
        (
            "feishu department event without department_id",
            keyed_endpoint(Feishu),
            Request::encrypted_signed(
                FEISHU_KEY,
                &edited(Feishu, "corehr.department.updated_v2", |v| {
                    v["event"].as_object_mut().unwrap().remove("department_id");
                }),
            ),
            malformed_event("corehr.department.updated_v2", "event.department_id is missing"),
            "malformed_event",
        ),
        (
            "feishu department event with field_changes not a list",
            plain_endpoint(Feishu),
            Request::plain(edited(Feishu, "corehr.department.updated_v2", |v| {
                v["event"]["field_changes"] = json!("manager");
            })),
            malformed_event("corehr.department.updated_v2", "`event` must be an object with string ids and `field_changes` as a list of strings"),
            "malformed_event",
        ),
        (
            "feishu custom org event without org_id",
            plain_endpoint(Feishu),
            Request::plain(edited(Feishu, "corehr.custom_org.created_v2", |v| {
                v["event"].as_object_mut().unwrap().remove("org_id");
            })),
            malformed_event("corehr.custom_org.created_v2", "event.org_id is missing"),
            "malformed_event",
        ),
        (
            "feishu contact department event whose object is not an object",
            plain_endpoint(Feishu),
            Request::plain(edited(Feishu, "contact.department.updated_v3", |v| {
                v["event"]["object"] = json!("od-1");
            })),
            malformed_event("contact.department.updated_v3", "event.object must be an object"),
            "malformed_event",
        ),
        (
            "feilian data.events not a list",
            keyed_endpoint(Feilian),
            Request::encrypted(
                FEILIAN_KEY,
                &edited(Feilian, "department.v1.update", |v| {
                    v["data"]["events"] = json!({"x": []});
                }),
            ),
            malformed_event("department.v1.update", "`data.events` must be a list of {object, old_object, updated_fields} objects"),
            "malformed_event",
        ),
        (
            "feilian one entry of two without an open_id: the whole request is refused",
            plain_endpoint(Feilian),
            Request::plain(edited(Feilian, "department.v1.create", |v| {
                v["data"]["events"][1]["object"]
                    .as_object_mut()
                    .unwrap()
                    .remove("open_id");
            })),
            malformed_event("department.v1.create", "data.events[] has no object.open_id"),
            "malformed_event",
        ),
    ];

    for (name, endpoint, request, expected, code) in rows {
        // A verified event that cannot become messages is not refused by the core: it
        // is handed over with its rejection and a quarantine (the adapter chooses).
        let rejection = match run(&endpoint, &request) {
            Err(rejection) => {
                assert_ne!(code, "malformed_event", "{name}: verified, so Unusable");
                rejection
            }
            Ok(Delivery::Unusable {
                rejection,
                quarantine,
            }) => {
                assert_eq!(code, "malformed_event", "{name}: only verified events");
                assert_eq!(quarantine.reason(), code, "{name}");
                assert_eq!(quarantine.detail(), rejection.to_string(), "{name}");
                rejection
            }
            Ok(delivery) => panic!("{name}: expected {expected:?}, got {delivery:?}"),
        };
        assert!(
            same_rejection(&rejection, &expected),
            "{name}: expected {expected:?}, got {rejection:?}"
        );
        assert_eq!(rejection.code(), code, "{name}");
        let message = rejection.to_string();
        assert!(!message.is_empty(), "{name}");
        // The answer's text too (a malformed event's names its id, which the rows do not).
        if !matches!(expected, Rejection::MalformedEvent { .. }) {
            assert_eq!(message, expected.to_string(), "{name}");
        }
        for secret in SECRETS {
            assert!(!message.contains(secret), "{name}: {message}");
        }
    }
}

#[test]
fn an_envelope_without_event_id_is_told_so_unless_no_signature_authenticates_its_ciphertext() {
    use Source::{Feilian, Feishu};
    let without_event_id = |source, name| {
        edited(source, name, |v| {
            v["header"].as_object_mut().unwrap().remove("event_id");
        })
    };
    let feishu = without_event_id(Feishu, "corehr.department.updated_v2");
    let feilian = without_event_id(Feilian, "department.v1.update");
    let named = |platform| Rejection::MalformedEnvelope {
        platform,
        detail: "header.event_id is missing or empty",
    };
    // (what is sent, endpoint, request, the answer)
    let rows = [
        (
            "feishu plaintext",
            plain_endpoint(Feishu),
            Request::plain(feishu.as_str()),
            named(Feishu),
        ),
        (
            "feishu plaintext with another token: the shape is checked first",
            plain_endpoint(Feishu),
            Request::plain(feishu.replace(FEISHU_TOKEN, "not-the-token")),
            named(Feishu),
        ),
        (
            "feilian plaintext",
            plain_endpoint(Feilian),
            Request::plain(feilian.as_str()),
            named(Feilian),
        ),
        (
            "feishu encrypted and signed",
            keyed_endpoint(Feishu),
            Request::encrypted_signed(FEISHU_KEY, &feishu),
            named(Feishu),
        ),
        (
            "feishu encrypted, unsigned",
            keyed_endpoint(Feishu),
            Request::encrypted(FEISHU_KEY, &feishu),
            undecryptable(Feishu),
        ),
        (
            "feilian encrypted",
            keyed_endpoint(Feilian),
            Request::encrypted(FEILIAN_KEY, &feilian),
            undecryptable(Feilian),
        ),
    ];
    for (name, endpoint, request, expected) in rows {
        let rejection = run(&endpoint, &request).unwrap_err();
        // The message of `undecryptable` is the same for every cause, and names none.
        assert_eq!(
            (rejection.code(), rejection.to_string()),
            (expected.code(), expected.to_string()),
            "{name}"
        );
    }
    assert_eq!(
        named(Feishu).to_string(),
        "the request is not a feishu event envelope: header.event_id is missing or empty"
    );
}

#[test]
fn an_outer_object_with_an_unreadable_encrypt_says_so() {
    for body in [
        r#"{"encrypt": 123}"#,
        r#"{"encrypt": "AAAA", "encrypt": "BBBB"}"#,
    ] {
        let rejection = run(&keyed_endpoint(Source::Feilian), &Request::plain(body)).unwrap_err();
        assert_eq!(
            rejection.to_string(),
            "the request is not a feilian event envelope: `encrypt` must be a string, \
             and neither `encrypt` nor `data` may appear twice",
            "{body}"
        );
    }
    for body in [
        r#"{"data": {"encrypt": 123}}"#,
        r#"{"data": {"encrypt": "AAAA", "encrypt": "BBBB"}}"#,
    ] {
        let rejection = run(&keyed_endpoint(Source::Feilian), &Request::plain(body)).unwrap_err();
        assert_eq!(
            rejection.to_string(),
            "the request is not a feilian event envelope: `data.encrypt` must be a string, \
             given once",
            "{body}"
        );
    }
}

/// The detail of a Feishu body that is none of its envelopes.
const FEISHU_SHAPE: &str = "expected a schema 2.0 {\"header\", \"event\"}, a schema 1.0 {\"type\": \"event_callback\"} or a url_verification object";

/// A field of the wrong type is `malformed_envelope`; the detail names the object holding it.
#[test]
fn an_envelope_field_of_the_wrong_type_is_malformed_and_its_object_named() {
    let feilian =
        |header: &str| format!(r#"{{"schema":"1.0","header":{header},"data":{{"events":[]}}}}"#);
    for (source, body, detail) in [
        (
            Source::Feilian,
            feilian(r#"{"event_id":7,"event_type":"department.v1.update","token":"t"}"#),
            "`header` must be an object whose fields are strings, given once",
        ),
        (
            Source::Feilian,
            feilian(r#"{"event_id":"e","event_type":["department.v1.update"],"token":"t"}"#),
            "`header` must be an object whose fields are strings, given once",
        ),
        (
            Source::Feishu,
            r#"{"schema":"2.0","header":{"event_id":"e","event_type":"x","token":1},"event":{}}"#
                .to_owned(),
            "`header` must be an object whose fields are strings, given once",
        ),
        (
            Source::Feishu,
            r#"{"schema":"2.0","header":"e","event":{}}"#.to_owned(),
            "`header` must be an object whose fields are strings, given once",
        ),
        (
            Source::Feishu,
            r#"{"type":"url_verification","challenge":{},"token":"t"}"#.to_owned(),
            FEISHU_SHAPE,
        ),
        (
            Source::Feishu,
            r#"{"type":"event_callback","uuid":5,"token":"t","event":{"type":"x"}}"#.to_owned(),
            FEISHU_SHAPE,
        ),
        (
            Source::Feishu,
            r#"{"type":"event_callback","uuid":"u","token":"t","event":{"type":5}}"#.to_owned(),
            "schema 1.0 `event` must be an object with readable keys, whose `type`, `app_id` and `tenant_key` are strings, given once",
        ),
        (
            Source::Feishu,
            r#"{"type":"event_callback","uuid":"u","token":"t","event":{"type":"x","tenant_key":1}}"#
                .to_owned(),
            "schema 1.0 `event` must be an object with readable keys, whose `type`, `app_id` and `tenant_key` are strings, given once",
        ),
        (
            Source::Feishu,
            r#"{"type":"event_callback","uuid":"u","token":"t","event":"x"}"#.to_owned(),
            "schema 1.0 `event` must be an object with readable keys, whose `type`, `app_id` and `tenant_key` are strings, given once",
        ),
        // An array is not an object, even one whose items line up with the fields.
        (
            Source::Feishu,
            r#"{"type":"event_callback","uuid":"u","token":"t","event":["corehr.department.updated_v2"]}"#
                .to_owned(),
            "schema 1.0 `event` must be an object with readable keys, whose `type`, `app_id` and `tenant_key` are strings, given once",
        ),
        (
            Source::Feishu,
            r#"{"schema":"2.0","header":["ev1","corehr.department.updated_v2","1700000000000","t",null,null],"event":{}}"#
                .to_owned(),
            "`header` must be an object whose fields are strings, given once",
        ),
        (
            Source::Feilian,
            r#"{"schema":"1.0","header":["ev1","department.v1.update","1700000000000","t"],"data":{}}"#
                .to_owned(),
            "`header` must be an object whose fields are strings, given once",
        ),
        (
            Source::Feishu,
            r#"{"type":"event_callback","uuid":"u","token":"t","event":{"type":"x","\ud83d":1}}"#
                .to_owned(),
            "schema 1.0 `event` must be an object with readable keys, whose `type`, `app_id` and `tenant_key` are strings, given once",
        ),
    ] {
        let rejection = run(&plain_endpoint(source), &Request::plain(body.clone())).unwrap_err();
        assert_eq!(
            rejection,
            Rejection::MalformedEnvelope {
                platform: source,
                detail
            },
            "{body}"
        );
    }
    // A field given twice has no wrong type: the general shape is said.
    let twice = r#"{"schema":"2.0","header":{},"header":{},"event":{}}"#;
    let rejection = run(&plain_endpoint(Source::Feishu), &Request::plain(twice)).unwrap_err();
    assert!(
        rejection.to_string().contains("expected a schema 2.0"),
        "{rejection}"
    );
}

#[test]
fn a_lone_surrogate_where_the_relay_reads_text_is_told_apart_from_a_body_that_is_not_json() {
    let unreadable = "the request is not a {} event envelope: it holds what the relay \
         cannot read as text: a lone UTF-16 surrogate escape such as \\ud83d in a key \
         (outside the snapshots) or in `encrypt` or `challenge`, or a number out of range \
         such as 1e400 where a string belongs";
    for (source, keyed, body) in [
        (
            Source::Feilian,
            false,
            feilian_event().replacen('{', r#"{"\ud83d":1,"#, 1),
        ),
        (
            Source::Feishu,
            false,
            feishu_event().replacen(r#""header": {"#, r#""header": {"\ud83d": 1,"#, 1),
        ),
        (
            Source::Feishu,
            false,
            r#"{"type":"url_verification","challenge":"\ud83d","token":"t"}"#.to_owned(),
        ),
        (
            Source::Feilian,
            true,
            r#"{"\ud83d":1,"encrypt":"AAAA"}"#.to_owned(),
        ),
        (Source::Feishu, true, r#"{"encrypt":1e400}"#.to_owned()),
    ] {
        let endpoint = if keyed {
            keyed_endpoint(source)
        } else {
            plain_endpoint(source)
        };
        let rejection = run(&endpoint, &Request::plain(body.clone())).unwrap_err();
        assert_eq!(
            rejection.to_string(),
            unreadable.replace("{}", source.as_str()),
            "{body}"
        );
        assert_eq!(rejection.code(), "malformed_envelope");
    }
    // Not JSON at all stays `invalid_json`.
    let rejection = run(
        &plain_endpoint(Source::Feilian),
        &Request::plain(r#"{"a":"\ud83d""#),
    )
    .unwrap_err();
    assert_eq!(rejection, Rejection::InvalidJson);
}

#[test]
fn every_rejection_has_its_stable_code_and_points_at_its_setting() {
    use Setting::{EncryptKey, VerificationToken};
    use Source::{Feilian, Feishu};
    // (rejection, code, the endpoint setting the adapter names)
    let rows = [
        (
            Rejection::BodyTooLarge { size: 2, limit: 1 },
            "body_too_large",
            None,
        ),
        (Rejection::InvalidJson, "invalid_json", None),
        (
            Rejection::EncryptKeyMissing { platform: Feilian },
            "encrypt_key_missing",
            Some((Feilian, EncryptKey)),
        ),
        (
            undecryptable(Feishu),
            "undecryptable",
            Some((Feishu, EncryptKey)),
        ),
        (
            Rejection::PlaintextRefused { platform: Feilian },
            "plaintext_refused",
            Some((Feilian, EncryptKey)),
        ),
        (Rejection::MissingSignature, "missing_signature", None),
        (
            Rejection::BadSignature,
            "bad_signature",
            Some((Feishu, EncryptKey)),
        ),
        (
            Rejection::BadToken { platform: Feilian },
            "bad_token",
            Some((Feilian, VerificationToken)),
        ),
        (
            malformed_envelope(Feishu, "a detail"),
            "malformed_envelope",
            None,
        ),
        (malformed_event("x", "a detail"), "malformed_event", None),
        (
            Rejection::StaleRequest {
                platform: Feishu,
                staleness: Staleness::Unreadable,
            },
            "stale_request",
            None,
        ),
        (
            Rejection::MessageTooLarge {
                event_type: "x".into(),
                event_id: "e".into(),
                id: "feishu:e".into(),
                size: 2,
                limit: 1,
            },
            "message_too_large",
            None,
        ),
    ];
    let mut listed = [false; VARIANTS];
    for (rejection, code, setting) in rows {
        assert_eq!(rejection.code(), code, "{rejection:?}");
        assert_eq!(rejection.setting(), setting, "{rejection:?}");
        listed[variant(&rejection)] = true;
    }
    assert_eq!(listed, [true; VARIANTS], "every variant has a row");
}

/// How many variants [`Rejection`] has.
const VARIANTS: usize = 12;

/// Which variant `rejection` is. The match is exhaustive: a new variant does not
/// compile here until it is counted, and its row added above.
fn variant(rejection: &Rejection) -> usize {
    match rejection {
        Rejection::BodyTooLarge { .. } => 0,
        Rejection::InvalidJson => 1,
        Rejection::EncryptKeyMissing { .. } => 2,
        Rejection::Undecryptable { .. } => 3,
        Rejection::PlaintextRefused { .. } => 4,
        Rejection::MissingSignature => 5,
        Rejection::BadSignature => 6,
        Rejection::StaleRequest { .. } => 7,
        Rejection::BadToken { .. } => 8,
        Rejection::MalformedEnvelope { .. } => 9,
        Rejection::MalformedEvent { .. } => 10,
        Rejection::MessageTooLarge { .. } => 11,
    }
}
