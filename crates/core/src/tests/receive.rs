use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};

use super::*;
use crate::endpoint::Credentials;
use crate::signature::sign;
use crate::window::Staleness;

const TOKEN: &str = "the-token";
const KEY: &str = "the-key";
/// The relay's clock in these tests.
const NOW: u64 = 1_764_500_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn endpoint(source: Source, key: bool) -> Endpoint {
    Endpoint::new(
        source,
        VerificationToken::new(TOKEN),
        key.then(|| EncryptKey::new(KEY)),
    )
}

fn feishu_v2() -> Value {
    json!({
        "schema": "2.0",
        "header": {"event_id": "e1", "event_type": "corehr.department.updated_v2",
                   "create_time": "1608725989000", "token": TOKEN, "app_id": "a", "tenant_key": "t"},
        "event": {"department_id": "d1", "field_changes": ["name"]}
    })
}

fn feishu_v1() -> Value {
    json!({
        "ts": "1502199207.7171419", "uuid": "u1", "token": TOKEN, "type": "event_callback",
        "event": {"type": "corehr.department.created_v1", "department_id": "d1"}
    })
}

/// A Feilian update; `create_time`: the header's, or none.
fn feilian(create_time: Option<Value>) -> Value {
    let mut envelope = json!({
        "schema": "1.0",
        "header": {"event_id": "f1", "token": TOKEN, "event_type": "department.v1.update", "app_id": "a"},
        "data": {"events": [{"object": {"open_id": "od_1"}, "updated_fields": ["name"]}]}
    });
    if let Some(time) = create_time {
        envelope["header"]["create_time"] = time;
    }
    envelope
}

fn millis(offset_ms: i64) -> Value {
    json!(
        (NOW * 1000)
            .checked_add_signed(offset_ms)
            .unwrap()
            .to_string()
    )
}

fn challenge() -> Value {
    json!({"challenge": "c-1", "token": TOKEN, "type": "url_verification"})
}

fn sealed(plaintext: &[u8]) -> String {
    cipher::encrypt(&EncryptKey::new(KEY), plaintext, [9; 16])
}

fn encrypted(plaintext: &[u8]) -> String {
    json!({ "encrypt": sealed(plaintext) }).to_string()
}

fn run(
    endpoint: &Endpoint,
    body: &str,
    headers: Option<SignatureHeaders<'_>>,
) -> Result<Delivery, Rejection> {
    receive(
        endpoint,
        Inbound {
            body: body.as_bytes(),
            signature: headers,
        },
        now(),
    )
}

/// `body` signed with the test key at `timestamp`, nonce `nonce`.
fn signed(
    endpoint: &Endpoint,
    body: &str,
    timestamp: &str,
    nonce: &str,
) -> Result<Delivery, Rejection> {
    let signature = sign(timestamp, nonce, &EncryptKey::new(KEY), body.as_bytes());
    run(
        endpoint,
        body,
        Some(SignatureHeaders {
            timestamp,
            nonce,
            signature: &signature,
        }),
    )
}

fn at(offset: i64) -> String {
    NOW.checked_add_signed(offset).unwrap().to_string()
}

fn stale(result: Result<Delivery, Rejection>) -> Staleness {
    match result {
        Err(Rejection::StaleRequest { staleness, .. }) => staleness,
        other => panic!("expected stale_request, got {other:?}"),
    }
}

fn enqueued(result: Result<Delivery, Rejection>) -> Batch {
    match result {
        Ok(Delivery::Changes(batch)) => batch,
        other => panic!("expected changes, got {other:?}"),
    }
}

#[test]
fn an_events_token_counts_only_in_its_header() {
    // Schema 2.0 and Feilian carry the token in `header`; a top-level one (where a
    // challenge and schema 1.0 carry theirs) does not stand in for it.
    for (source, envelope) in [
        (Source::Feishu, feishu_v2()),
        (Source::Feilian, feilian(None)),
    ] {
        assert!(matches!(
            run(&endpoint(source, false), &envelope.to_string(), None),
            Ok(Delivery::Changes(_))
        ));
        let mut moved = envelope;
        let token = moved["header"]
            .as_object_mut()
            .unwrap()
            .remove("token")
            .unwrap();
        moved["token"] = token;
        let rejection = run(&endpoint(source, false), &moved.to_string(), None).unwrap_err();
        assert_eq!(rejection.code(), "bad_token", "{source:?}");
    }
}

#[test]
fn an_empty_event_id_is_no_event_id() {
    // Every message id is made of it: two events with `""` would share theirs,
    // and deduplication would drop all but the first.
    let rows = [
        (
            Source::Feishu,
            feishu_v2(),
            "/header/event_id",
            "header.event_id is missing or empty",
        ),
        (
            Source::Feishu,
            feishu_v1(),
            "/uuid",
            "schema 1.0 `uuid` is missing or empty",
        ),
        (
            Source::Feilian,
            feilian(None),
            "/header/event_id",
            "header.event_id is missing or empty",
        ),
    ];
    for (source, envelope, pointer, detail) in rows {
        // The envelope as given is relayed: only its id makes the difference.
        let body = envelope.to_string();
        assert!(matches!(
            run(&endpoint(source, false), &body, None),
            Ok(Delivery::Changes(_))
        ));
        let mut empty = envelope;
        *empty.pointer_mut(pointer).unwrap() = json!("");
        let expected = Rejection::MalformedEnvelope {
            platform: source,
            detail,
        };
        let rejection = run(&endpoint(source, false), &empty.to_string(), None).unwrap_err();
        assert_eq!(
            (rejection.code(), rejection.to_string()),
            (expected.code(), expected.to_string())
        );
    }
}

#[test]
fn a_signed_feishu_request_must_be_inside_the_window_in_both_schemas() {
    let endpoint = endpoint(Source::Feishu, true);
    for envelope in [feishu_v2(), feishu_v1()] {
        let body = encrypted(envelope.to_string().as_bytes());
        for accepted in [0, -86_399, 299] {
            enqueued(signed(&endpoint, &body, &at(accepted), "n"));
        }
        for (offset, expected) in [
            (
                -30 * 86_400,
                Staleness::TooOld {
                    age_seconds: 30 * 86_400,
                    max_age_seconds: 86_400,
                },
            ),
            (
                -86_401,
                Staleness::TooOld {
                    age_seconds: 86_401,
                    max_age_seconds: 86_400,
                },
            ),
            (301, Staleness::InTheFuture { ahead_seconds: 301 }),
        ] {
            assert_eq!(stale(signed(&endpoint, &body, &at(offset), "n")), expected);
        }
        assert!(matches!(
            stale(signed(&endpoint, &body, "0", "n")),
            Staleness::TooOld { .. }
        ));
        let forty = "1".repeat(40);
        let now = at(0);
        for bad in [
            format!("+{now}"),
            format!(" {now}"),
            format!("{now}.5"),
            String::new(),
            forty,
        ] {
            assert_eq!(
                stale(signed(&endpoint, &body, &bad, "n")),
                Staleness::Unreadable,
                "{bad:?}"
            );
        }
    }
}

#[test]
fn digits_moved_between_timestamp_and_nonce_keep_the_signature_but_not_the_window() {
    let endpoint = endpoint(Source::Feishu, true);
    let body = encrypted(feishu_v2().to_string().as_bytes());
    let (timestamp, nonce) = (at(0), "42".to_owned());
    let signature = sign(&timestamp, &nonce, &EncryptKey::new(KEY), body.as_bytes());
    let with = |timestamp: &str, nonce: &str| {
        run(
            &endpoint,
            &body,
            Some(SignatureHeaders {
                timestamp,
                nonce,
                signature: &signature,
            }),
        )
    };
    enqueued(with(&timestamp, &nonce));
    // The same concatenation, so the same signature: one digit moved each way.
    let longer = format!("{timestamp}4");
    let shorter = &timestamp[..timestamp.len() - 1];
    let moved_back = format!("{}{nonce}", &timestamp[timestamp.len() - 1..]);
    assert!(matches!(
        stale(with(&longer, "2")),
        Staleness::InTheFuture { .. }
    ));
    assert!(matches!(
        stale(with(shorter, &moved_back)),
        Staleness::TooOld { .. }
    ));
}

#[test]
fn the_signature_is_checked_before_the_timestamp() {
    let endpoint = endpoint(Source::Feishu, true);
    let body = encrypted(feishu_v2().to_string().as_bytes());
    let signature = sign("0", "n", &EncryptKey::new("another key"), body.as_bytes());
    let result = run(
        &endpoint,
        &body,
        Some(SignatureHeaders {
            timestamp: "0",
            nonce: "n",
            signature: &signature,
        }),
    );
    assert_eq!(result.unwrap_err(), Rejection::BadSignature);
}

#[test]
fn the_window_is_configurable_per_endpoint() {
    let endpoint = endpoint(Source::Feishu, true)
        .with_replay_window(ReplayWindow::new(Duration::from_secs(3_153_600_000)));
    let body = encrypted(feishu_v2().to_string().as_bytes());
    enqueued(signed(&endpoint, &body, "1732147200", "n"));
}

#[test]
fn what_carries_no_authenticated_time_is_not_checked() {
    // The challenge, with no headers at all.
    let feishu = endpoint(Source::Feishu, true);
    let body = encrypted(challenge().to_string().as_bytes());
    assert!(matches!(
        run(&feishu, &body, None),
        Ok(Delivery::Challenge(_))
    ));
    // Feishu without a key: only the token authenticates, the timestamp means nothing.
    let plain = endpoint(Source::Feishu, false);
    let body = feishu_v2().to_string();
    let signature = sign("0", "n", &EncryptKey::new(""), body.as_bytes());
    let headers = SignatureHeaders {
        timestamp: "0",
        nonce: "n",
        signature: &signature,
    };
    enqueued(run(&plain, &body, Some(headers)));
    // Feilian without a key: a plaintext time can be rewritten by whoever replays it.
    let body = feilian(Some(json!("1000"))).to_string();
    enqueued(run(&endpoint(Source::Feilian, false), &body, None));
}

#[test]
fn a_message_over_the_endpoints_limit_makes_the_verified_event_unusable_whole() {
    let size = |endpoint: &Endpoint| match run(endpoint, &feilian(None).to_string(), None) {
        Ok(Delivery::Changes(batch)) => batch.messages()[0].size(),
        other => panic!("expected changes, got {other:?}"),
    };
    let plain = endpoint(Source::Feilian, false);
    let message = size(&plain);
    // At the limit: relayed; one byte under it: unusable, with a quarantine.
    assert_eq!(size(&plain.clone().with_message_limit(message)), message);
    let tight = plain.with_message_limit(message - 1);
    match run(&tight, &feilian(None).to_string(), None) {
        Ok(Delivery::Unusable {
            rejection:
                Rejection::MessageTooLarge {
                    id, size, limit, ..
                },
            quarantine,
        }) => {
            assert_eq!(
                (id.as_str(), size, limit),
                ("feilian:f1:0", message, message - 1)
            );
            assert_eq!(quarantine.reason(), "message_too_large");
        }
        other => panic!("expected an unusable event, got {other:?}"),
    }
}

#[test]
fn an_encrypted_feilian_event_must_be_inside_the_window() {
    let endpoint = endpoint(Source::Feilian, true);
    let send = |create_time| {
        run(
            &endpoint,
            &encrypted(feilian(create_time).to_string().as_bytes()),
            None,
        )
    };
    for accepted in [0, -86_399_000, 299_000] {
        enqueued(send(Some(millis(accepted))));
    }
    assert!(matches!(
        stale(send(Some(millis(-30 * 86_400_000)))),
        Staleness::TooOld { .. }
    ));
    assert!(matches!(
        stale(send(Some(millis(-86_401_000)))),
        Staleness::TooOld { .. }
    ));
    assert_eq!(
        stale(send(Some(millis(301_000)))),
        Staleness::InTheFuture { ahead_seconds: 301 }
    );
    assert!(matches!(
        stale(send(Some(json!("0")))),
        Staleness::TooOld { .. }
    ));
    // A number, and seconds, are read like occurred_at reads them.
    enqueued(send(Some(json!(NOW * 1000))));
    enqueued(send(Some(json!(NOW.to_string()))));
    // An unknown event type is checked too, before it is acknowledged.
    let mut other = feilian(Some(millis(-30 * 86_400_000)));
    other["header"]["event_type"] = json!("user.v1.create");
    let result = run(&endpoint, &encrypted(other.to_string().as_bytes()), None);
    assert!(matches!(stale(result), Staleness::TooOld { .. }));
}

#[test]
fn an_encrypted_feilian_event_without_a_readable_time_is_stale() {
    let endpoint = endpoint(Source::Feilian, true);
    let send = |create_time| {
        run(
            &endpoint,
            &encrypted(feilian(create_time).to_string().as_bytes()),
            None,
        )
    };
    // `null` reads as absent.
    for absent in [None, Some(json!(null))] {
        assert_eq!(stale(send(absent)), Staleness::MissingTime);
    }
    for unreadable in [json!("soon"), json!(""), json!("-1"), json!(true)] {
        assert_eq!(
            stale(send(Some(unreadable.clone()))),
            Staleness::UnreadableTime,
            "{unreadable}"
        );
    }
    // An unknown event type is refused too, not acknowledged.
    let mut other = feilian(None);
    other["header"]["event_type"] = json!("user.v1.create");
    let body = encrypted(other.to_string().as_bytes());
    assert_eq!(stale(run(&endpoint, &body, None)), Staleness::MissingTime);
    let message = Rejection::StaleRequest {
        platform: Source::Feilian,
        staleness: Staleness::MissingTime,
    }
    .to_string();
    assert!(message.contains("no header.create_time"), "{message}");
}

#[test]
fn a_capture_whose_time_key_is_renamed_through_the_iv_stays_stale() {
    // A sender that writes the header's create_time first puts the key's name in
    // block 1, which the IV rewrites without garbling anything.
    let plaintext = format!(
        r#"{{"header":{{"create_time":"{}","event_id":"f1","token":"{TOKEN}","event_type":"department.v1.update","app_id":"a"}},"schema":"1.0","data":{{"events":[{{"object":{{"open_id":"od_1"}},"updated_fields":["name"]}}]}}}}"#,
        (NOW - 25 * 3600) * 1000
    );
    assert_eq!(&plaintext[..16], r#"{"header":{"crea"#);
    let endpoint = endpoint(Source::Feilian, true);
    let captured = sealed(plaintext.as_bytes());
    let body = json!({ "encrypt": captured }).to_string();
    assert!(matches!(
        stale(run(&endpoint, &body, None)),
        Staleness::TooOld { .. }
    ));
    // `crea` -> `xrea`: the IV's byte 12 flips `c` into `x`.
    let engine = base64::engine::general_purpose::STANDARD;
    let mut raw = base64::Engine::decode(&engine, &captured).unwrap();
    raw[12] ^= b'c' ^ b'x';
    let rewritten = json!({ "encrypt": base64::Engine::encode(&engine, &raw) }).to_string();
    assert_eq!(
        stale(run(&endpoint, &rewritten, None)),
        Staleness::MissingTime
    );
}

/// Every body whose ciphertext was not authenticated and does not become the
/// platform's envelope: (what it is, the body).
fn unauthenticated_failures(source: Source) -> Vec<(&'static str, String)> {
    let mut bad_padding =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sealed(b"{}")).unwrap();
    // The last IV byte flips the only block's last padding byte.
    bad_padding[15] ^= 1;
    let bad_padding =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bad_padding);
    let no_event_id = match source {
        Source::Feilian => {
            json!({"schema": "1.0", "header": {"event_type": "department.v1.update", "token": TOKEN}, "data": {"events": []}})
        }
        _ => {
            json!({"schema": "2.0", "header": {"event_type": "corehr.department.updated_v2", "token": TOKEN}, "event": {}})
        }
    };
    vec![
        (
            "bad base64",
            json!({"encrypt": "%%% not base64 %%%"}).to_string(),
        ),
        ("bad padding", json!({ "encrypt": bad_padding }).to_string()),
        ("non-UTF-8 plaintext", encrypted(&[0xff, 0xfe, b'{', b'}'])),
        ("non-JSON plaintext", encrypted(b"hello world")),
        ("a JSON array", encrypted(b"[1, 2]")),
        ("an object of the wrong shape", encrypted(br#"{"a": 1}"#)),
        (
            "a header without event_id",
            encrypted(no_event_id.to_string().as_bytes()),
        ),
    ]
}

#[test]
fn unauthenticated_ciphertext_gets_one_answer_for_every_failure() {
    for source in [Source::Feilian, Source::Feishu] {
        // Feishu without signature headers: decrypted only to find the challenge.
        let endpoint = endpoint(source, true);
        for (what, body) in unauthenticated_failures(source) {
            let rejection = run(&endpoint, &body, None).unwrap_err();
            assert!(
                matches!(rejection, Rejection::Undecryptable { platform, .. } if platform == source),
                "{source:?} {what}: {rejection:?}"
            );
            assert_eq!(rejection.code(), "undecryptable");
            assert_eq!(
                rejection.to_string(),
                Rejection::Undecryptable {
                    platform: source,
                    cause: ""
                }
                .to_string(),
                "{source:?} {what}"
            );
        }
    }
}

#[test]
fn a_signed_feishu_body_of_the_wrong_shape_keeps_its_detail() {
    // Only the key holder can sign, so the detail is no oracle.
    let endpoint = endpoint(Source::Feishu, true);
    let other_key = json!({
        "encrypt": cipher::encrypt(&EncryptKey::new("another key"), b"{}", [9; 16])
    });
    // (the body, signed with the endpoint's key; the detail of its refusal)
    let rows = [
        (encrypted(br#"{"a": 1}"#), crate::feishu::SHAPE),
        (
            encrypted(
                br#"{"schema":"2.0","header":{"event_type":"x","token":"the-token"},"event":{}}"#,
            ),
            "header.event_id is missing or empty",
        ),
        (
            encrypted(b"not json"),
            "the ciphertext decrypts to something that is not a JSON object",
        ),
        (
            encrypted(&[0xff, 0xfe]),
            "the ciphertext decrypts to bytes that are not UTF-8",
        ),
        (
            json!({"encrypt": "%%% not base64 %%%"}).to_string(),
            "the `encrypt` value is not base64",
        ),
        (
            json!({"encrypt": "AAAA"}).to_string(),
            "the `encrypt` value is not an IV and whole AES blocks",
        ),
        (
            other_key.to_string(),
            "the ciphertext does not decrypt with the key (bad PKCS#7 padding)",
        ),
    ];
    for (body, detail) in rows {
        match signed(&endpoint, &body, &at(0), "n") {
            Err(Rejection::MalformedEnvelope {
                platform,
                detail: given,
            }) => {
                assert_eq!((platform, given), (Source::Feishu, detail), "{body}");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[test]
fn feilian_nested_and_bare_ciphertexts_go_through_the_same_checks() {
    let endpoint = endpoint(Source::Feilian, true);
    for envelope in [challenge(), feilian(Some(millis(0)))] {
        let ciphertext = sealed(envelope.to_string().as_bytes());
        let nested = json!({"data": {"encrypt": ciphertext}}).to_string();
        let with_newline = format!("{ciphertext}\n");
        for body in [nested.as_str(), ciphertext.as_str(), with_newline.as_str()] {
            let delivery = run(&endpoint, body, None).unwrap();
            match (&delivery, envelope.get("challenge")) {
                (Delivery::Challenge(challenge), Some(_)) => {
                    assert_eq!((challenge.value(), challenge.token()), ("c-1", TOKEN));
                }
                (Delivery::Changes(batch), None) => assert_eq!(batch.messages().len(), 1),
                _ => panic!("{body}: {delivery:?}"),
            }
        }
    }
    // The same checks: a wrong token, a stale time, a wrong key.
    let wrong_token = json!({"challenge": "c", "token": "nope", "type": "url_verification"});
    let bare = sealed(wrong_token.to_string().as_bytes());
    assert_eq!(run(&endpoint, &bare, None).unwrap_err().code(), "bad_token");
    let old = sealed(
        feilian(Some(millis(-30 * 86_400_000)))
            .to_string()
            .as_bytes(),
    );
    let nested = json!({"data": {"encrypt": old}}).to_string();
    assert_eq!(
        run(&endpoint, &nested, None).unwrap_err().code(),
        "stale_request"
    );
    let wrong_key = cipher::encrypt(
        &EncryptKey::new("other"),
        challenge().to_string().as_bytes(),
        [3; 16],
    );
    assert_eq!(
        run(&endpoint, &wrong_key, None).unwrap_err().code(),
        "undecryptable"
    );
    // Without a key they are encrypted bodies all the same.
    let keyless = self::endpoint(Source::Feilian, false);
    let nested = json!({"data": {"encrypt": bare}}).to_string();
    for body in [bare.as_str(), nested.as_str()] {
        assert_eq!(
            run(&keyless, body, None).unwrap_err().code(),
            "encrypt_key_missing"
        );
    }
}

#[test]
fn a_plaintext_data_body_is_still_refused_when_a_key_is_set() {
    let endpoint = endpoint(Source::Feilian, true);
    for body in [
        feilian(Some(millis(0))).to_string(),
        json!({"data": challenge()}).to_string(),
        json!({"data": {"encrypt": null}}).to_string(),
        json!({"data": "not an object"}).to_string(),
        // Only an object holds a nested ciphertext.
        json!({"data": [sealed(challenge().to_string().as_bytes())]}).to_string(),
    ] {
        assert_eq!(
            run(&endpoint, &body, None).unwrap_err(),
            Rejection::PlaintextRefused {
                platform: Source::Feilian
            },
            "{body}"
        );
    }
    // Short or non-base64 text is not a bare ciphertext.
    for body in ["", "true", "1234", "not json", "AAAA"] {
        assert_eq!(
            run(&endpoint, body, None).unwrap_err(),
            Rejection::InvalidJson,
            "{body:?}"
        );
    }
}

#[test]
fn a_lone_surrogate_in_a_key_of_data_is_not_a_nested_ciphertext_problem() {
    // Not `malformed_envelope` for `data.encrypt`: the body is a plaintext event,
    // verified, and judged as one: `malformed_event` (quarantined here), as before.
    let body =
        feilian(Some(millis(0)))
            .to_string()
            .replacen(r#""data":{"#, r#""data":{"\ud800":1,"#, 1);
    match run(&endpoint(Source::Feilian, false), &body, None) {
        Ok(Delivery::Unusable {
            rejection: Rejection::MalformedEvent { .. },
            ..
        }) => {}
        other => panic!("{body}: {other:?}"),
    }
}

#[test]
fn feishu_refuses_the_feilian_only_forms() {
    let endpoint = endpoint(Source::Feishu, true);
    let ciphertext = sealed(challenge().to_string().as_bytes());
    let nested = json!({"data": {"encrypt": ciphertext}}).to_string();
    assert_eq!(
        run(&endpoint, &nested, None).unwrap_err(),
        Rejection::PlaintextRefused {
            platform: Source::Feishu
        }
    );
    assert_eq!(
        run(&endpoint, &ciphertext, None).unwrap_err(),
        Rejection::InvalidJson
    );
}

#[test]
fn the_challenge_carries_its_token_which_debug_hides() {
    let endpoint = endpoint(Source::Feilian, true);
    let body = encrypted(challenge().to_string().as_bytes());
    let Ok(Delivery::Challenge(challenge)) = run(&endpoint, &body, None) else {
        panic!("a challenge");
    };
    assert_eq!((challenge.value(), challenge.token()), ("c-1", TOKEN));
    let debug = format!("{challenge:?}");
    assert!(debug.contains("c-1") && !debug.contains(TOKEN), "{debug}");
}

// Rotation: a previous pair, accepted until its expiry, never mixed with the current one.

const OLD_TOKEN: &str = "the-old-token";
const OLD_KEY: &str = "the-old-key";

/// An endpoint with the current test pair and the previous pair `(token, key)`,
/// accepted until `until_offset` seconds from the test clock.
fn rotating(
    source: Source,
    previous: (&str, Option<&str>),
    current_key: bool,
    until_offset: i64,
) -> Endpoint {
    endpoint(source, current_key).with_previous(
        VerificationToken::new(previous.0),
        previous.1.map(EncryptKey::new),
        UNIX_EPOCH + Duration::from_secs(NOW.checked_add_signed(until_offset).unwrap()),
    )
}

/// `envelope` with its token (wherever the platform puts it) set to `token`.
fn with_token(mut envelope: Value, token: &str) -> Value {
    match envelope.get_mut("header") {
        Some(header) => header["token"] = json!(token),
        None => envelope["token"] = json!(token),
    }
    envelope
}

fn sealed_with(key: &str, envelope: &Value) -> String {
    cipher::encrypt(
        &EncryptKey::new(key),
        envelope.to_string().as_bytes(),
        [5; 16],
    )
}

/// A Feishu request encrypted and signed with `key`, carrying `token`, sent now.
fn feishu_with(endpoint: &Endpoint, token: &str, key: &str) -> Result<Delivery, Rejection> {
    let body = json!({ "encrypt": sealed_with(key, &with_token(feishu_v2(), token)) }).to_string();
    let timestamp = at(0);
    let signature = sign(&timestamp, "n", &EncryptKey::new(key), body.as_bytes());
    run(
        endpoint,
        &body,
        Some(SignatureHeaders {
            timestamp: &timestamp,
            nonce: "n",
            signature: &signature,
        }),
    )
}

/// A Feilian event encrypted with `key`, carrying `token`, dated now.
fn feilian_with(endpoint: &Endpoint, token: &str, key: &str) -> Result<Delivery, Rejection> {
    let envelope = with_token(feilian(Some(millis(0))), token);
    run(
        endpoint,
        &json!({ "encrypt": sealed_with(key, &envelope) }).to_string(),
        None,
    )
}

fn credentials(result: Result<Delivery, Rejection>) -> Credentials {
    match result {
        Ok(delivery) => delivery.credentials(),
        Err(rejection) => panic!("expected a delivery, got {rejection:?}"),
    }
}

#[test]
fn during_the_overlap_either_pair_is_accepted_and_reported() {
    let feishu = rotating(Source::Feishu, (OLD_TOKEN, Some(OLD_KEY)), true, 3_600);
    assert_eq!(
        credentials(feishu_with(&feishu, TOKEN, KEY)),
        Credentials::Current
    );
    assert_eq!(
        credentials(feishu_with(&feishu, OLD_TOKEN, OLD_KEY)),
        Credentials::Previous
    );
    let feilian = rotating(Source::Feilian, (OLD_TOKEN, Some(OLD_KEY)), true, 3_600);
    assert_eq!(
        credentials(feilian_with(&feilian, TOKEN, KEY)),
        Credentials::Current
    );
    let batch = enqueued(feilian_with(&feilian, OLD_TOKEN, OLD_KEY));
    assert_eq!(batch.event().credentials, Credentials::Previous);
    // The messages say which endpoint, whichever pair.
    let body: Value = serde_json::from_str(batch.messages()[0].body()).unwrap();
    assert_eq!(body["endpoint"], "feilian");
    // The challenge too, on both platforms.
    for (endpoint, key) in [(&feishu, OLD_KEY), (&feilian, OLD_KEY), (&feishu, KEY)] {
        let token = if key == OLD_KEY { OLD_TOKEN } else { TOKEN };
        let body = json!({ "encrypt": sealed_with(key, &with_token(challenge(), token)) });
        let Ok(Delivery::Challenge(challenge)) = run(endpoint, &body.to_string(), None) else {
            panic!("a challenge with {key}");
        };
        let expected = if key == OLD_KEY {
            Credentials::Previous
        } else {
            Credentials::Current
        };
        assert_eq!(challenge.credentials(), expected);
        assert_eq!(challenge.token(), token);
    }
}

#[test]
fn after_the_expiry_the_previous_pair_is_refused_like_any_other() {
    // `until` is the first instant it is no longer accepted.
    let feishu = rotating(Source::Feishu, (OLD_TOKEN, Some(OLD_KEY)), true, 0);
    assert_eq!(
        feishu_with(&feishu, OLD_TOKEN, OLD_KEY).unwrap_err(),
        Rejection::BadSignature
    );
    assert_eq!(
        credentials(feishu_with(&feishu, TOKEN, KEY)),
        Credentials::Current
    );
    let feilian = rotating(Source::Feilian, (OLD_TOKEN, Some(OLD_KEY)), true, -1);
    assert_eq!(
        feilian_with(&feilian, OLD_TOKEN, OLD_KEY)
            .unwrap_err()
            .code(),
        "undecryptable"
    );
}

#[test]
fn one_pair_s_token_with_the_other_s_key_is_refused() {
    let feishu = rotating(Source::Feishu, (OLD_TOKEN, Some(OLD_KEY)), true, 3_600);
    let feilian = rotating(Source::Feilian, (OLD_TOKEN, Some(OLD_KEY)), true, 3_600);
    for (token, key) in [(OLD_TOKEN, KEY), (TOKEN, OLD_KEY)] {
        assert_eq!(
            feishu_with(&feishu, token, key).unwrap_err(),
            Rejection::BadToken {
                platform: Source::Feishu
            },
            "{token} {key}"
        );
        // Feilian: the key that decrypts picks the pair, whose token must match;
        // the answer is the one a single key gives (no word on which key failed).
        assert_eq!(
            feilian_with(&feilian, token, key).unwrap_err(),
            Rejection::BadToken {
                platform: Source::Feilian
            },
            "{token} {key}"
        );
    }
    // Neither key: the same answers as today, the same message.
    assert_eq!(
        feishu_with(&feishu, TOKEN, "a third key").unwrap_err(),
        Rejection::BadSignature
    );
    let rejection = feilian_with(&feilian, TOKEN, "a third key").unwrap_err();
    assert_eq!(rejection.code(), "undecryptable");
    assert_eq!(
        rejection.to_string(),
        Rejection::Undecryptable {
            platform: Source::Feilian,
            cause: ""
        }
        .to_string()
    );
}

#[test]
fn a_rotation_of_the_token_alone_keeps_the_key_and_tells_the_pairs_by_token() {
    for source in [Source::Feishu, Source::Feilian] {
        let endpoint = rotating(source, (OLD_TOKEN, Some(KEY)), true, 3_600);
        let send = |token| match source {
            Source::Feishu => feishu_with(&endpoint, token, KEY),
            _ => feilian_with(&endpoint, token, KEY),
        };
        assert_eq!(credentials(send(TOKEN)), Credentials::Current);
        assert_eq!(credentials(send(OLD_TOKEN)), Credentials::Previous);
        assert_eq!(send("a third token").unwrap_err().code(), "bad_token");
    }
}

#[test]
fn a_previous_pair_without_a_key_accepts_plaintext_until_its_expiry() {
    // Turning encryption on: the console still sends plaintext until it is saved.
    let endpoint = rotating(Source::Feilian, (OLD_TOKEN, None), true, 3_600);
    let plaintext = with_token(feilian(Some(millis(0))), OLD_TOKEN).to_string();
    assert_eq!(
        credentials(run(&endpoint, &plaintext, None)),
        Credentials::Previous
    );
    // Only with its own token: the current token is no plaintext credential.
    let current = with_token(feilian(Some(millis(0))), TOKEN).to_string();
    assert_eq!(
        run(&endpoint, &current, None).unwrap_err().code(),
        "bad_token"
    );
    let expired = rotating(Source::Feilian, (OLD_TOKEN, None), true, 0);
    assert_eq!(
        run(&expired, &plaintext, None).unwrap_err(),
        Rejection::PlaintextRefused {
            platform: Source::Feilian
        }
    );
}

#[test]
fn the_replay_window_and_the_missing_signature_hold_with_either_pair() {
    let feishu = rotating(Source::Feishu, (OLD_TOKEN, Some(OLD_KEY)), true, 3_600);
    let body =
        json!({ "encrypt": sealed_with(OLD_KEY, &with_token(feishu_v2(), OLD_TOKEN)) }).to_string();
    let old = at(-30 * 86_400);
    let signature = sign(&old, "n", &EncryptKey::new(OLD_KEY), body.as_bytes());
    let headers = SignatureHeaders {
        timestamp: &old,
        nonce: "n",
        signature: &signature,
    };
    assert_eq!(
        run(&feishu, &body, Some(headers)).unwrap_err().code(),
        "stale_request"
    );
    assert_eq!(
        run(&feishu, &body, None).unwrap_err(),
        Rejection::MissingSignature
    );
    let feilian = rotating(Source::Feilian, (OLD_TOKEN, Some(OLD_KEY)), true, 3_600);
    let envelope = with_token(feilian_v(millis(-30 * 86_400_000)), OLD_TOKEN);
    let body = json!({ "encrypt": sealed_with(OLD_KEY, &envelope) }).to_string();
    assert_eq!(
        run(&feilian, &body, None).unwrap_err().code(),
        "stale_request"
    );
}

fn feilian_v(create_time: Value) -> Value {
    feilian(Some(create_time))
}

#[test]
fn an_unusable_event_is_quarantined_with_its_endpoint_and_pair() {
    let id = crate::EndpointId::parse("feishu/lark-global").unwrap();
    let endpoint = Endpoint::with_id(
        id,
        VerificationToken::new(TOKEN),
        Some(EncryptKey::new(KEY)),
    )
    .with_previous(
        VerificationToken::new(OLD_TOKEN),
        Some(EncryptKey::new(OLD_KEY)),
        UNIX_EPOCH + Duration::from_secs(NOW + 60),
    );
    let mut envelope = with_token(feishu_v2(), OLD_TOKEN);
    envelope["event"] = json!({"field_changes": ["name"]});
    let body = json!({ "encrypt": sealed_with(OLD_KEY, &envelope) }).to_string();
    let timestamp = at(0);
    let signature = sign(&timestamp, "n", &EncryptKey::new(OLD_KEY), body.as_bytes());
    let delivery = run(
        &endpoint,
        &body,
        Some(SignatureHeaders {
            timestamp: &timestamp,
            nonce: "n",
            signature: &signature,
        }),
    )
    .unwrap();
    assert_eq!(delivery.credentials(), Credentials::Previous);
    let Delivery::Unusable { quarantine, .. } = delivery else {
        panic!("expected a quarantine, got {delivery:?}");
    };
    assert_eq!(quarantine.endpoint().as_str(), "feishu/lark-global");
    let outgoing = quarantine.outgoing(1 << 20);
    assert!(
        outgoing
            .attributes()
            .contains(&("endpoint", "feishu/lark-global"))
    );
    assert!(!outgoing.body().contains(OLD_TOKEN), "{}", outgoing.body());
    assert_eq!(outgoing.id(), "quarantine:feishu/lark-global:e1");
}

#[test]
fn one_event_id_at_two_endpoints_is_two_messages_and_the_default_keeps_its_id() {
    let at = |id: &str, body: &Value| {
        let id = crate::EndpointId::parse(id).unwrap();
        let endpoint = Endpoint::with_id(id, VerificationToken::new(TOKEN), None);
        let batch = enqueued(run(&endpoint, &body.to_string(), None));
        let ids: Vec<String> = batch.messages().iter().map(|m| m.id().to_owned()).collect();
        ids
    };
    let feilian = feilian(None);
    assert_eq!(at("feilian", &feilian), ["feilian:f1:0"]);
    assert_eq!(at("feilian/sub", &feilian), ["feilian/sub:f1:0"]);
    assert_eq!(at("feishu", &feishu_v2()), ["feishu:e1"]);
    assert_eq!(
        at("feishu/lark-global", &feishu_v2()),
        ["feishu/lark-global:e1"]
    );
    assert_eq!(
        at("feishu/lark-global", &feishu_v1()),
        ["feishu/lark-global:u1"]
    );
}
