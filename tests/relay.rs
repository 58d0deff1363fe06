//! The relay end to end: platform-shaped requests through the real lambda_http
//! adapter, messages read back from a real (moto) SQS queue.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::Client;
use common::*;
use org_change_core::{EncryptKey, cipher};
use org_change_relay::http::App;
use org_change_relay::queue::sqs::SqsQueue;
use serde_json::{Value, json};

#[tokio::test]
async fn feishu_challenge_is_answered_in_plaintext_mode() {
    let Setup { client, queue } = setup(false).await;
    let app = app(
        &client,
        &[
            ("QUEUE_URL", &queue),
            ("FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN),
        ],
    );
    let challenge =
        json!({"challenge": "ajls384kdjx98XX", "token": FEISHU_TOKEN, "type": "url_verification"});
    let answer = send(&app, &HttpRequest::post("/feishu", challenge.to_string())).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(answer.json(), json!({"challenge": "ajls384kdjx98XX"}));
}

#[tokio::test]
async fn feishu_encrypted_challenge_needs_no_signature_headers() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    let challenge =
        json!({"challenge": "c-123", "token": FEISHU_TOKEN, "type": "url_verification"})
            .to_string();
    let answer = send(
        &app,
        &HttpRequest::post("/feishu", encrypt(FEISHU_KEY, &challenge)),
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"challenge": "c-123"}))
    );
}

/// The official Feilian vector (`docs/protocol.md`, "Feilian"): key `testkey`, token `self-test`.
const FEILIAN_VECTOR: &str = "byxnrhs61Lk8dOCd7WEOoDA6ypOpFsM4zYahSGTKOYv2CFrRyAuHm2CB162eI2vFvn/RX3IJpwMgMTwADgjiLuEXzsvW70skf1RD5Ex2dyMOhbE70Np7m7u6ks/YxF1fSkHewOCW82IV5K+SBCqkMKntWOmSsU4m7h5PnQUuOsU=";

#[tokio::test]
async fn feilian_challenges_are_answered_plain_and_encrypted_in_every_reply_style() {
    let Setup { client, queue } = setup(false).await;

    // No FEILIAN_CHALLENGE_REPLY: the default, echo.
    let plain_mode = app(
        &client,
        &[
            ("QUEUE_URL", &queue),
            ("FEILIAN_VERIFICATION_TOKEN", FEILIAN_TOKEN),
        ],
    );
    let challenge =
        json!({"challenge": "f-1", "token": FEILIAN_TOKEN, "type": "url_verification"}).to_string();
    let answer = send(&plain_mode, &HttpRequest::post("/feilian", challenge)).await;
    assert_eq!(
        (
            answer.status,
            answer.content_type.as_str(),
            answer.body.as_str()
        ),
        (
            200,
            "application/json",
            r#"{"challenge":"f-1","token":"token-test","type":"url_verification"}"#
        )
    );

    let official = json!({ "encrypt": FEILIAN_VECTOR }).to_string();
    for (reply, content_type, body) in [
        (
            "echo",
            "application/json",
            r#"{"challenge":"f8f76934-fcf2-49e4-8593-4cfa9240713e","token":"self-test","type":"url_verification"}"#,
        ),
        (
            "json",
            "application/json",
            r#"{"challenge":"f8f76934-fcf2-49e4-8593-4cfa9240713e"}"#,
        ),
        (
            "plain",
            "text/plain; charset=utf-8",
            "f8f76934-fcf2-49e4-8593-4cfa9240713e",
        ),
    ] {
        let encrypted_mode = app(
            &client,
            &[
                ("QUEUE_URL", &queue),
                ("FEILIAN_VERIFICATION_TOKEN", "self-test"),
                ("FEILIAN_ENCRYPT_KEY", "testkey"),
                ("FEILIAN_CHALLENGE_REPLY", reply),
            ],
        );
        let answer = send(
            &encrypted_mode,
            &HttpRequest::post("/feilian", official.clone()),
        )
        .await;
        assert_eq!(
            (
                answer.status,
                answer.content_type.as_str(),
                answer.body.as_str()
            ),
            (200, content_type, body)
        );
    }
    assert!(drain(&client, &queue).await.is_empty());
}

/// What a Feishu sample in `events/feishu/` must become: (event type, entity, action,
/// entity_id, object_api_name, changed_fields).
type Expected = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
);

const FEISHU_EXPECTED: &[Expected] = &[
    (
        "corehr.department.updated_v2",
        "department",
        "updated",
        "7043711774159341101",
        None,
        &["manager"],
    ),
    (
        "corehr.department.updated_v1",
        "department",
        "updated",
        "7043711774159341101",
        None,
        &["name", "code"],
    ),
    (
        "corehr.department.created_v1",
        "department",
        "created",
        "7043711774159341102",
        None,
        &[],
    ),
    (
        "corehr.department.created_v2",
        "department",
        "created",
        "7043711774159341103",
        None,
        &[],
    ),
    (
        "corehr.department.deleted_v1",
        "department",
        "deleted",
        "7043711774159341104",
        None,
        &[],
    ),
    (
        "corehr.custom_org.updated_v2",
        "custom_org",
        "updated",
        "7436668377630295596",
        Some("custom_org_01"),
        &["name"],
    ),
    (
        "corehr.custom_org.created_v2",
        "custom_org",
        "created",
        "7436668377630295597",
        Some("custom_org_01"),
        &[],
    ),
    (
        "corehr.custom_org.deleted_v2",
        "custom_org",
        "deleted",
        "7436668377630295598",
        Some("custom_org_01"),
        &[],
    ),
    (
        "contact.department.updated_v3",
        "department",
        "updated",
        "od-64242a18099d3a31acd24d8fce8dxxxx",
        None,
        // `old_object` holds only the previous name: only `name` changed.
        &["name"],
    ),
    (
        "contact.department.created_v3",
        "department",
        "created",
        "od-5b1f0c7e9a2d4c3b8e6f1a2b3c4d5e6f",
        None,
        &[],
    ),
    (
        "contact.department.deleted_v3",
        "department",
        "deleted",
        "od-8c3e2f1a0b9d4e7c6a5b4c3d2e1f0a9b",
        None,
        &[],
    ),
];

#[tokio::test]
async fn every_feishu_event_type_lands_on_the_queue_as_the_contract_says() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    for (event_type, entity, action, entity_id, object_api_name, changed_fields) in FEISHU_EXPECTED
    {
        let plaintext = sample(&format!("feishu/{event_type}.json"));
        let envelope: Value = serde_json::from_str(&plaintext).unwrap();
        let answer = send(&app, &feishu_event(&plaintext)).await;
        assert_eq!(
            (answer.status, answer.json()),
            (200, json!({"ok": true, "enqueued": 1})),
            "{event_type}"
        );

        let received = drain(&client, &queue).await;
        assert_eq!(received.len(), 1, "{event_type}");
        let message = &received[0];
        let event_id = envelope["header"]["event_id"].as_str().unwrap();
        // Contact v3 carries snapshots: `object` always, `old_object` but for a creation.
        let contact = event_type.starts_with("contact.");
        assert_eq!(
            message.body,
            json!({
                "schema_version": 1,
                "id": format!("feishu:{event_id}"),
                "source": "feishu",
                "endpoint": "feishu",
                "event_type": event_type,
                "event_id": event_id,
                "entity": entity,
                "action": action,
                "entity_id": entity_id,
                "object_api_name": object_api_name,
                "changed_fields": changed_fields,
                "occurred_at": "2020-12-23T12:19:49.000Z",
                "tenant_key": "2ca1d211f64f6438",
                "app_id": "cli_9f5343c580712544",
                "before": if contact { envelope["event"]["old_object"].clone() } else { Value::Null },
                "after": if contact { envelope["event"]["object"].clone() } else { Value::Null },
            }),
            "{event_type}"
        );
        let attribute = |name: &str| message.attributes.get(name).map(String::as_str);
        assert_eq!(attribute("source"), Some("feishu"));
        assert_eq!(attribute("event_type"), Some(*event_type));
        assert_eq!(attribute("entity"), Some(*entity));
        assert_eq!(attribute("action"), Some(*action));
    }
}

#[tokio::test]
async fn every_feilian_event_type_lands_on_the_queue_one_message_per_entry() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    let millis = now_millis();
    let occurred_at =
        humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(millis)).to_string();
    for (event_type, action, entity_ids, changed_fields) in [
        (
            "department.v1.update",
            "updated",
            vec!["od_6M95Q3J3xxxx"],
            vec![json!(["name"])],
        ),
        (
            "department.v1.create",
            "created",
            vec!["od_Ab12Cd34xxxx", "od_Ef56Gh78xxxx"],
            vec![json!([]), json!([])],
        ),
        // No list is sent for a deletion, and its `object` is partial: the deletion is
        // the change, no field is reported as changed.
        (
            "department.v1.delete",
            "deleted",
            vec!["od_Ij90Kl12xxxx"],
            vec![json!([])],
        ),
    ] {
        let plaintext = sample(&format!("feilian/{event_type}.json"));
        let envelope: Value = serde_json::from_str(&plaintext).unwrap();
        let answer = send(&app, &feilian_encrypted(&dated(&plaintext, millis))).await;
        assert_eq!(
            (answer.status, answer.json()["enqueued"].clone()),
            (200, json!(entity_ids.len())),
            "{event_type}"
        );

        let received = drain(&client, &queue).await;
        assert_eq!(received.len(), entity_ids.len(), "{event_type}");
        let event_id = envelope["header"]["event_id"].as_str().unwrap();
        for (index, message) in received.iter().enumerate() {
            let entry = &envelope["data"]["events"][index];
            assert_eq!(
                message.body,
                json!({
                    "schema_version": 1,
                    "id": format!("feilian:{event_id}:{index}"),
                    "source": "feilian",
                    "endpoint": "feilian",
                    "event_type": event_type,
                    "event_id": event_id,
                    "entity": "department",
                    "action": action,
                    "entity_id": entity_ids[index],
                    "object_api_name": null,
                    "changed_fields": changed_fields[index],
                    "occurred_at": occurred_at,
                    "tenant_key": null,
                    "app_id": "897957767eda448e9e3c53c6a51dxxxx",
                    "before": entry.get("old_object").cloned().unwrap_or(Value::Null),
                    "after": entry["object"],
                }),
                "{event_type} entry {index}"
            );
            assert_eq!(
                message.attributes.get("source").map(String::as_str),
                Some("feilian")
            );
        }
    }
}

#[tokio::test]
async fn a_feilian_request_with_several_entries_enqueues_each_in_order() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    let entries: Vec<Value> = (0..13)
        .map(|i| json!({"object": {"open_id": format!("od_{i}"), "name": format!("n{i}")}, "update_fields": ["name"]}))
        .collect();
    let body = json!({
        "schema": "1.0",
        "header": {"event_id": "many-1", "token": FEILIAN_TOKEN, "create_time": "1740385174957", "event_type": "department.v1.update", "app_id": "cfg"},
        "data": {"events": entries},
    });
    let answer = send(&app, &feilian_event(&body.to_string())).await;
    assert_eq!(
        (answer.status, answer.json()["enqueued"].clone()),
        (200, json!(13))
    );
    let mut ids: Vec<String> = drain(&client, &queue)
        .await
        .iter()
        .map(|m| {
            format!(
                "{}={}",
                m.body["id"].as_str().unwrap(),
                m.body["entity_id"].as_str().unwrap()
            )
        })
        .collect();
    ids.sort();
    let mut expected: Vec<String> = (0..13)
        .map(|i| format!("feilian:many-1:{i}=od_{i}"))
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn fifo_groups_by_unit_and_drops_a_retried_event() {
    let Setup { client, queue } = setup(true).await;
    let app = grouped_app(&client, &queue, "unit");
    let plaintext = sample("feishu/corehr.department.updated_v2.json");
    // The platform retries with the same event_id, possibly with a fresh signature.
    for _ in 0..2 {
        let answer = send(&app, &feishu_event(&plaintext)).await;
        assert_eq!(answer.status, 200);
    }
    let feilian = sample("feilian/department.v1.create.json");
    assert_eq!(send(&app, &feilian_event(&feilian)).await.status, 200);

    let received = drain(&client, &queue).await;
    let groups: Vec<(Option<&str>, Option<&str>)> = received
        .iter()
        .map(|m| (m.group_id.as_deref(), m.dedup_id.as_deref()))
        .collect();
    assert_eq!(
        groups,
        [
            (
                Some("feishu:2ca1d211f64f6438:department:7043711774159341101"),
                Some("feishu:5e3702a84e847582be8db7fb73283c02")
            ),
            (
                Some("feilian:897957767eda448e9e3c53c6a51dxxxx:department:od_Ab12Cd34xxxx"),
                Some("feilian:f1a0c3d4-5b6e-4f70-8a9b-0c1d2e3fxxxx:0")
            ),
            (
                Some("feilian:897957767eda448e9e3c53c6a51dxxxx:department:od_Ef56Gh78xxxx"),
                Some("feilian:f1a0c3d4-5b6e-4f70-8a9b-0c1d2e3fxxxx:1")
            ),
        ]
    );
}

/// The relay with the test secrets, on a FIFO `queue` grouped by `group_by`.
fn grouped_app(client: &Client, queue: &str, group_by: &str) -> App<SqsQueue> {
    let mut vars = vec![("QUEUE_URL", queue), ("FIFO_GROUP_BY", group_by)];
    vars.extend(SECRETS);
    app(client, &vars)
}

#[tokio::test]
async fn fifo_groups_by_tenant_by_default_so_a_parent_comes_before_its_child() {
    let Setup { client, queue } = setup(true).await;
    let app = encrypted_app(&client, &queue);
    let department = |event_type: &str, event_id: &str, department: &str| {
        let event =
            format!(r#"{{"department_id":"{department}","field_changes":["superior_org"]}}"#);
        feishu_event(&feishu_envelope(event_type, event_id, &event))
    };
    for request in [
        department("corehr.department.created_v2", "ev-p", "P"),
        department("corehr.department.created_v2", "ev-c", "C"),
        department("corehr.department.updated_v2", "ev-cu", "C"),
    ] {
        assert_eq!(send(&app, &request).await.status, 200);
    }
    let received = drain(&client, &queue).await;
    let order: Vec<(&str, Option<&str>, Option<&str>)> = received
        .iter()
        .map(|m| {
            let id = m.body["id"].as_str().unwrap_or_default();
            (id, m.group_id.as_deref(), m.dedup_id.as_deref())
        })
        .collect();
    assert_eq!(
        order,
        [
            (
                "feishu:ev-p",
                Some("feishu:2ca1d211f64f6438"),
                Some("feishu:ev-p")
            ),
            (
                "feishu:ev-c",
                Some("feishu:2ca1d211f64f6438"),
                Some("feishu:ev-c")
            ),
            (
                "feishu:ev-cu",
                Some("feishu:2ca1d211f64f6438"),
                Some("feishu:ev-cu")
            ),
        ]
    );
}

#[tokio::test]
async fn an_unknown_event_type_is_acknowledged_and_nothing_is_enqueued() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    let plaintext = sample("feishu/corehr.department.updated_v2.json")
        .replace("corehr.department.updated_v2", "im.message.receive_v1");
    let answer = send(&app, &feishu_event(&plaintext)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({"ok": true, "enqueued": 0, "ignored_event_type": "im.message.receive_v1"})
    );
    assert!(drain(&client, &queue).await.is_empty());
}

#[tokio::test]
async fn rest_v1_http_v2_and_function_url_events_with_base64_bodies_all_work() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    let plaintext = sample("feishu/corehr.department.updated_v2.json");
    for (format, base64, path) in [
        (Format::RestV1, true, "/prod/feishu"),
        (Format::RestV1, false, "/feishu"),
        (Format::HttpV2, true, "/hooks/feishu"),
        (Format::FunctionUrl, true, "/feishu"),
    ] {
        let mut request = feishu_event(&plaintext);
        request.path = path.to_owned();
        let answer = invoke(&app, request.event(format, base64)).await;
        assert_eq!(
            answer.status, 200,
            "{format:?} base64={base64}: {}",
            answer.body
        );
        let received = drain(&client, &queue).await;
        assert_eq!(received.len(), 1, "{format:?}");
        assert_eq!(received[0].body["entity_id"], "7043711774159341101");
    }
}

#[tokio::test]
async fn a_queue_that_does_not_exist_gets_a_503_in_time_and_claims_nothing() {
    let client = sqs_client(&moto_endpoint()).await;
    let missing = format!("{}/123456789012/no-such-queue", moto_endpoint());
    let app = encrypted_app(&client, &missing);
    let started = Instant::now();
    let answer = send(
        &app,
        &feishu_event(&sample("feishu/corehr.department.updated_v2.json")),
    )
    .await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (503, "enqueue_failed")
    );
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("0 of 1 messages enqueued"),
        "{}",
        answer.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stopped_sqs_server_gets_a_503_in_time() {
    let server = MotoServer::start().await;
    let client = sqs_client(&server.endpoint).await;
    let queue = create_queue(&client, false).await;
    let app = encrypted_app(&client, &queue);
    let request = feishu_event(&sample("feishu/corehr.department.updated_v2.json"));
    assert_eq!(
        send(&app, &request).await.status,
        200,
        "the server works before it is stopped"
    );

    server.stop();
    let started = Instant::now();
    let answer = send(&app, &request).await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (503, "enqueue_failed"),
        "{}",
        answer.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

/// The relay's clock in the replay-window tests: 2025-11-30T10:53:20Z.
const NOW: u64 = 1_764_500_000;

fn frozen_clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

#[tokio::test]
async fn a_signed_feishu_request_inside_the_window_is_accepted_in_both_schemas() {
    let Setup { client, queue } = setup(false).await;
    let mut app = encrypted_app(&client, &queue);
    app.clock = frozen_clock;
    let schema_1 = json!({"ts": "1502199207.7171419", "uuid": "u-1", "token": FEISHU_TOKEN, "type": "event_callback",
                          "event": {"type": "corehr.department.created_v1", "department_id": "7043711774159341102"}});
    for plaintext in [
        sample("feishu/corehr.department.updated_v2.json"),
        schema_1.to_string(),
    ] {
        let body = encrypt(FEISHU_KEY, &plaintext);
        for offset in [0, -86_399, 299] {
            let timestamp = NOW.checked_add_signed(offset).unwrap().to_string();
            let request = feishu_signed_at(&body, FEISHU_KEY, &timestamp, "nonce-42");
            let answer = send(&app, &request).await;
            assert_eq!(
                (answer.status, answer.json()),
                (200, json!({"ok": true, "enqueued": 1})),
                "now{offset:+}"
            );
        }
    }
    assert_eq!(drain(&client, &queue).await.len(), 6);
    // The URL verification carries no signature and no time: still answered.
    let challenge =
        json!({"challenge": "c-9", "token": FEISHU_TOKEN, "type": "url_verification"}).to_string();
    let mut request = HttpRequest::post("/feishu", encrypt(FEISHU_KEY, &challenge));
    request.headers.clear();
    let answer = send(&app, &request).await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"challenge": "c-9"}))
    );
}

#[tokio::test]
async fn an_encrypted_feilian_event_inside_the_window_is_accepted_and_one_without_a_time_is_stale()
{
    let Setup { client, queue } = setup(false).await;
    let mut app = encrypted_app(&client, &queue);
    app.clock = frozen_clock;
    let sample = sample("feilian/department.v1.update.json");
    for millis in [NOW * 1000, (NOW - 86_399) * 1000, (NOW + 299) * 1000] {
        let answer = send(&app, &feilian_encrypted(&dated(&sample, millis))).await;
        assert_eq!(answer.status, 200, "{millis}: {}", answer.body);
    }
    // Absent or unreadable: refused, since a replayer can rename the key through the
    // IV (`docs/protocol.md`, "Replay window").
    let mut envelope: Value = serde_json::from_str(&sample).unwrap();
    for (create_time, says) in [
        (Some(json!("not a time")), "not Unix milliseconds"),
        (None, "no header.create_time"),
    ] {
        let header = envelope["header"].as_object_mut().expect("a header");
        match create_time {
            Some(time) => header.insert("create_time".into(), time),
            None => header.remove("create_time"),
        };
        let answer = send(&app, &feilian_encrypted(&envelope.to_string())).await;
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert_eq!(answer.json()["error"], "stale_request");
        let message = answer.json()["message"].to_string();
        assert!(message.contains(says), "{message}");
    }
    assert_eq!(drain(&client, &queue).await.len(), 3);
}

#[tokio::test]
async fn feilian_nested_and_octet_stream_ciphertexts_are_accepted() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    let seal = |plaintext: &str| {
        cipher::encrypt(&EncryptKey::new(FEILIAN_KEY), plaintext.as_bytes(), [7; 16])
    };
    let challenge =
        json!({"challenge": "f-2", "token": FEILIAN_TOKEN, "type": "url_verification"}).to_string();
    let expected_challenge =
        r#"{"challenge":"f-2","token":"token-test","type":"url_verification"}"#;
    let event = dated(&sample("feilian/department.v1.update.json"), now_millis());
    // (REST API responses carry their headers in `multiValueHeaders`, which the
    // harness does not read: the content type is checked on the HTTP API ones.)
    for (form, rest, request) in [
        (
            "nested",
            false,
            HttpRequest::post(
                "/feilian",
                json!({"data": {"encrypt": seal(&challenge)}}).to_string(),
            )
            .event(Format::HttpV2, false),
        ),
        (
            "octet-stream",
            false,
            HttpRequest::octet_stream("/feilian", seal(&challenge)).event(Format::HttpV2, true),
        ),
        (
            "octet-stream, REST API",
            true,
            HttpRequest::octet_stream("/feilian", seal(&challenge)).event(Format::RestV1, true),
        ),
    ] {
        let answer = invoke(&app, request).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, expected_challenge),
            "{form}"
        );
        if !rest {
            assert_eq!(answer.content_type, "application/json", "{form}");
        }
    }
    for (form, request) in [
        (
            "nested",
            HttpRequest::post(
                "/feilian",
                json!({"data": {"encrypt": seal(&event)}}).to_string(),
            )
            .event(Format::HttpV2, false),
        ),
        (
            "octet-stream",
            HttpRequest::octet_stream("/feilian", seal(&event)).event(Format::HttpV2, true),
        ),
    ] {
        let answer = invoke(&app, request).await;
        assert_eq!(
            (answer.status, answer.json()),
            (200, json!({"ok": true, "enqueued": 1})),
            "{form}"
        );
        let received = drain(&client, &queue).await;
        assert_eq!(received.len(), 1, "{form}");
        assert_eq!(received[0].body["entity_id"], "od_6M95Q3J3xxxx");
    }
    // The same checks: another key is undecryptable in every form.
    let forged = cipher::encrypt(
        &EncryptKey::new("not-the-key"),
        challenge.as_bytes(),
        [7; 16],
    );
    let answer = invoke(
        &app,
        HttpRequest::octet_stream("/feilian", forged).event(Format::HttpV2, true),
    )
    .await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (401, "undecryptable")
    );
}

/// A contact v3 department as Feishu sends it, compact, with `name` as raw JSON text.
fn contact_department(open_department_id: &str, name: &str) -> String {
    format!(
        r#"{{"name":{name},"parent_department_id":"od-4e6ac4d14bcd5071a37a39de902c7141","department_id":"D096","open_department_id":"{open_department_id}","leader_user_id":"ou_7dab8a3d3cdcc9da365777c7ad535d62","order":"100","status":{{"is_deleted":false}}}}"#
    )
}

/// A schema 2.0 Feishu envelope around `event` (raw JSON text), with the test token.
fn feishu_envelope(event_type: &str, event_id: &str, event: &str) -> String {
    format!(
        r#"{{"schema":"2.0","header":{{"event_id":"{event_id}","event_type":"{event_type}","create_time":"1608725989000","token":"{FEISHU_TOKEN}","app_id":"cli_9f5343c580712544","tenant_key":"2ca1d211f64f6438"}},"event":{event}}}"#
    )
}

#[tokio::test]
async fn a_name_with_a_lone_surrogate_is_relayed_byte_for_byte_not_refused() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    // A cut emoji: legal JSON text, not Unicode; serde_json::Value refuses it.
    let object = contact_department("od-64242a18099d3a31acd24d8fce8d1a2b", r#""Growth \ud83d""#);
    let old_object = r#"{"name":"Growth"}"#;
    let event = format!(r#"{{"object":{object},"old_object":{old_object}}}"#);
    let plaintext = feishu_envelope("contact.department.updated_v3", "ev-cut-1", &event);
    let answer = send(&app, &feishu_event(&plaintext)).await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"ok": true, "enqueued": 1}))
    );

    let feilian_old = r#"{"open_id":"od_6M95Q3J3abcd","parent_id":"od_rYKNJJZDabcd","name":"部门","type":2,"seq":0}"#;
    let feilian_new = feilian_old.replace("部门", r"部门 \ude00");
    let feilian = format!(
        r#"{{"schema":"1.0","header":{{"event_id":"e09288e2-a1b3-4b38-84a8-3c6737250001","token":"{FEILIAN_TOKEN}","create_time":"{now}","event_type":"department.v1.update","app_id":"cfg"}},"data":{{"events":[{{"object":{feilian_new},"old_object":{feilian_old}}}]}}}}"#,
        now = now_millis()
    );
    let answer = send(&app, &feilian_event(&feilian)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let bodies = drain_text(&client, &queue).await;
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    for (body, before, after, entity_id) in [
        (
            &bodies[0],
            old_object,
            object.as_str(),
            "od-64242a18099d3a31acd24d8fce8d1a2b",
        ),
        (
            &bodies[1],
            feilian_old,
            feilian_new.as_str(),
            "od_6M95Q3J3abcd",
        ),
    ] {
        // The snapshots are the bytes the platform sent.
        assert!(body.contains(&format!(r#""before":{before}"#)), "{body}");
        assert!(body.contains(&format!(r#""after":{after}"#)), "{body}");
        let message: org_change_contract::Message = serde_json::from_str(body).unwrap();
        assert_eq!(message.entity_id, entity_id);
        assert_eq!(message.changed_fields, ["name"], "{body}");
        assert_eq!(message.before.unwrap().get(), before);
        assert_eq!(message.after.unwrap().get(), after);
    }
}

#[tokio::test]
async fn ids_with_lone_surrogates_become_their_escapes_in_the_message_and_the_fifo_ids() {
    let Setup { client, queue } = setup(true).await;
    let app = grouped_app(&client, &queue, "unit");
    let event = r#"{"department_id":"70437117741593411\ud83d","field_changes":["name"]}"#;
    let plaintext = feishu_envelope("corehr.department.updated_v2", r"5e3702a8\udc00", event);
    let answer = send(&app, &feishu_event(&plaintext)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let received = drain(&client, &queue).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.body["id"], r"feishu:5e3702a8\udc00");
    assert_eq!(message.body["event_id"], r"5e3702a8\udc00");
    assert_eq!(message.body["entity_id"], r"70437117741593411\ud83d");
    assert_eq!(
        (message.group_id.as_deref(), message.dedup_id.as_deref()),
        (
            Some(r"feishu:2ca1d211f64f6438:department:70437117741593411\ud83d"),
            Some(r"feishu:5e3702a8\udc00")
        )
    );
}

/// Whether Amazon SQS accepts `c` in a body (`docs/protocol.md`, "Amazon SQS limits");
/// moto accepts more, so the tests check the bodies themselves.
fn sqs_allows(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

#[tokio::test]
async fn names_with_characters_sqs_refuses_are_escaped_in_the_body() {
    let Setup { client, queue } = setup(false).await;
    let app = encrypted_app(&client, &queue);
    // U+FFFE and U+FFFF raw (JSON allows them), a NUL and a U+001F escaped (JSON
    // requires it), and a lone surrogate, in a snapshot and in an id.
    let name = "A\u{fffe}B\u{ffff}C\u{0}D\u{1f}";
    let object = json!({"open_id": "od_\u{ffff}1", "parent_id": "od_rYKNJJZDabcd", "name": name});
    let old_object =
        json!({"open_id": "od_\u{ffff}1", "parent_id": "od_rYKNJJZDabcd", "name": "old"});
    let plaintext = json!({
        "schema": "1.0",
        "header": {"event_id": "e09288e2-a1b3-4b38-84a8-3c6737250002", "token": FEILIAN_TOKEN, "create_time": "1740385174957", "event_type": "department.v1.update", "app_id": "cfg"},
        "data": {"events": [{"object": object, "old_object": old_object}]},
    })
    .to_string();
    assert!(plaintext.contains('\u{ffff}') && plaintext.contains(r"\u0000"));
    let answer = send(&app, &feilian_event(&plaintext)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let cut = object.to_string().replace("A\u{fffe}", r"\ud83d");
    let feishu = feishu_envelope(
        "contact.department.updated_v3",
        "ev-\u{fffe}",
        &format!(
            r#"{{"object":{},"old_object":{{"name":"x"}}}}"#,
            contact_department("od-\u{ffff}", &json!(name).to_string()).replace(
                r#""order":"100""#,
                &format!(r#""order":"100","extra":{cut}"#)
            )
        ),
    );
    let answer = send(&app, &feishu_event(&feishu)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let bodies = drain_text(&client, &queue).await;
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        if let Some((at, c)) = body.char_indices().find(|&(_, c)| !sqs_allows(c)) {
            panic!("U+{:04X} at byte {at} of {body}", u32::from(c));
        }
        assert!(
            body.contains(r#""name":"A\ufffeB\uffffC\u0000D\u001f""#),
            "{body}"
        );
    }
    // The Feilian body is valid JSON throughout: it reads back as what was sent.
    let message: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(message["entity_id"], "od_\u{ffff}1");
    assert_eq!(message["after"], object);
    assert_eq!(message["before"], old_object);
    assert_eq!(message["changed_fields"], json!(["name"]));
    // The Feishu one carries a lone surrogate in a snapshot: read as the contract's type.
    let message: org_change_contract::Message = serde_json::from_str(&bodies[1]).unwrap();
    assert_eq!(message.event_id, "ev-\u{fffe}");
    assert_eq!(message.entity_id, "od-\u{ffff}");
    assert!(
        bodies[1].contains(r#""event_id":"ev-\ufffe""#),
        "{}",
        bodies[1]
    );
    // The lone surrogate passes through as its escape; the U+FFFF beside it is escaped.
    assert!(
        bodies[1].contains(r#""name":"\ud83dB\uffffC\u0000D\u001f""#),
        "{}",
        bodies[1]
    );
}

/// A Feilian update whose entry `i` changes department `units[i]` with a name of
/// `name_bytes` bytes; its event id is `event_id`.
fn feilian_update(event_id: &str, units: &[&str], name_bytes: usize) -> String {
    let name = "n".repeat(name_bytes);
    let entries: Vec<Value> = units
        .iter()
        .map(|unit| json!({"object": {"open_id": unit, "name": name}, "update_fields": ["name"]}))
        .collect();
    json!({
        "schema": "1.0",
        "header": {"event_id": event_id, "token": FEILIAN_TOKEN, "create_time": "1740385174957", "event_type": "department.v1.update", "app_id": "cfg"},
        "data": {"events": entries},
    })
    .to_string()
}

#[tokio::test]
async fn a_message_that_can_never_fit_in_sqs_is_422_and_nothing_of_the_request_is_enqueued() {
    let Setup { client, queue } = setup(false).await;
    let mut vars = vec![("QUEUE_URL", queue.as_str()), ("MAX_BODY_BYTES", "4194304")];
    vars.extend(SECRETS);
    let app = app(&client, &vars);
    // Entry 1 of 3 alone is over SQS's 1 MiB once it is a message; the others are small.
    let mut body: Value =
        serde_json::from_str(&feilian_update("too-big-1", &["od_a", "od_b", "od_c"], 10)).unwrap();
    body["data"]["events"][1]["object"]["name"] = json!("x".repeat(1_100_000));
    let answer = send(&app, &feilian_event(&body.to_string())).await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (422, "message_too_large"),
        "{}",
        &answer.body[..answer.body.len().min(500)]
    );
    assert_eq!(answer.content_type, "application/json");
    let message = answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("feilian:too-big-1:1")
            && message.contains("can never be enqueued, so none of the event's messages is"),
        "{message}"
    );
    assert!(
        drain(&client, &queue).await.is_empty(),
        "neither the big entry nor the two small ones"
    );
}

#[tokio::test]
async fn big_messages_are_sent_in_calls_that_fit_sqss_size_limit() {
    // Three entries of ~400 KB: one call of all three would be 1.2 MB, which SQS (and
    // moto) refuse whole as BatchRequestTooLong.
    let Setup { client, queue } = setup(false).await;
    let mut vars = vec![("QUEUE_URL", queue.as_str()), ("MAX_BODY_BYTES", "4194304")];
    vars.extend(SECRETS);
    let app = app(&client, &vars);
    let body = feilian_update("big-1", &["od_a", "od_b", "od_c"], 400_000);
    let answer = send(&app, &feilian_event(&body)).await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"ok": true, "enqueued": 3})),
    );
    let mut units: Vec<String> = drain(&client, &queue)
        .await
        .iter()
        .map(|m| m.body["entity_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    units.sort();
    assert_eq!(units, ["od_a", "od_b", "od_c"]);
}

#[tokio::test]
async fn on_a_fifo_queue_each_units_changes_arrive_in_order_across_calls() {
    // Three departments changed 20 times each, interleaved: each unit spans two calls,
    // sent one after the other while the other units' calls go alongside.
    let Setup { client, queue } = setup(true).await;
    let app = encrypted_app(&client, &queue);
    let units: Vec<&str> = (0..60).map(|i| ["od_x", "od_y", "od_z"][i % 3]).collect();
    let answer = send(&app, &feilian_event(&feilian_update("fifo-1", &units, 10))).await;
    assert_eq!(
        (answer.status, answer.json()["enqueued"].clone()),
        (200, json!(60))
    );
    let received = drain(&client, &queue).await;
    assert_eq!(received.len(), 60);
    for unit in ["od_x", "od_y", "od_z"] {
        let order: Vec<usize> = received
            .iter()
            .filter(|m| m.body["entity_id"] == unit)
            .map(|m| {
                m.body["id"]
                    .as_str()
                    .and_then(|id| id.rsplit(':').next())
                    .and_then(|i| i.parse().ok())
                    .expect("feilian:<event>:<index>")
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order.len(), 20, "{unit}");
        assert_eq!(order, sorted, "{unit} out of order");
    }
}
