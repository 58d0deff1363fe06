//! The quarantine (`QUARANTINE_QUEUE_URL`): a verified event of a relayed type that
//! cannot become messages goes to the quarantine queue, token redacted, and the
//! platform gets 200; without a quarantine it is refused as before; when the
//! quarantine does not take it, 503 (the platform retries: nothing is lost).

mod common;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use common::*;
use org_change_relay::config::Config;
use org_change_relay::http::App;
use org_change_relay::queue::sqs::SqsQueue;
use serde_json::Value;

/// Both sources, encrypted, publishing to `queue` and quarantining to `quarantine`.
fn quarantining_app(setup: &Setup, quarantine: &str) -> App<SqsQueue> {
    let mut vars = vec![
        ("QUEUE_URL", setup.queue.as_str()),
        ("QUARANTINE_QUEUE_URL", quarantine),
    ];
    vars.extend(SECRETS);
    let config = Config::from_lookup(lookup(&vars)).expect("a valid test configuration");
    let queue = SqsQueue::new(setup.client.clone(), &config.queue);
    let quarantine = SqsQueue::new(
        setup.client.clone(),
        config.quarantine.as_ref().expect("a quarantine queue"),
    );
    App::new(config, queue, Some(quarantine))
}

/// A quarantined message as read back: its body (raw) and attributes.
struct Held {
    body: String,
    attributes: std::collections::HashMap<String, String>,
}

/// Every message on the quarantine queue (not message-shaped, so not `drain`).
async fn held(setup: &Setup, queue: &str) -> Vec<Held> {
    let output = setup
        .client
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("moto answers ReceiveMessage");
    output
        .messages()
        .iter()
        .map(|message| Held {
            body: message.body().unwrap_or_default().to_owned(),
            attributes: message
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_owned()))
                .collect(),
        })
        .collect()
}

/// The sample (its token is the test token) without its `department_id`.
fn no_department_id() -> String {
    sample("feishu/corehr.department.updated_v2.json").replace("\"department_id\"", "\"dept\"")
}

#[tokio::test]
async fn a_verified_event_without_its_id_is_quarantined_token_redacted_and_acknowledged() {
    let setup = setup(false).await;
    let quarantine = create_queue(&setup.client, false).await;
    let app = quarantining_app(&setup, &quarantine);
    let answer = send(&app, &feishu_event(&no_department_id())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["quarantined"], "malformed_event");
    assert_eq!(answer.json()["enqueued"], 0);
    assert!(drain(&setup.client, &setup.queue).await.is_empty());

    let held = held(&setup, &quarantine).await;
    assert_eq!(held.len(), 1);
    let body: Value = serde_json::from_str(&held[0].body).expect("the envelope, as JSON");
    assert_eq!(body["header"]["token"], "<redacted>");
    assert!(!held[0].body.contains(FEISHU_TOKEN), "{}", held[0].body);
    let sent: Value = serde_json::from_str(&no_department_id()).expect("JSON");
    assert_eq!(body["event"], sent["event"], "the payload is kept as sent");
    assert_eq!(body["header"]["event_id"], sent["header"]["event_id"]);
    let attributes = &held[0].attributes;
    assert_eq!(attributes["reason"], "malformed_event");
    assert_eq!(attributes["source"], "feishu");
    assert_eq!(attributes["endpoint"], "feishu");
    assert_eq!(attributes["event_type"], "corehr.department.updated_v2");
    assert_eq!(
        attributes["event_id"],
        sent["header"]["event_id"].as_str().unwrap()
    );
    assert!(
        attributes["detail"].contains("department_id"),
        "{attributes:?}"
    );
}

#[tokio::test]
async fn a_feilian_request_with_one_bad_entry_is_quarantined_whole() {
    let setup = setup(false).await;
    let quarantine = create_queue(&setup.client, false).await;
    let app = quarantining_app(&setup, &quarantine);
    let one_bad_entry = sample("feilian/department.v1.create.json")
        .replace("\"open_id\": \"od_Ef56Gh78xxxx\"", "\"open\": 1");
    let answer = send(&app, &feilian_event(&one_bad_entry)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["quarantined"], "malformed_event");
    assert!(
        drain(&setup.client, &setup.queue).await.is_empty(),
        "nothing half-enqueued"
    );
    let held = held(&setup, &quarantine).await;
    assert_eq!(held.len(), 1);
    assert!(!held[0].body.contains(FEILIAN_TOKEN));
    assert_eq!(held[0].attributes["source"], "feilian");
}

#[tokio::test]
async fn a_forged_request_is_never_quarantined() {
    let setup = setup(false).await;
    let quarantine = create_queue(&setup.client, false).await;
    let app = quarantining_app(&setup, &quarantine);
    // Right key and signature, wrong token: not verified, so refused, not kept.
    let forged = no_department_id().replace(FEISHU_TOKEN, "not-the-token");
    let answer = send(&app, &feishu_event(&forged)).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.error_code(), "bad_token");
    assert!(held(&setup, &quarantine).await.is_empty());
}

#[tokio::test]
async fn when_the_quarantine_does_not_take_it_the_answer_is_503() {
    let setup = setup(false).await;
    let missing = format!("{}/000000000000/no-such-quarantine", moto_endpoint());
    let app = quarantining_app(&setup, &missing);
    let answer = send(&app, &feishu_event(&no_department_id())).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.error_code(), "quarantine_failed");
    assert!(drain(&setup.client, &setup.queue).await.is_empty());
}

#[tokio::test]
async fn without_a_quarantine_the_event_is_refused_as_before() {
    let setup = setup(false).await;
    let app = encrypted_app(&setup.client, &setup.queue);
    let answer = send(&app, &feishu_event(&no_department_id())).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error_code(), "malformed_event");
}

#[tokio::test]
async fn a_verified_event_with_a_message_too_large_for_sqs_is_quarantined_whole() {
    let setup = setup(false).await;
    let quarantine = create_queue(&setup.client, false).await;
    let mut vars = vec![
        ("QUEUE_URL", setup.queue.as_str()),
        ("QUARANTINE_QUEUE_URL", quarantine.as_str()),
        ("MAX_BODY_BYTES", "4194304"),
    ];
    vars.extend(SECRETS);
    let config = Config::from_lookup(lookup(&vars)).expect("a valid test configuration");
    let app = App::new(
        config.clone(),
        SqsQueue::new(setup.client.clone(), &config.queue),
        Some(SqsQueue::new(
            setup.client.clone(),
            config.quarantine.as_ref().expect("a quarantine queue"),
        )),
    );
    // Entry 1 of 3 makes a message over SQS's limit; entries 0 and 2 are small.
    let mut body: Value =
        serde_json::from_str(&sample("feilian/department.v1.create.json")).expect("JSON");
    body["data"]["events"][1]["object"]["name"] = serde_json::json!("x".repeat(1_100_000));
    let answer = send(&app, &feilian_event(&body.to_string())).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        &answer.body[..answer.body.len().min(300)]
    );
    assert_eq!(answer.json()["quarantined"], "message_too_large");
    assert!(
        drain(&setup.client, &setup.queue).await.is_empty(),
        "nothing of the event on the queue"
    );
    let held = held(&setup, &quarantine).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].attributes["reason"], "message_too_large");
    assert!(!held[0].body.contains(FEILIAN_TOKEN));
    // Over the quarantine's own limit too: its summary, with the size and a SHA-256.
    let summary: Value = serde_json::from_str(&held[0].body).expect("a JSON summary");
    assert_eq!(summary["omitted"], "too_large", "{summary}");
    assert!(summary["size"].as_u64().unwrap_or_default() > 1_100_000);
    assert_eq!(summary["sha256"].as_str().map(str::len), Some(64));
}
