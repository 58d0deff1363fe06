//! A consumer of the relay's queue: it long-polls SQS, handles each change once,
//! and then reads the unit's current state from the platform.
//!
//! ```sh
//! QUEUE_URL=https://sqs.<region>.amazonaws.com/<account>/<queue> cargo run --example consumer
//! ```
//! The standard AWS variables apply, `AWS_ENDPOINT_URL_SQS` included: `make relay`
//! prints the variables that point it at the local queue. Its tests run in `make test`,
//! next to moto: the relay enqueues a retried webhook twice and the consumer handles
//! it once.
//!
//! # Why it deduplicates on `id`
//!
//! The same change reaches a consumer more than once, for three reasons:
//! - the platforms deliver at least once: Feishu retries a request that was not
//!   answered with 200 within 3 s after about 15 s, 5 min, 1 h and 6 h (~7 h in all),
//!   with the same `event_id`, and duplicates arrive even after a 200 (`docs/protocol.md`,
//!   "Delivery and retries"). Every delivery the relay accepts becomes a message;
//! - an SQS standard queue delivers every message at least once, sometimes twice;
//! - a FIFO queue drops a message whose deduplication id (the relay uses `id`) it has
//!   seen in the last 5 minutes only: the retries after 5 min, 1 h and 6 h get through.
//!
//! So the consumer remembers the `id`s it has handled, behind the [`SeenIds`] trait.
//! The in-memory [`InMemorySeenIds`] below is for this example and for tests only:
//! it forgets on restart and is not shared between instances.
//!
//! # Why it then reads the current state
//!
//! Feishu People events carry ids and field names, not values; and nothing keeps
//! changes in order (`corehr.department.updated_v1` is unordered, `_v2` "mostly" in
//! order, a standard queue reorders, a retry arrives hours late). Reading the unit's
//! current state, rather than applying each message as a delta, makes the order
//! irrelevant. The platforms' query APIs lag behind the events (`docs/protocol.md`,
//! "Events in scope"), so the read waits for the documented lag: [`Api::lag`].
//!
//! Behind the optional enricher (`docs/current-object.md`), a Feishu People message
//! arrives with that read done: `current` holds the unit as the API returned it, or
//! `current_missing` says why there is none. The consumer then makes no call:
//! [`FollowUp::Enriched`], [`FollowUp::Unreadable`].
//!
//! # Which app it came from
//!
//! One relay can serve several Feishu or Lark apps and Feilian subscriptions (named
//! endpoints): `endpoint` says which (`feishu`, `feishu/lark-global`, ...), even where
//! `tenant_key` is absent. Query the platform with *that* app's credentials, and on
//! its host (`open.feishu.cn` for Feishu, `open.larksuite.com` for Lark): an app sees
//! only its own tenant. [`Message::endpoint_id`] also reads messages written before
//! the field existed (they came from the default endpoint of their `source`).
//!
//! An SQS-triggered Lambda function does the same per record of its event (read,
//! claim, handle, then complete or release: [`handle_one`]), and reports the records
//! that failed as `batchItemFailures` (partial batch responses) instead of deleting
//! the others.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::Message as SqsMessage;
use org_change_contract::{Action, Message, MissingReason, SCHEMA_VERSION};
use serde_json::Value;
use serde_json::value::RawValue;

/// Long polling: one ReceiveMessage waits up to 20 s (SQS's maximum) for messages.
const WAIT_SECONDS: i32 = 20;

/// After a failed poll, wait this long before the next.
const RETRY_AFTER: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(queue_url) = std::env::var("QUEUE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        eprintln!(
            "consumer: QUEUE_URL is not set: set it to the URL of the relay's queue (after `make relay`: . .demo/env)"
        );
        return ExitCode::from(2);
    };
    let sqs = Client::new(&aws_config::load_defaults(BehaviorVersion::latest()).await);
    let seen = InMemorySeenIds::default();
    loop {
        match poll_once(&sqs, &queue_url, WAIT_SECONDS, &seen, follow_up).await {
            Ok(polled) if polled.received > 0 => println!("consumer: {polled:?}"),
            Ok(_) => {}
            Err(err) => {
                // The root cause alone: the SDK's whole chain is a page of debug output.
                let mut cause: &dyn std::error::Error = &err;
                while let Some(source) = cause.source() {
                    cause = source;
                }
                eprintln!(
                    "consumer: {err}: {cause} (after a new `make relay`, source .demo/env again)"
                );
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Deduplication: the seen-id store.
// ---------------------------------------------------------------------------------

/// The ids of the changes already handled.
///
/// In production this store must be durable and shared by every instance of the
/// consumer, e.g. a DynamoDB table keyed by `id`:
/// - `claim`: `PutItem` with `ConditionExpression: attribute_not_exists(id)`; a
///   `ConditionalCheckFailedException` means a duplicate. Give the item an expiry
///   attribute with DynamoDB TTL, longer than a duplicate can still turn up: the
///   platforms' ~7 h of retries plus the longest a message can wait on the queue (its
///   `MessageRetentionPeriod`, 4 days by default);
/// - a new claim is a short lease (longer than handling takes, e.g. the queue's
///   visibility timeout; the condition then also accepts an expired lease), so that
///   an instance that dies mid-change does not hide the redelivery for good;
///   `complete` turns it into the long expiry, and `release` (`DeleteItem`) drops it
///   when handling failed. Powertools for AWS Lambda's idempotency utility
///   implements this pattern.
trait SeenIds {
    /// Claims `id` for handling, unless it is handled or being handled.
    async fn claim(&self, id: &str) -> Result<Claim, StoreError>;
    /// The change was handled: its claim now lasts for the whole deduplication window.
    async fn complete(&self, id: &str) -> Result<(), StoreError>;
    /// Handling failed: forget the claim, so that the redelivered message is handled.
    async fn release(&self, id: &str) -> Result<(), StoreError>;
}

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// Not seen before, and now claimed: handle it, then `complete` or `release` it.
    New,
    /// Already handled: a duplicate, to skip and delete.
    Handled,
    /// Being handled right now (by another instance, or by this one before it died):
    /// leave the message on the queue. It comes back after the visibility timeout,
    /// and by then it is handled, or free again.
    Busy,
}

/// [`SeenIds`] in this process's memory: for this example and for tests only.
#[derive(Debug, Default)]
struct InMemorySeenIds {
    /// Each claimed id, and whether its change was handled.
    ids: Mutex<HashMap<String, bool>>,
}

impl InMemorySeenIds {
    fn ids(&self) -> Result<MutexGuard<'_, HashMap<String, bool>>, StoreError> {
        self.ids
            .lock()
            .map_err(|_| StoreError("a thread panicked while holding the seen-id set".into()))
    }
}

impl SeenIds for InMemorySeenIds {
    async fn claim(&self, id: &str) -> Result<Claim, StoreError> {
        // Without a lease: a claim in memory lasts as long as the process.
        Ok(match self.ids()?.entry(id.to_owned()) {
            Entry::Vacant(entry) => {
                entry.insert(false);
                Claim::New
            }
            Entry::Occupied(entry) if *entry.get() => Claim::Handled,
            Entry::Occupied(_) => Claim::Busy,
        })
    }

    async fn complete(&self, id: &str) -> Result<(), StoreError> {
        self.ids()?.insert(id.to_owned(), true);
        Ok(())
    }

    async fn release(&self, id: &str) -> Result<(), StoreError> {
        self.ids()?.remove(id);
        Ok(())
    }
}

/// The seen-id store failed; the message stays on the queue and is read again.
#[derive(Debug, thiserror::Error)]
#[error("the seen-id store failed: {0}")]
struct StoreError(String);

// ---------------------------------------------------------------------------------
// The queue: receive, deduplicate, handle, delete.
// ---------------------------------------------------------------------------------

/// What one poll did with the messages it received.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Polled {
    received: usize,
    handled: usize,
    duplicates: usize,
    /// Being handled elsewhere: left on the queue.
    busy: usize,
    /// Left on the queue: SQS delivers them again after the visibility timeout.
    failed: usize,
    /// Not a relay message of this layout: left on the queue, for its dead-letter
    /// queue (redrive policy) to take after `maxReceiveCount` attempts.
    unreadable: usize,
}

/// What became of one received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Handled,
    Duplicate,
    Busy,
    Failed,
    Unreadable,
}

/// Why a poll stopped. The messages it did not finish stay on the queue.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("ReceiveMessage failed")]
    Receive(#[source] aws_sdk_sqs::Error),
    #[error(
        "DeleteMessage failed: the message will be delivered again, and skipped as a duplicate"
    )]
    Delete(#[source] aws_sdk_sqs::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Receives up to 10 messages (waiting up to `wait_seconds` for them), hands each new
/// change to `handle` once, and deletes the handled ones and the duplicates.
async fn poll_once(
    sqs: &Client,
    queue_url: &str,
    wait_seconds: i32,
    seen: &impl SeenIds,
    handle: impl AsyncFn(&Message<'static>) -> Result<(), HandleError>,
) -> Result<Polled, PollError> {
    let output = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait_seconds)
        .send()
        .await
        .map_err(|err| PollError::Receive(err.into()))?;
    let mut polled = Polled::default();
    for received in output.messages() {
        polled.received += 1;
        let outcome = handle_one(received, seen, &handle).await?;
        match outcome {
            Outcome::Handled => polled.handled += 1,
            Outcome::Duplicate => polled.duplicates += 1,
            Outcome::Busy => polled.busy += 1,
            Outcome::Failed => polled.failed += 1,
            Outcome::Unreadable => polled.unreadable += 1,
        }
        // Handled and duplicate messages leave the queue; the others come back.
        if matches!(outcome, Outcome::Handled | Outcome::Duplicate)
            && let Some(receipt) = received.receipt_handle()
        {
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(receipt)
                .send()
                .await
                .map_err(|err| PollError::Delete(err.into()))?;
        }
    }
    Ok(polled)
}

/// One SQS message: read it, skip it if its change was seen, else handle it and
/// record the result.
async fn handle_one(
    received: &SqsMessage,
    seen: &impl SeenIds,
    handle: &impl AsyncFn(&Message<'static>) -> Result<(), HandleError>,
) -> Result<Outcome, StoreError> {
    let message = match read(received.body()) {
        Ok(message) => message,
        Err(err) => {
            eprintln!(
                "consumer: SQS message {}: {err}",
                received.message_id().unwrap_or("?")
            );
            return Ok(Outcome::Unreadable);
        }
    };
    match seen.claim(&message.id).await? {
        Claim::New => {}
        Claim::Handled => return Ok(Outcome::Duplicate),
        Claim::Busy => return Ok(Outcome::Busy),
    }
    match handle(&message).await {
        Ok(()) => {
            seen.complete(&message.id).await?;
            Ok(Outcome::Handled)
        }
        Err(err) => {
            eprintln!(
                "consumer: {} not handled, it stays on the queue: {err}",
                message.id
            );
            seen.release(&message.id).await?;
            Ok(Outcome::Failed)
        }
    }
}

/// Why an SQS message is not a change this consumer can read.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("no body")]
    NoBody,
    #[error("not a relay message (see schema/message.schema.json)")]
    NotAMessage(#[from] serde_json::Error),
    #[error("schema_version {0}, not {SCHEMA_VERSION}: this consumer needs updating")]
    Version(u32),
}

/// The relay's message in an SQS body: the project's own [`Message`] type, so the
/// consumer reads exactly what the relay writes.
fn read(body: Option<&str>) -> Result<Message<'static>, ReadError> {
    let message: Message<'static> = serde_json::from_str(body.ok_or(ReadError::NoBody)?)?;
    if message.schema_version != SCHEMA_VERSION {
        return Err(ReadError::Version(message.schema_version));
    }
    Ok(message)
}

// ---------------------------------------------------------------------------------
// The follow-up: read the unit's current state.
// ---------------------------------------------------------------------------------

/// A Feishu People query API that returns the current state of a unit.
///
/// The event pages name these APIs by their titles; the paths below are the ones the
/// official Lark SDKs call for them (e.g. the Java SDK's samples
/// `BatchGetDepartmentSample` and `QueryCustomOrgSample`). Check the request fields
/// against the API's documentation before relying on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// 批量查询部门 ("batch query departments"):
    /// `POST https://open.feishu.cn/open-apis/corehr/v2/departments/batch_get`, body
    /// `{"department_id_list": [entity_id]}`. Uncertain: which `department_id_type`
    /// query parameter the events' `department_id` needs; our sources do not say.
    CorehrDepartments,
    /// 批量查询当前版本的自定义组织信息 ("query the current version of custom
    /// organizations", named by the `corehr.custom_org.updated_v2` page):
    /// `POST https://open.feishu.cn/open-apis/corehr/v2/custom_orgs/query`, body
    /// `{"object_api_name": object_api_name, "org_ids": [entity_id]}`.
    CorehrCustomOrgs,
}

impl Api {
    fn endpoint(self) -> &'static str {
        match self {
            Api::CorehrDepartments => "POST /open-apis/corehr/v2/departments/batch_get",
            Api::CorehrCustomOrgs => "POST /open-apis/corehr/v2/custom_orgs/query",
        }
    }

    /// How long after the event the API shows the change.
    fn lag(self) -> Duration {
        match self {
            // Seed 000: batch query shows the change as soon as the event is received;
            // it is the search and get-parents APIs that lag (by an undocumented time),
            // so they are not used here.
            Api::CorehrDepartments => Duration::ZERO,
            // Seed 003: the custom-org query lags "within 2 s".
            Api::CorehrCustomOrgs => Duration::from_secs(2),
        }
    }
}

/// Where a change's current state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FollowUp {
    /// Ask the platform, no earlier than `not_before`.
    Query { api: Api, not_before: SystemTime },
    /// The message carries the whole unit after the change in `after` (Feilian,
    /// `contact.department.created_v3` and `updated_v3`). Our sources name no Feilian
    /// query API.
    /// Messages can arrive out of order: compare the snapshot's own times (Feilian's
    /// `update_time`) with what you hold before overwriting it.
    Snapshot,
    /// The unit was deleted: remove it on your side, and keep a tombstone so that a
    /// late retry of an older change (the platforms retry for ~7 h) does not bring it
    /// back.
    Gone,
    /// The enricher read the unit: `current` holds it as the API returned it at
    /// `current_at`. Compare that time with what you hold, as messages can arrive out of order.
    Enriched,
    /// The enricher read nothing, for this reason: `not_found` (the API no longer
    /// returns it: a deletion usually follows) or `forbidden` (outside the app's data
    /// permission range). Keep what you hold.
    Unreadable(MissingReason),
}

impl FollowUp {
    /// The follow-up for `message`, received at `now`.
    fn for_message(message: &Message<'_>, now: SystemTime) -> Self {
        if message.current.is_some() {
            return FollowUp::Enriched;
        }
        if let Some(missing) = message.current_missing
            && missing.reason != MissingReason::Deleted
        {
            return FollowUp::Unreadable(missing.reason);
        }
        if message.action == Action::Deleted {
            return FollowUp::Gone;
        }
        let api = if message.event_type.starts_with("corehr.department.") {
            Api::CorehrDepartments
        } else if message.event_type.starts_with("corehr.custom_org.") {
            Api::CorehrCustomOrgs
        } else {
            return FollowUp::Snapshot;
        };
        // The lag counts from the event; without its time, from now.
        let since = message
            .occurred_at
            .as_deref()
            .and_then(|at| humantime::parse_rfc3339(at).ok())
            .unwrap_or(now);
        FollowUp::Query {
            api,
            not_before: since + api.lag(),
        }
    }
}

/// Handling a change failed; the message stays on the queue and comes back.
#[derive(Debug, thiserror::Error)]
enum HandleError {
    #[error("reading the current state failed: {0}")]
    Fetch(#[from] FetchError),
}

/// Why the platform's current state could not be read.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("not implemented in this example: fill in fetch_current() to call {0}")]
    NotImplemented(&'static str),
}

/// The handler `main` runs for each new change: find where its current state comes
/// from, wait for the platform's lag, and read it.
async fn follow_up(message: &Message<'static>) -> Result<(), HandleError> {
    let (entity, action) = (message.entity, message.action);
    // The endpoint names the app whose credentials read the current state.
    println!(
        "{}: {} {} {} {}",
        message.id,
        message.endpoint_id(),
        entity.as_str(),
        message.entity_id,
        action.as_str()
    );
    match FollowUp::for_message(message, SystemTime::now()) {
        FollowUp::Gone => println!("  deleted: remove it, keep a tombstone"),
        FollowUp::Snapshot => {
            let after = message.after.as_deref().map_or("null", RawValue::get);
            println!("  current state (the snapshot): {after}");
        }
        FollowUp::Enriched => {
            let current = message.current.as_deref().map_or("null", RawValue::get);
            let at = message.current_at.as_deref().unwrap_or("an unknown time");
            println!("  current state (read by the enricher at {at}): {current}");
        }
        FollowUp::Unreadable(reason) => {
            println!(
                "  no current state ({}): keep what you hold",
                reason.as_str()
            );
        }
        FollowUp::Query { api, not_before } => {
            if let Ok(wait) = not_before.duration_since(SystemTime::now()) {
                tokio::time::sleep(wait).await;
            }
            let state = fetch_current(api, message).await?;
            println!("  current state: {state}");
        }
    }
    Ok(())
}

/// FILL IN: read the unit's current state from `api` (see [`Api`] for the endpoint and
/// body): get a `tenant_access_token` for your app, POST the body with it, and return
/// the unit from the response. Return an error for any failure, so that the message
/// stays on the queue and is retried.
///
/// This example has no platform credentials and makes no call: it fails, so that
/// nothing here pretends to have read the platform. Until this is filled in, Feishu
/// People changes stay on the queue (and go to its dead-letter queue, if it has one),
/// unless the consumer reads the enricher's queue, whose messages carry `current`.
async fn fetch_current(api: Api, _message: &Message<'static>) -> Result<Value, FetchError> {
    Err(FetchError::NotImplemented(api.endpoint()))
}

// The tests read and write a real queue (moto), like the other integration tests.
#[cfg(all(test, feature = "integration"))]
#[path = "../tests/common/mod.rs"]
mod common;

#[cfg(all(test, feature = "integration"))]
mod tests {
    use aws_sdk_sqs::types::QueueAttributeName;
    use serde_json::json;

    use super::common::*;
    use super::*;

    /// Runs the consumer over the queue until a poll finds nothing; the ids `handle`
    /// was called with, and the sum of the polls.
    async fn consume(
        client: &Client,
        queue: &str,
        seen: &InMemorySeenIds,
        fail: bool,
    ) -> (Vec<String>, Polled) {
        let handled = Mutex::new(Vec::new());
        let mut total = Polled::default();
        loop {
            let polled = poll_once(client, queue, 0, seen, async |message| {
                handled
                    .lock()
                    .expect("not poisoned")
                    .push(message.id.to_string());
                if fail {
                    return Err(FetchError::NotImplemented("a failing test handler").into());
                }
                Ok(())
            })
            .await
            .expect("moto answers");
            if polled.received == 0 {
                return (handled.into_inner().expect("not poisoned"), total);
            }
            total.received += polled.received;
            total.handled += polled.handled;
            total.duplicates += polled.duplicates;
            total.busy += polled.busy;
            total.failed += polled.failed;
            total.unreadable += polled.unreadable;
        }
    }

    async fn messages_in_flight(client: &Client, queue: &str) -> String {
        let name = QueueAttributeName::ApproximateNumberOfMessagesNotVisible;
        let output = client
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(name.clone())
            .send()
            .await
            .expect("moto answers");
        output
            .attributes()
            .and_then(|a| a.get(&name))
            .cloned()
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_retried_webhook_is_handled_once() {
        let Setup { client, queue } = setup(false).await;
        let relay = encrypted_app(&client, &queue);
        let feishu = sample("feishu/corehr.department.updated_v2.json");
        let feilian = sample("feilian/department.v1.create.json");
        // Each platform sends its event twice (a retry, `docs/protocol.md`, "Delivery and retries"); the
        // relay acknowledges both, so a standard queue holds every change twice.
        for _ in 0..2 {
            assert_eq!(send(&relay, &feishu_event(&feishu)).await.status, 200);
            assert_eq!(send(&relay, &feilian_event(&feilian)).await.status, 200);
        }

        let seen = InMemorySeenIds::default();
        let (mut handled, polled) = consume(&client, &queue, &seen, false).await;

        handled.sort();
        assert_eq!(
            handled,
            [
                "feilian:f1a0c3d4-5b6e-4f70-8a9b-0c1d2e3fxxxx:0",
                "feilian:f1a0c3d4-5b6e-4f70-8a9b-0c1d2e3fxxxx:1",
                "feishu:5e3702a84e847582be8db7fb73283c02",
            ]
        );
        assert_eq!(
            polled,
            Polled {
                received: 6,
                handled: 3,
                duplicates: 3,
                ..Polled::default()
            }
        );
        assert!(
            drain(&client, &queue).await.is_empty(),
            "duplicates are deleted too"
        );
    }

    #[tokio::test]
    async fn a_change_whose_handling_failed_is_handled_when_it_comes_back() {
        let Setup { client, queue } = setup(false).await;
        client
            .set_queue_attributes()
            .queue_url(&queue)
            .attributes(QueueAttributeName::VisibilityTimeout, "1")
            .send()
            .await
            .expect("moto sets the visibility timeout");
        let relay = encrypted_app(&client, &queue);
        let feishu = sample("feishu/corehr.custom_org.updated_v2.json");
        assert_eq!(send(&relay, &feishu_event(&feishu)).await.status, 200);
        let seen = InMemorySeenIds::default();

        let (tried, polled) = consume(&client, &queue, &seen, true).await;
        assert_eq!(tried.len(), 1);
        assert_eq!(polled.failed, 1);
        assert_eq!(
            messages_in_flight(&client, &queue).await,
            "1",
            "not deleted"
        );

        // After the visibility timeout SQS delivers it again, and it is not a duplicate.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let (handled, polled) = consume(&client, &queue, &seen, false).await;
        assert_eq!(handled, tried);
        assert_eq!(polled.handled, 1);
        assert!(drain(&client, &queue).await.is_empty());
    }

    #[tokio::test]
    async fn a_body_that_is_not_a_relay_message_stays_on_the_queue() {
        let Setup { client, queue } = setup(false).await;
        for body in ["not json", r#"{"schema_version": 2}"#] {
            client
                .send_message()
                .queue_url(&queue)
                .message_body(body)
                .send()
                .await
                .expect("moto takes the message");
        }
        let (handled, polled) = consume(&client, &queue, &InMemorySeenIds::default(), false).await;
        assert!(handled.is_empty());
        assert_eq!(polled.unreadable, 2);
        assert_eq!(messages_in_flight(&client, &queue).await, "2");
    }

    #[tokio::test]
    async fn a_claim_is_new_then_busy_until_handled_or_released() {
        let seen = InMemorySeenIds::default();
        let claim = async |id| seen.claim(id).await.expect("memory does not fail");
        assert_eq!(claim("feishu:a").await, Claim::New);
        assert_eq!(claim("feishu:a").await, Claim::Busy);
        seen.complete("feishu:a").await.expect("completed");
        assert_eq!(claim("feishu:a").await, Claim::Handled);

        assert_eq!(claim("feishu:b").await, Claim::New);
        seen.release("feishu:b").await.expect("released");
        assert_eq!(claim("feishu:b").await, Claim::New);
    }

    fn message(fields: Value) -> Message<'static> {
        let mut message = json!({
            "schema_version": 1, "id": "feishu:e1", "source": "feishu",
            "event_type": "corehr.custom_org.updated_v2", "event_id": "e1",
            "entity": "custom_org", "action": "updated", "entity_id": "7436668377630295596",
            "object_api_name": "custom_org_01", "changed_fields": ["name"],
            "occurred_at": "2020-12-23T12:19:49.000Z", "tenant_key": null, "app_id": null,
            "before": null, "after": null,
        });
        for (key, value) in fields.as_object().expect("an object") {
            message[key] = value.clone();
        }
        serde_json::from_value(message).expect("a relay message")
    }

    #[test]
    fn the_endpoint_names_the_app_even_for_a_message_from_before_the_field() {
        assert_eq!(message(json!({})).endpoint_id(), "feishu");
        let lark = message(json!({"endpoint": "feishu/lark-global"}));
        assert_eq!(lark.endpoint_id(), "feishu/lark-global");
    }

    #[test]
    fn reads_the_state_after_each_apis_lag_from_the_event_time() {
        let event = humantime::parse_rfc3339("2020-12-23T12:19:49.000Z").expect("a time");
        let now = SystemTime::now();
        let custom_org = message(json!({}));
        assert_eq!(
            FollowUp::for_message(&custom_org, now),
            FollowUp::Query {
                api: Api::CorehrCustomOrgs,
                not_before: event + Duration::from_secs(2)
            }
        );
        let department = message(json!({
            "event_type": "corehr.department.updated_v2", "entity": "department",
            "object_api_name": null, "occurred_at": null,
        }));
        assert_eq!(
            FollowUp::for_message(&department, now),
            FollowUp::Query {
                api: Api::CorehrDepartments,
                not_before: now
            }
        );
    }

    #[test]
    fn snapshots_and_deletions_need_no_query() {
        let now = SystemTime::now();
        let feilian = json!({
            "source": "feilian", "event_type": "department.v1.update", "entity": "department",
            "after": {"open_id": "od_1", "name": "A"}, "before": {"open_id": "od_1", "name": "B"},
        });
        assert_eq!(
            FollowUp::for_message(&message(feilian), now),
            FollowUp::Snapshot
        );
        let deleted =
            message(json!({"event_type": "corehr.custom_org.deleted_v2", "action": "deleted"}));
        assert_eq!(FollowUp::for_message(&deleted, now), FollowUp::Gone);
    }

    #[test]
    fn an_enriched_message_needs_no_query() {
        let now = SystemTime::now();
        let enriched = message(json!({
            "current": {"org_id": "7436668377630295596", "active": true},
            "current_at": "2020-12-23T12:19:51.000Z", "current_missing": null,
        }));
        assert_eq!(FollowUp::for_message(&enriched, now), FollowUp::Enriched);
        let missing = |reason: &str, code: Value| {
            let action = if reason == "deleted" {
                "deleted"
            } else {
                "updated"
            };
            let fields = json!({"current": null, "current_at": null, "action": action,
                "current_missing": {"reason": reason, "code": code}});
            FollowUp::for_message(&message(fields), now)
        };
        assert_eq!(
            missing("forbidden", json!(1160103)),
            FollowUp::Unreadable(MissingReason::Forbidden)
        );
        assert_eq!(
            missing("not_found", Value::Null),
            FollowUp::Unreadable(MissingReason::NotFound)
        );
        assert_eq!(missing("deleted", Value::Null), FollowUp::Gone);
    }

    #[tokio::test]
    async fn an_enriched_message_is_handled_without_fetch_current() {
        let enriched = message(json!({
            "current": {"org_id": "7436668377630295596"},
            "current_at": "2020-12-23T12:19:51.000Z", "current_missing": null,
        }));
        assert!(follow_up(&enriched).await.is_ok());
    }

    #[tokio::test]
    async fn the_follow_up_fails_until_fetch_current_is_filled_in() {
        let err = follow_up(&message(json!({})))
            .await
            .expect_err("no platform call is made");
        assert_eq!(
            err.to_string(),
            "reading the current state failed: not implemented in this example: \
             fill in fetch_current() to call POST /open-apis/corehr/v2/custom_orgs/query"
        );
        let gone = message(json!({"action": "deleted"}));
        assert!(follow_up(&gone).await.is_ok());
    }
}
