//! The enricher end to end: messages the real relay put on a real (moto) SQS queue, handed
//! to the real handler as Lambda's SQS poller delivers them, enriched from the local open
//! API server (tests/fake_open_api.py), and read back from the enriched queue.
//!
//! Run with `scripts/with-moto.sh scripts/with-open-api.sh cargo test --features
//! integration --test enricher`; make test does. A test that injects faults starts a server
//! of its own, since a fault applies to the next call of a path from any app.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{Message as SqsMessage, MessageSystemAttributeName, QueueAttributeName};
use common::*;
use lambda_http::{Context, LambdaEvent};
use org_change_enrich::Enricher;
use org_change_relay::enrich::deadline::SEND_RESERVE;
use org_change_relay::enrich::forward::EnrichedQueue;
use org_change_relay::enrich::handler::{Enrichment, handle};
use org_change_relay::enrich::settings::Settings;
use org_change_relay::enrich::transport::{CALL_TIMEOUT, HttpTransport};
use org_change_relay::http::App;
use org_change_relay::queue::sqs::SqsQueue;
use serde_json::{Value, json};

const DEPARTMENT_ID: &str = "7043711774159341101";
const ORG_ID: &str = "7436668377630295596";
const OBJECT_API_NAME: &str = "custom_org_01";

/// The local open API: the run's shared server, or one of a test's own.
struct OpenApi {
    url: String,
    agent: ureq::Agent,
    own: Option<Child>,
}

impl OpenApi {
    /// The server scripts/with-open-api.sh started for this run.
    fn shared() -> Self {
        let url = std::env::var("OPEN_API_URL").unwrap_or_else(|_| {
            panic!("OPEN_API_URL is not set: run with scripts/with-moto.sh scripts/with-open-api.sh (make test does)")
        });
        Self::at(url, None)
    }

    /// A server of this test's own, stopped when dropped.
    fn own() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut command = Command::new("python3");
        command.arg(root.join("tests/fake_open_api.py"));
        let (child, port) = spawn_listening(command, "the fake open API");
        Self::at(format!("http://127.0.0.1:{port}"), Some(child))
    }

    fn at(url: String, own: Option<Child>) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Self { url, agent, own }
    }

    /// A call of the control API (the script's docstring lists them).
    fn control(&self, name: &str, body: Value) -> Value {
        let url = format!("{}/_control/{name}", self.url);
        let mut response = self
            .agent
            .post(&url)
            .send(body.to_string())
            .unwrap_or_else(|err| panic!("{url}: {err}"));
        let text = response.body_mut().read_to_string().expect("an answer");
        assert_eq!(response.status().as_u16(), 200, "{url}: {text}");
        serde_json::from_str(&text).expect("JSON")
    }

    /// Every open API call `app_id` made, in order.
    fn calls(&self, app_id: &str) -> Vec<Value> {
        let url = format!("{}/_control/calls", self.url);
        let mut response = self.agent.get(&url).call().expect("the call log");
        let text = response.body_mut().read_to_string().expect("the call log");
        let log: Value = serde_json::from_str(&text).expect("JSON");
        log["calls"]
            .as_array()
            .expect("a list of calls")
            .iter()
            .filter(|call| call["app_id"] == json!(app_id))
            .cloned()
            .collect()
    }

    /// The calls of `app_id` to `path` (`token`, `departments` or `custom_orgs`).
    fn calls_to(&self, app_id: &str, path: &str) -> Vec<Value> {
        self.calls(app_id)
            .into_iter()
            .filter(|call| {
                call["path"]
                    .as_str()
                    .is_some_and(|p| p.contains(path_part(path)))
            })
            .collect()
    }
}

impl Drop for OpenApi {
    fn drop(&mut self) {
        if let Some(child) = &mut self.own {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn path_part(alias: &str) -> &str {
    match alias {
        "token" => "tenant_access_token",
        "departments" => "departments/batch_get",
        _ => "custom_orgs/query",
    }
}

/// The platform codes of `calls`, in order.
fn codes(calls: &[Value]) -> Vec<i64> {
    calls
        .iter()
        .map(|call| call["code"].as_i64().unwrap_or(-1))
        .collect()
}

static APPS: AtomicUsize = AtomicUsize::new(0);

/// A relay and an enricher between two moto queues, with an app of their own on `api`.
struct Stack {
    client: Client,
    source: String,
    enriched: String,
    relay: App<SqsQueue>,
    enrichment: Enrichment<HttpTransport>,
    app_id: String,
}

/// The relay's secrets, the app's credentials and host, both queue URLs, and `extra`.
async fn stack(api: &OpenApi, fifo: bool, extra: &[(&str, &str)], timeout: Duration) -> Stack {
    let client = sqs_client(&moto_endpoint()).await;
    let source = create_queue(&client, fifo).await;
    let enriched = create_queue(&client, fifo).await;
    let n = APPS.fetch_add(1, Ordering::Relaxed);
    let app_id = format!("cli_test{}x{n}", std::process::id());
    let secret = format!("app-secret-{n}");
    api.control("apps", json!({"app_id": app_id, "app_secret": secret}));
    let mut vars = vec![
        ("QUEUE_URL", source.as_str()),
        ("ENRICHED_QUEUE_URL", enriched.as_str()),
        ("FEISHU_APP_ID", app_id.as_str()),
        ("FEISHU_APP_SECRET", secret.as_str()),
        ("FEISHU_API_HOST", api.url.as_str()),
    ];
    vars.extend(SECRETS);
    vars.extend_from_slice(extra);
    let relay = app(&client, &vars);
    let settings = Settings::from_lookup(lookup(&vars)).expect("valid enricher settings");
    let enricher = Enricher::new(settings.logic_apps())
        .with_share(settings.share)
        .expect("a valid share");
    let queue = EnrichedQueue::new(client.clone(), &settings.queue);
    let enrichment = Enrichment::new(enricher, HttpTransport::new(timeout), queue);
    Stack {
        client,
        source,
        enriched,
        relay,
        enrichment,
        app_id,
    }
}

impl Stack {
    /// Puts departments on the server for this stack's app.
    fn departments(&self, api: &OpenApi, items: &[Value], visible_after: f64) {
        api.control(
            "departments",
            json!({"app_id": self.app_id, "items": items, "visible_after": visible_after}),
        );
    }

    /// Sends `request` through the relay; it must be enqueued.
    async fn relay(&self, request: &HttpRequest) {
        let answer = send(&self.relay, request).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    /// Everything on the relay's queue, as Lambda's poller hands it to the function.
    async fn event(&self) -> SqsEvent {
        let messages = receive_all(&self.client, &self.source).await;
        assert!(!messages.is_empty(), "nothing on the relay's queue");
        sqs_event(&self.source, &messages)
    }

    /// Invokes the handler; the `messageId`s it reports as failed.
    async fn handle(&self, event: SqsEvent) -> Vec<String> {
        self.handle_until(event, SystemTime::now() + Duration::from_secs(300))
            .await
    }

    /// [`Stack::handle`], the invocation's deadline at `deadline`.
    async fn handle_until(&self, event: SqsEvent, deadline: SystemTime) -> Vec<String> {
        let mut context = Context::default();
        let since_epoch = deadline.duration_since(SystemTime::UNIX_EPOCH);
        context.deadline = since_epoch.map_or(0, |at| at.as_millis() as u64);
        let Ok(response) = handle(&self.enrichment, LambdaEvent::new(event, context)).await;
        response
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier)
            .collect()
    }

    /// Every message on the enriched queue, deleted as read; each must match the schema.
    async fn enriched(&self) -> Vec<SqsMessage> {
        let messages = receive_all(&self.client, &self.enriched).await;
        let validator = message_validator();
        for message in &messages {
            let body: Value = serde_json::from_str(message.body().unwrap_or_default())
                .expect("an enriched body is JSON");
            let violations = schema_violations(&validator, &body);
            assert!(violations.is_empty(), "{violations:#?}\n{body:#}");
        }
        messages
    }
}

/// The SQS event Lambda's poller builds from `messages` of `queue`: the record format of
/// the Lambda developer guide ("Using Lambda with Amazon SQS"), read as the runtime reads it.
fn sqs_event(queue: &str, messages: &[SqsMessage]) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|message| {
            let system: HashMap<&str, &str> = message
                .attributes()
                .map(|attributes| {
                    attributes
                        .iter()
                        .map(|(name, value)| (name.as_str(), value.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            let attributes: Vec<(&str, &str)> = message
                .message_attributes()
                .map(|attributes| {
                    attributes
                        .iter()
                        .map(|(name, value)| {
                            (name.as_str(), value.string_value().unwrap_or_default())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut record = lambda_record(
                queue,
                message.message_id().unwrap_or_default(),
                message.body().unwrap_or_default(),
                &system,
                &attributes,
            );
            record["receiptHandle"] = json!(message.receipt_handle());
            record["md5OfBody"] = json!(message.md5_of_body());
            record["md5OfMessageAttributes"] = json!(message.md5_of_message_attributes());
            record
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("an SQS event")
}

/// One record of an SQS event: `system` its attributes (`MessageGroupId`, ...),
/// `attributes` its String message attributes.
fn lambda_record(
    queue: &str,
    message_id: &str,
    body: &str,
    system: &HashMap<&str, &str>,
    attributes: &[(&str, &str)],
) -> Value {
    let attributes: serde_json::Map<String, Value> = attributes
        .iter()
        .map(|(name, value)| {
            let value = json!({
                "stringValue": value,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            });
            ((*name).to_owned(), value)
        })
        .collect();
    let name = queue.rsplit('/').next().unwrap_or_default();
    json!({
        "messageId": message_id,
        "receiptHandle": format!("handle-{message_id}"),
        "body": body,
        "attributes": system,
        "messageAttributes": attributes,
        "eventSource": "aws:sqs",
        "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{name}"),
        "awsRegion": "us-east-1",
    })
}

/// A CoreHR sample with its event id, its tenant and its object's id set, occurring
/// `age` ago. The relay reads the time from `header.create_time`.
fn corehr_event(
    sample_path: &str,
    event_id: &str,
    tenant: &str,
    id: &str,
    age: Duration,
) -> String {
    let mut envelope: Value = serde_json::from_str(&sample(sample_path)).expect("a sample");
    let millis = SystemTime::now()
        .checked_sub(age)
        .and_then(|at| at.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |at| at.as_millis());
    envelope["header"]["event_id"] = json!(event_id);
    envelope["header"]["tenant_key"] = json!(tenant);
    envelope["header"]["create_time"] = json!(millis.to_string());
    for key in ["department_id", "org_id"] {
        if envelope["event"].get(key).is_some() {
            envelope["event"][key] = json!(id);
        }
    }
    envelope.to_string()
}

/// Old enough that the enricher need not wait out the platform's lag.
const SETTLED: Duration = Duration::from_secs(5);

fn department_update(event_id: &str, tenant: &str, id: &str) -> HttpRequest {
    feishu_event(&corehr_event(
        "feishu/corehr.department.updated_v2.json",
        event_id,
        tenant,
        id,
        SETTLED,
    ))
}

/// A department as the API returns it (`docs/current-object.md`, "Example shapes").
fn department(id: &str) -> Value {
    json!({
        "id": id,
        "version_id": "6890452208593372611",
        "department_name": [{"lang": "zh-CN", "value": "研发部"}, {"lang": "en-US", "value": "R&D"}],
        "sub_type": {"enum_name": "department", "display": [{"lang": "zh-CN", "value": "部门"}]},
        "parent_department_id": "4719456877659520111",
        "manager": "6893013238632416777",
        "code": "D00000456",
        "is_root": false,
        "is_confidential": false,
        "effective_date": "2020-05-01",
        "active": true,
        "custom_fields": [{"custom_api_name": "name", "name": {"zh_cn": "自定义姓名", "en_us": "Custom Name"}, "type": 1, "value": "\"231\""}],
        "updated_time": "2026-12-06 08:00:00"
    })
}

/// Checks that `enriched` is `relayed` with the three fields added at its end, every other
/// byte unchanged; returns the added fields.
fn added_fields(relayed: &str, enriched: &str) -> Value {
    let head = relayed
        .strip_suffix('}')
        .unwrap_or_else(|| panic!("a relay body ends in }}: {relayed}"));
    assert!(
        enriched.starts_with(head) && enriched[head.len()..].starts_with(",\"current\":"),
        "the relay's bytes are not kept:\nrelayed  {relayed}\nenriched {enriched}"
    );
    let parsed: Value = serde_json::from_str(enriched).expect("JSON");
    let original: Value = serde_json::from_str(relayed).expect("JSON");
    let original = original.as_object().expect("an object");
    assert_eq!(
        parsed.as_object().map(|o| o.len()),
        Some(original.len() + 3)
    );
    json!({
        "current": parsed["current"],
        "current_at": parsed["current_at"],
        "current_missing": parsed["current_missing"],
    })
}

/// `current_at` as a time: RFC 3339 UTC with milliseconds, within `from..=to`.
fn assert_read_between(added: &Value, from: SystemTime, to: SystemTime) {
    let text = added["current_at"].as_str().expect("current_at is set");
    assert!(
        text.ends_with('Z') && text.len() == "2026-12-06T08:00:00.000Z".len(),
        "{text}"
    );
    let at = humantime::parse_rfc3339(text).expect("RFC 3339");
    let floor = from - Duration::from_millis(1);
    assert!(
        floor <= at && at <= to,
        "{text} is not within the handler's call"
    );
}

/// What the relay wrote: its record bodies by `messageId`.
fn bodies(event: &SqsEvent) -> HashMap<String, String> {
    event
        .records
        .iter()
        .map(|record| {
            (
                record.message_id.clone().unwrap_or_default(),
                record.body.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_department_update_arrives_with_its_current_object_and_its_fifo_identity() {
    let api = OpenApi::shared();
    let stack = stack(&api, true, &[], CALL_TIMEOUT).await;
    let item = department(DEPARTMENT_ID);
    stack.departments(&api, std::slice::from_ref(&item), 0.0);
    stack
        .relay(&department_update("ev-dept-1", "tenant-1", DEPARTMENT_ID))
        .await;
    let event = stack.event().await;
    let record = event.records[0].clone();
    let relayed = record.body.clone().expect("a body");

    let before = SystemTime::now();
    assert_eq!(stack.handle(event).await, Vec::<String>::new());
    let after = SystemTime::now();

    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 1);
    let added = added_fields(&relayed, enriched[0].body().unwrap_or_default());
    assert_eq!(
        added["current"], item,
        "current is the object as the API holds it"
    );
    assert_eq!(added["current_missing"], Value::Null);
    assert_read_between(&added, before, after);
    // Same group, same deduplication id, same attributes as on the relay's queue.
    let system = enriched[0].attributes().expect("system attributes");
    for name in ["MessageGroupId", "MessageDeduplicationId"] {
        let attribute = MessageSystemAttributeName::from(name);
        assert_eq!(
            system.get(&attribute),
            record.attributes.get(name),
            "{name}"
        );
    }
    let attributes: HashMap<String, Option<String>> = enriched[0]
        .message_attributes()
        .expect("message attributes")
        .iter()
        .map(|(name, value)| (name.clone(), value.string_value().map(str::to_owned)))
        .collect();
    let relayed_attributes: HashMap<String, Option<String>> = record
        .message_attributes
        .iter()
        .map(|(name, value)| (name.clone(), value.string_value.clone()))
        .collect();
    assert!(!attributes.is_empty());
    assert_eq!(attributes, relayed_attributes);
    // One token, one read of that id, whose answer is what the message carries.
    assert_eq!(codes(&api.calls_to(&stack.app_id, "token")), [0]);
    let reads = api.calls_to(&stack.app_id, "departments");
    assert_eq!(codes(&reads), [0]);
    assert_eq!(reads[0]["ids"], json!([DEPARTMENT_ID]));
    assert_eq!(added["current"], reads[0]["answer"]["data"]["items"][0]);
}

#[tokio::test]
async fn a_custom_org_update_arrives_with_its_current_object() {
    let api = OpenApi::shared();
    let stack = stack(&api, false, &[], CALL_TIMEOUT).await;
    let item = json!({
        "names": [{"lang": "zh-CN", "value": "华东区"}],
        "code": "MDPD00000023",
        "parent_id": "6862995757234914824",
        "manager_ids": ["6862995757234914824"],
        "effective_time": "2020-01-01",
        "org_roles": [{"api_name": "hcm_corehr_xxx", "security_group_id": "7034393015968122400", "employment_ids": ["123456789"], "inherit_employment_ids": []}],
        "active": true,
        "org_id": ORG_ID,
    });
    api.control(
        "custom_orgs",
        json!({"app_id": stack.app_id, "object_api_name": OBJECT_API_NAME, "items": [item]}),
    );
    let body = corehr_event(
        "feishu/corehr.custom_org.updated_v2.json",
        "ev-org-1",
        "tenant-1",
        ORG_ID,
        SETTLED,
    );
    stack.relay(&feishu_event(&body)).await;
    let event = stack.event().await;
    let relayed = event.records[0].body.clone().expect("a body");

    let before = SystemTime::now();
    assert_eq!(stack.handle(event).await, Vec::<String>::new());
    let after = SystemTime::now();

    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 1);
    let added = added_fields(&relayed, enriched[0].body().unwrap_or_default());
    assert_eq!(added["current"], item);
    assert_eq!(added["current_missing"], Value::Null);
    assert_read_between(&added, before, after);
    let reads = api.calls_to(&stack.app_id, "custom_orgs");
    assert_eq!(codes(&reads), [0]);
    assert_eq!(reads[0]["ids"], json!([ORG_ID]));
    assert_eq!(reads[0]["object_api_name"], json!(OBJECT_API_NAME));
    assert_eq!(added["current"], reads[0]["answer"]["data"]["items"][0]);
}

/// Relays one department update on a server of the test's own, with `fault` set for the
/// next read; the first delivery must fail, and the redelivery must succeed.
async fn fails_once_then_succeeds(fault: Value, timeout: Duration) -> (OpenApi, Stack, Duration) {
    let api = OpenApi::own();
    let stack = stack(&api, false, &[], timeout).await;
    stack.departments(&api, &[department(DEPARTMENT_ID)], 0.0);
    stack
        .relay(&department_update("ev-fault", "tenant-1", DEPARTMENT_ID))
        .await;
    let event = stack.event().await;
    let id = event.records[0].message_id.clone().expect("an id");
    api.control("faults", fault);

    let started = Instant::now();
    assert_eq!(
        stack.handle(event.clone()).await,
        [id],
        "the first delivery fails"
    );
    let took = started.elapsed();
    assert!(stack.enriched().await.is_empty(), "nothing is forwarded");

    // SQS delivers the record again.
    assert_eq!(stack.handle(event).await, Vec::<String>::new());
    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 1);
    let body: Value = serde_json::from_str(enriched[0].body().unwrap_or_default()).expect("JSON");
    assert_eq!(body["current"], department(DEPARTMENT_ID));
    (api, stack, took)
}

#[tokio::test]
async fn a_server_error_fails_the_record_until_a_redelivery_succeeds() {
    let fault = json!({"path": "departments", "kind": "status", "status": 500});
    let (api, stack, _) = fails_once_then_succeeds(fault, CALL_TIMEOUT).await;
    let reads = api.calls_to(&stack.app_id, "departments");
    let statuses: Vec<&Value> = reads.iter().map(|call| &call["status"]).collect();
    assert_eq!(statuses, [&json!(500), &json!(200)]);
}

#[tokio::test]
async fn an_answer_slower_than_the_call_timeout_fails_the_record() {
    let fault = json!({"path": "departments", "kind": "delay", "ms": 2_000});
    let (_, _, took) = fails_once_then_succeeds(fault, Duration::from_millis(500)).await;
    assert!(
        took < Duration::from_millis(1_500),
        "the call was cut at its timeout: {took:?}"
    );
}

#[tokio::test]
async fn reads_stop_short_of_the_invocations_deadline_and_the_rest_goes_on() {
    let api = OpenApi::own();
    let stack = stack(&api, false, &[], CALL_TIMEOUT).await;
    stack.departments(&api, &[department(DEPARTMENT_ID)], 0.0);
    stack
        .relay(&department_update("ev-deadline", "tenant-1", DEPARTMENT_ID))
        .await;
    // Neither needs a read, so neither waits for one.
    let deletion = corehr_event(
        "feishu/corehr.department.deleted_v1.json",
        "ev-deadline-deleted",
        "tenant-1",
        "7043711774159341109",
        SETTLED,
    );
    stack.relay(&feishu_event(&deletion)).await;
    let contact = sample("feishu/contact.department.updated_v3.json");
    stack.relay(&feishu_event(&contact)).await;
    let event = stack.event().await;
    assert_eq!(event.records.len(), 3);
    let read = (event.records.iter())
        .find(|record| {
            record
                .body
                .as_deref()
                .is_some_and(|b| b.contains("updated_v2"))
        })
        .and_then(|record| record.message_id.clone())
        .expect("the department update");
    api.control(
        "faults",
        json!({"path": "departments", "kind": "delay", "ms": 4_000}),
    );

    // One second to read, then the reserve for the sends.
    let deadline = SystemTime::now() + SEND_RESERVE + Duration::from_secs(1);
    let started = Instant::now();
    assert_eq!(stack.handle_until(event.clone(), deadline).await, [read]);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "stopped after its budget: {took:?}"
    );
    let types: Vec<String> = (stack.enriched().await.iter())
        .map(|message| {
            let body: Value =
                serde_json::from_str(message.body().unwrap_or_default()).expect("JSON");
            body["event_type"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        types.len(),
        2,
        "the deletion and the contact event: {types:?}"
    );
    assert!(!types.iter().any(|t| t.contains("updated_v2")), "{types:?}");

    // The redelivery has its own time, and the enricher still works.
    let mut again = event;
    again.records.retain(|record| {
        record
            .body
            .as_deref()
            .is_some_and(|b| b.contains("updated_v2"))
    });
    assert!(stack.handle(again).await.is_empty());
    assert_eq!(stack.enriched().await.len(), 1);
}

#[tokio::test]
async fn a_rate_limited_answer_fails_the_record() {
    for code in [99991400, 1161604] {
        let fault = json!({"path": "departments", "kind": "rate_limited", "code": code});
        let (api, stack, _) = fails_once_then_succeeds(fault, CALL_TIMEOUT).await;
        let reads = api.calls_to(&stack.app_id, "departments");
        assert_eq!(codes(&reads), [code, 0]);
        assert_eq!(reads[0]["status"], json!(429));
    }
}

#[tokio::test]
async fn an_expired_token_is_renewed_once_and_the_read_succeeds() {
    let api = OpenApi::own();
    let stack = stack(&api, false, &[], CALL_TIMEOUT).await;
    stack.departments(&api, &[department(DEPARTMENT_ID)], 0.0);
    stack
        .relay(&department_update("ev-token-1", "tenant-1", DEPARTMENT_ID))
        .await;
    assert!(stack.handle(stack.event().await).await.is_empty());
    // The warm instance holds the token; the platform expires it.
    api.control("expire_tokens", json!({}));
    stack
        .relay(&department_update("ev-token-2", "tenant-1", DEPARTMENT_ID))
        .await;
    assert!(stack.handle(stack.event().await).await.is_empty());

    assert_eq!(stack.enriched().await.len(), 2);
    assert_eq!(codes(&api.calls_to(&stack.app_id, "token")), [0, 0]);
    let reads = api.calls_to(&stack.app_id, "departments");
    assert_eq!(codes(&reads), [0, 99991663, 0]);
}

#[tokio::test]
async fn a_token_refused_again_after_its_renewal_fails_the_record() {
    let fault =
        json!({"path": "departments", "kind": "token_invalid", "code": 99991663, "count": 2});
    let (api, stack, _) = fails_once_then_succeeds(fault, CALL_TIMEOUT).await;
    // The first delivery: a token, a refusal, one renewal, a refusal. The second: a read.
    let tokens = api.calls_to(&stack.app_id, "token");
    assert_eq!(codes(&tokens), [0, 0, 0]);
    let reads = api.calls_to(&stack.app_id, "departments");
    assert_eq!(codes(&reads), [99991663, 99991663, 0]);
}

#[tokio::test]
async fn an_object_not_yet_visible_is_retried_within_the_grace_then_read() {
    let api = OpenApi::shared();
    let stack = stack(&api, false, &[], CALL_TIMEOUT).await;
    // Created just now: the API returns it after 3 s.
    let visible_at = Instant::now() + Duration::from_secs(3);
    stack.departments(&api, &[department(DEPARTMENT_ID)], 3.0);
    let body = corehr_event(
        "feishu/corehr.department.updated_v2.json",
        "ev-late",
        "tenant-1",
        DEPARTMENT_ID,
        Duration::ZERO,
    );
    stack.relay(&feishu_event(&body)).await;
    let event = stack.event().await;
    let id = event.records[0].message_id.clone().expect("an id");

    assert_eq!(stack.handle(event.clone()).await, [id]);
    assert!(stack.enriched().await.is_empty());
    let reads = api.calls_to(&stack.app_id, "departments");
    assert_eq!(codes(&reads), [0], "the API answered, without the object");

    tokio::time::sleep_until(visible_at.into()).await;
    assert!(stack.handle(event).await.is_empty());
    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 1);
    let body: Value = serde_json::from_str(enriched[0].body().unwrap_or_default()).expect("JSON");
    assert_eq!(body["current"], department(DEPARTMENT_ID));
}

#[tokio::test]
async fn a_department_outside_the_apps_range_is_forbidden_alone_and_its_neighbour_read() {
    let api = OpenApi::shared();
    let stack = stack(&api, false, &[], CALL_TIMEOUT).await;
    let neighbour = department("7043711774159341102");
    stack.departments(&api, &[department(DEPARTMENT_ID), neighbour.clone()], 0.0);
    api.control(
        "forbid",
        json!({"app_id": stack.app_id, "department_ids": [DEPARTMENT_ID]}),
    );
    for (event_id, id) in [
        ("ev-forbidden", DEPARTMENT_ID),
        ("ev-neighbour", "7043711774159341102"),
    ] {
        stack
            .relay(&department_update(event_id, "tenant-1", id))
            .await;
    }
    let event = stack.event().await;
    assert_eq!(event.records.len(), 2);
    let relayed: HashMap<String, String> = (event.records.iter())
        .filter_map(|record| record.body.clone())
        .map(|body| (entity_id(&body), body))
        .collect();
    assert!(stack.handle(event).await.is_empty());

    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 2);
    for message in &enriched {
        let body = message.body().unwrap_or_default();
        let id = entity_id(body);
        let added = added_fields(&relayed[&id], body);
        if id == DEPARTMENT_ID {
            assert_eq!(
                added,
                json!({"current": null, "current_at": null, "current_missing": {"reason": "forbidden", "code": 1160103}})
            );
        } else {
            assert_eq!(
                added["current"], neighbour,
                "the neighbour is read, not forbidden"
            );
        }
    }
    // The call of both fails whole (as the local API does); then each id is asked alone.
    let statuses: Vec<Value> = (api.calls_to(&stack.app_id, "departments").iter())
        .map(|call| call["status"].clone())
        .collect();
    assert_eq!(statuses.len(), 3, "{statuses:?}");
    assert_eq!(statuses[0], json!(403));
}

/// The `entity_id` of a message body.
fn entity_id(body: &str) -> String {
    let body: Value = serde_json::from_str(body).expect("JSON");
    body["entity_id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_object_too_large_for_the_queue_is_left_out_and_the_message_goes_on() {
    let api = OpenApi::shared();
    let stack = stack(&api, false, &[], CALL_TIMEOUT).await;
    let mut large = department(DEPARTMENT_ID);
    large["description"] = json!([{"lang": "en-US", "value": "x".repeat(1_100_000)}]);
    stack.departments(&api, &[large], 0.0);
    stack
        .relay(&department_update("ev-large", "tenant-1", DEPARTMENT_ID))
        .await;
    let event = stack.event().await;
    let relayed = event.records[0].body.clone().expect("a body");
    assert!(
        stack.handle(event).await.is_empty(),
        "never retried: no retry fits it"
    );

    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 1);
    let added = added_fields(&relayed, enriched[0].body().unwrap_or_default());
    assert_eq!(
        added,
        json!({"current": null, "current_at": null, "current_missing": {"reason": "too_large", "code": null}})
    );
}

#[tokio::test]
async fn a_deletion_is_forwarded_with_current_null_without_calling_the_api() {
    let api = OpenApi::shared();
    let stack = stack(&api, false, &[], CALL_TIMEOUT).await;
    let body = corehr_event(
        "feishu/corehr.department.deleted_v1.json",
        "ev-deleted",
        "tenant-1",
        DEPARTMENT_ID,
        SETTLED,
    );
    stack.relay(&feishu_event(&body)).await;
    let event = stack.event().await;
    let relayed = event.records[0].body.clone().expect("a body");
    assert!(stack.handle(event).await.is_empty());

    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 1);
    let added = added_fields(&relayed, enriched[0].body().unwrap_or_default());
    assert_eq!(
        added,
        json!({"current": null, "current_at": null, "current_missing": {"reason": "deleted", "code": null}})
    );
    assert_eq!(
        api.calls(&stack.app_id),
        Vec::<Value>::new(),
        "no call at all"
    );
}

#[tokio::test]
async fn on_fifo_a_failed_record_fails_the_rest_of_its_group_and_no_other_group() {
    let api = OpenApi::shared();
    // FIFO_GROUP_BY=tenant (the default): one group per tenant.
    let stack = stack(&api, true, &[], CALL_TIMEOUT).await;
    // "missing-1" is never created: within the grace, its record fails.
    stack.departments(
        &api,
        &[department("present-2"), department("present-3")],
        0.0,
    );
    stack
        .relay(&department_update("ev-a1", "tenant-a", "missing-1"))
        .await;
    stack
        .relay(&department_update("ev-a2", "tenant-a", "present-2"))
        .await;
    stack
        .relay(&department_update("ev-b3", "tenant-b", "present-3"))
        .await;
    let event = stack.event().await;
    assert_eq!(event.records.len(), 3);
    let by_entity: HashMap<String, String> = event
        .records
        .iter()
        .map(|record| {
            let body: Value =
                serde_json::from_str(record.body.as_deref().unwrap_or_default()).expect("JSON");
            let entity = body["entity_id"].as_str().unwrap_or_default().to_owned();
            (entity, record.message_id.clone().unwrap_or_default())
        })
        .collect();
    let relayed = bodies(&event);

    let mut failed = stack.handle(event).await;
    failed.sort();
    let mut expected = vec![
        by_entity["missing-1"].clone(),
        by_entity["present-2"].clone(),
    ];
    expected.sort();
    assert_eq!(
        failed, expected,
        "the group's first record and the one after it"
    );

    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 1, "nothing of tenant-a's group");
    let body = enriched[0].body().unwrap_or_default();
    let added = added_fields(&relayed[&by_entity["present-3"]], body);
    assert_eq!(added["current"], department("present-3"));
}

#[tokio::test]
async fn on_fifo_a_failed_send_fails_the_rest_of_its_group_and_no_other_group() {
    let api = OpenApi::shared();
    let stack = stack(&api, true, &[], CALL_TIMEOUT).await;
    let ids = ["sent-a1", "sent-a2", "sent-b1"];
    let items: Vec<Value> = ids.iter().map(|id| department(id)).collect();
    stack.departments(&api, &items, 0.0);
    for (id, tenant) in ids.iter().zip(["tenant-a", "tenant-a", "tenant-b"]) {
        stack
            .relay(&department_update(&format!("ev-{id}"), tenant, id))
            .await;
    }
    let mut event = stack.event().await;
    assert_eq!(event.records.len(), 3);
    let entity = |body: Option<&str>| -> String {
        let body: Value = serde_json::from_str(body.unwrap_or_default()).expect("JSON");
        body["entity_id"].as_str().unwrap_or_default().to_owned()
    };
    // a1's copy cannot be built (SQS requires an attribute's type), so its send fails
    // after every record was read.
    let a1 = event
        .records
        .iter_mut()
        .find(|record| entity(record.body.as_deref()) == "sent-a1")
        .expect("a1's record");
    for attribute in a1.message_attributes.values_mut() {
        attribute.data_type = None;
    }
    let message_id = |id: &str| {
        event
            .records
            .iter()
            .find(|record| entity(record.body.as_deref()) == id)
            .and_then(|record| record.message_id.clone())
            .unwrap_or_default()
    };
    let mut expected = vec![message_id("sent-a1"), message_id("sent-a2")];
    expected.sort();

    let mut failed = stack.handle(event.clone()).await;
    failed.sort();
    assert_eq!(failed, expected);
    let enriched = stack.enriched().await;
    let sent: Vec<String> = enriched.iter().map(|m| entity(m.body())).collect();
    assert_eq!(
        sent,
        ["sent-b1"],
        "a2 waits for a1; tenant-b's group goes on"
    );
    let reads = api.calls_to(&stack.app_id, "departments");
    assert_eq!(reads.len(), 1, "all three were read, in one call");
}

#[tokio::test]
async fn an_endpoint_without_app_credentials_passes_its_messages_through_byte_for_byte() {
    let api = OpenApi::shared();
    let endpoints =
        json!({"feishu/noapp": {"verification_token": FEISHU_TOKEN, "encrypt_key": FEISHU_KEY}})
            .to_string();
    let stack = stack(&api, false, &[("ENDPOINTS", &endpoints)], CALL_TIMEOUT).await;
    stack.departments(&api, &[department(DEPARTMENT_ID)], 0.0);
    let mut request = department_update("ev-noapp", "tenant-1", DEPARTMENT_ID);
    request.path = "/feishu/noapp".into();
    stack.relay(&request).await;
    // A contact event of the enriching endpoint carries its object already.
    let contact = sample("feishu/contact.department.updated_v3.json");
    stack.relay(&feishu_event(&contact)).await;
    let event = stack.event().await;
    assert_eq!(event.records.len(), 2);
    let relayed = bodies(&event);
    assert!(stack.handle(event).await.is_empty());

    let enriched = stack.enriched().await;
    assert_eq!(enriched.len(), 2);
    for message in &enriched {
        let body = message.body().unwrap_or_default();
        assert!(
            relayed.values().any(|relayed| relayed == body),
            "not byte for byte: {body}"
        );
    }
    assert_eq!(
        api.calls(&stack.app_id),
        Vec::<Value>::new(),
        "no call at all"
    );
}

/// The most calls of `times` (seconds, sorted) in any window of `span` seconds, the window
/// shortened by `slack` for the jitter between the client's clock and the server's log.
fn most_in_window(times: &[f64], span: f64, slack: f64) -> usize {
    times
        .iter()
        .enumerate()
        .map(|(last, &end)| {
            times[..=last]
                .iter()
                .filter(|&&t| t > end - span + slack)
                .count()
        })
        .max()
        .unwrap_or_default()
}

/// The relay's messages for department updates of `ids`, as SQS records. They skip
/// moto on the way in, whose receive takes most of a minute for a thousand messages.
async fn relayed_records(queue: &str, ids: &[String]) -> Vec<Value> {
    let relay = memory_app(&SECRETS);
    for (i, id) in ids.iter().enumerate() {
        let request = department_update(&format!("ev-burst-{i}"), "tenant-1", id);
        assert_eq!(send(&relay, &request).await.status, 200);
    }
    let system = HashMap::from([("ApproximateReceiveCount", "1")]);
    relay
        .queue
        .messages()
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let attributes: Vec<(&str, &str)> = message
                .attributes
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            let id = format!("burst-message-{i}");
            lambda_record(queue, &id, &message.body, &system, &attributes)
        })
        .collect()
}

/// How many messages `queue` holds (moto's count is exact).
async fn queue_length(client: &Client, queue: &str) -> Option<String> {
    let name = QueueAttributeName::ApproximateNumberOfMessages;
    let output = client
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(name.clone())
        .send()
        .await
        .expect("moto answers GetQueueAttributes");
    output.attributes().and_then(|a| a.get(&name)).cloned()
}

/// The reads in the server's log kept within `per_second` and `per_minute`, and the
/// minute cap made the last ones wait.
fn assert_within_caps(reads: &[Value], per_second: usize, per_minute: usize) {
    let mut times: Vec<f64> = reads
        .iter()
        .filter_map(|call| call["time"].as_f64())
        .collect();
    times.sort_by(f64::total_cmp);
    // The server logs when it answers, the client counts when it sends.
    let slack = 0.1;
    assert!(
        most_in_window(&times, 1.0, slack) <= per_second,
        "{times:?}"
    );
    assert!(
        most_in_window(&times, 60.0, slack) <= per_minute,
        "{times:?}"
    );
    let span = times[times.len() - 1] - times[0];
    assert!(
        span >= 60.0 - slack,
        "the last reads waited for the minute: {span} s"
    );
}

#[tokio::test]
async fn a_burst_of_1000_messages_keeps_within_the_apps_rate_limits() {
    let api = OpenApi::shared();
    // 0.09 of 50/s and 1000/min: 4 reads a second and 90 a minute. 100 reads then need
    // the minute window to move on, so both caps must hold.
    let stack = stack(&api, false, &[("ENRICH_SHARE", "0.09")], CALL_TIMEOUT).await;
    let ids: Vec<String> = (0..1_000).map(|i| format!("burst-{i}")).collect();
    let items: Vec<Value> = ids.iter().map(|id| department(id)).collect();
    stack.departments(&api, &items, 0.0);
    let records = relayed_records(&stack.source, &ids).await;
    assert_eq!(records.len(), 1_000);

    // One warm instance, as Lambda's poller hands it batches of ten.
    for batch in records.chunks(10) {
        let event = serde_json::from_value(json!({ "Records": batch })).expect("an SQS event");
        assert_eq!(stack.handle(event).await, Vec::<String>::new());
    }

    let length = queue_length(&stack.client, &stack.enriched).await;
    assert_eq!(length.as_deref(), Some("1000"), "every message is enriched");
    let sample = stack
        .client
        .receive_message()
        .queue_url(&stack.enriched)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("moto answers ReceiveMessage");
    assert!(!sample.messages().is_empty());
    for message in sample.messages() {
        let body: Value = serde_json::from_str(message.body().unwrap_or_default()).expect("JSON");
        let id = body["entity_id"].as_str().unwrap_or_default();
        assert_eq!(body["current"], department(id));
    }
    // The server's log of the app's reads: one per batch, every id once, none refused.
    let reads = api.calls_to(&stack.app_id, "departments");
    assert_eq!(reads.len(), 100, "one read of ten ids per batch");
    assert!(reads.iter().all(|call| call["status"] == json!(200)));
    let asked: BTreeSet<&str> = reads
        .iter()
        .flat_map(|call| call["ids"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(asked.len(), 1_000);
    assert_within_caps(&reads, 4, 90);
}

/// Runs the `org-change-enricher` binary with `vars` and what Lambda sets, its Runtime API
/// a closed port: it logs its start, then stops at its first poll. Its output and code.
fn start_binary(vars: &[(&str, &str)]) -> (String, Option<i32>) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let output = Command::new(env!("CARGO_BIN_EXE_org-change-enricher"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", closed.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "enricher")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .envs(vars.iter().copied())
        .output()
        .expect("org-change-enricher runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (text, output.status.code())
}

#[test]
fn the_start_says_which_endpoints_enrich_and_never_shows_a_secret() {
    let endpoints = json!({"feishu/lark": {"verification_token": "l", "app_id": "cli_lark", "app_secret": "lark-app-secret", "api_host": "lark"}})
        .to_string();
    let (log, _) = start_binary(&[
        ("FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN),
        ("FEISHU_APP_ID", "cli_default"),
        ("FEISHU_APP_SECRET", "default-app-secret"),
        ("FEILIAN_VERIFICATION_TOKEN", FEILIAN_TOKEN),
        ("ENDPOINTS", &endpoints),
        (
            "ENRICHED_QUEUE_URL",
            "https://sqs.us-east-1.amazonaws.com/123456789012/enriched.fifo",
        ),
    ]);
    for line in [
        "enriches with app cli_default at https://open.feishu.cn endpoint=\"feishu\"",
        "enriches with app cli_lark at https://open.larksuite.com endpoint=\"feishu/lark\"",
        "passes its messages through unchanged (no app credentials) endpoint=\"feilian\"",
        "variable=\"FEISHU_APP_SECRET\" fingerprint=\"",
        "variable=\"ENDPOINTS[\\\"feishu/lark\\\"].app_secret\" fingerprint=\"",
        "fifo=true",
    ] {
        assert!(log.contains(line), "no {line:?} in:\n{log}");
    }
    for secret in ["default-app-secret", "lark-app-secret", FEISHU_TOKEN] {
        assert!(!log.contains(secret), "a secret in the log:\n{log}");
    }
}

#[test]
fn a_bad_setting_stops_the_start_with_one_line_and_no_panic() {
    let queue = "https://sqs.us-east-1.amazonaws.com/123456789012/enriched";
    for (vars, expected) in [
        (
            vec![("FEISHU_VERIFICATION_TOKEN", "t")],
            "org-change-enricher: configuration error: ENRICHED_QUEUE_URL is required",
        ),
        (
            vec![
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("ENRICHED_QUEUE_URL", queue),
                ("ENRICH_SHARE", "2"),
            ],
            "org-change-enricher: configuration error: ENRICH_SHARE is invalid",
        ),
        (
            vec![
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("ENRICHED_QUEUE_URL", queue),
                ("FEISHU_APP_ID", "cli_half"),
            ],
            "org-change-enricher: configuration error: FEISHU_APP_ID is invalid",
        ),
    ] {
        let (log, code) = start_binary(&vars);
        assert_eq!(code, Some(2), "{log}");
        assert!(log.starts_with(expected), "{log}");
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(!log.contains("panicked"), "{log}");
    }
}
