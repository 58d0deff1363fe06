//! The relay end to end: platform-shaped requests through the real lambda_http
//! adapter, messages read back from a real (moto) SQS queue.

mod common;

use std::time::{Duration, Instant};

use common::*;
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

/// The official Feilian vector (PROTOCOL.md): key `testkey`, token `self-test`.
const FEILIAN_VECTOR: &str = "byxnrhs61Lk8dOCd7WEOoDA6ypOpFsM4zYahSGTKOYv2CFrRyAuHm2CB162eI2vFvn/RX3IJpwMgMTwADgjiLuEXzsvW70skf1RD5Ex2dyMOhbE70Np7m7u6ks/YxF1fSkHewOCW82IV5K+SBCqkMKntWOmSsU4m7h5PnQUuOsU=";

#[tokio::test]
async fn feilian_challenges_are_answered_plain_and_encrypted_in_both_reply_styles() {
    let Setup { client, queue } = setup(false).await;

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
        (answer.status, answer.json()),
        (200, json!({"challenge": "f-1"}))
    );

    let official = json!({ "encrypt": FEILIAN_VECTOR }).to_string();
    for (reply, content_type, body) in [
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
        &["name", "order"],
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
        let snapshots = *event_type == "contact.department.updated_v3";
        assert_eq!(
            message.body,
            json!({
                "schema_version": 1,
                "id": format!("feishu:{event_id}"),
                "source": "feishu",
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
                "before": if snapshots { envelope["event"]["old_object"].clone() } else { Value::Null },
                "after": if snapshots { envelope["event"]["object"].clone() } else { Value::Null },
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
        // No list is sent for a deletion: the keys that differ between the snapshots.
        (
            "department.v1.delete",
            "deleted",
            vec!["od_Ij90Kl12xxxx"],
            vec![json!([
                "create_time",
                "delete_time",
                "name",
                "seq",
                "type",
                "update_time"
            ])],
        ),
    ] {
        let plaintext = sample(&format!("feilian/{event_type}.json"));
        let envelope: Value = serde_json::from_str(&plaintext).unwrap();
        let answer = send(&app, &feilian_event(&plaintext)).await;
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
                    "event_type": event_type,
                    "event_id": event_id,
                    "entity": "department",
                    "action": action,
                    "entity_id": entity_ids[index],
                    "object_api_name": null,
                    "changed_fields": changed_fields[index],
                    "occurred_at": "2025-02-24T08:19:34.957Z",
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
    let app = encrypted_app(&client, &queue);
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
        message.contains("feilian:too-big-1:1") && message.contains("0 of 3 messages enqueued"),
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
