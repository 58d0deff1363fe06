//! The relay under SQS faults: a proxy (tests/sqs_fault_proxy.py, one per test)
//! between the relay's SQS client and moto forwards, delays, forges or breaks the
//! answers to `SendMessageBatch`, and each test checks the status, the time to
//! answer, exactly which messages are on the queue afterwards, and the calls made.
//!
//! The expected statuses follow from the code: the SDK retries throttling, HTTP
//! 5xx, timeouts and broken connections itself (src/aws.rs: 3 attempts, 0.9 s per
//! attempt, 2 s per operation), and a failed call fails the request; the relay
//! resends the entries SQS refused as retryable or did not confirm (3 attempts,
//! src/queue/mod.rs), and a sender fault fails the request; `ENQUEUE_DEADLINE`
//! (2.5 s) caps it all. [`run`] checks the promise itself after every scenario.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// The queue a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Standard,
    /// A FIFO queue, and its `FIFO_GROUP_BY`.
    Fifo(&'static str),
}

const STANDARD: Kind = Kind::Standard;
/// By unit, a request's changes to three departments share one call, which is what
/// most FIFO scenarios fault.
const FIFO: Kind = Kind::Fifo("unit");
/// By tenant (the default), they go one call after another.
const FIFO_BY_TENANT: Kind = Kind::Fifo("tenant");

/// A request, and the ids of the messages it must put on the queue.
struct Request {
    http: HttpRequest,
    ids: Vec<String>,
}

impl Request {
    /// The id of its `index`-th message.
    fn id(&self, index: usize) -> &str {
        &self.ids[index]
    }

    /// The ids of the messages at `indices`, sorted.
    fn only(&self, indices: impl IntoIterator<Item = usize>) -> Vec<String> {
        let mut ids: Vec<String> = indices.into_iter().map(|i| self.ids[i].clone()).collect();
        ids.sort();
        ids
    }

    /// Every id `copies` times, sorted.
    fn each(&self, copies: usize) -> Vec<String> {
        let mut ids: Vec<String> = self
            .ids
            .iter()
            .flat_map(|id| std::iter::repeat_n(id.clone(), copies))
            .collect();
        ids.sort();
        ids
    }

    /// A proxy selector for the messages at `indices`.
    fn select(&self, indices: &[usize]) -> Value {
        json!({ "messages": indices.iter().map(|&i| self.id(i)).collect::<Vec<_>>() })
    }
}

/// A Feilian update with `entries` changes (more than ten: several batches).
fn feilian(entries: usize) -> Request {
    feilian_units(entries, |i| format!("od_{i}"))
}

/// A Feilian request of `entries` changes to one department: one unit, whose changes
/// must stay in order, so its calls go one after another (a chain), each once the one
/// before is confirmed; the first failure ends the chain.
fn feilian_one_unit(entries: usize) -> Request {
    feilian_units(entries, |_| "od_one".to_owned())
}

/// A Feilian request of `entries` changes, change `i` to department `unit(i)`.
fn feilian_units(entries: usize, unit: impl Fn(usize) -> String) -> Request {
    let event_id = format!("faults-{entries}");
    let events: Vec<Value> = (0..entries)
        .map(|i| json!({"object": {"open_id": unit(i), "name": format!("n{i}")}, "update_fields": ["name"]}))
        .collect();
    let body = json!({
        "schema": "1.0",
        "header": {"event_id": event_id, "token": FEILIAN_TOKEN, "create_time": "1740385174957", "event_type": "department.v1.update", "app_id": "cfg"},
        "data": {"events": events},
    });
    Request {
        http: feilian_event(&body.to_string()),
        ids: (0..entries)
            .map(|i| format!("feilian:{event_id}:{i}"))
            .collect(),
    }
}

/// A Feishu event, encrypted and signed: one message.
fn feishu() -> Request {
    Request {
        http: feishu_event(&sample("feishu/corehr.department.updated_v2.json")),
        ids: vec!["feishu:5e3702a84e847582be8db7fb73283c02".into()],
    }
}

/// What a scenario came to.
#[derive(Debug)]
struct Outcome {
    status: u16,
    /// The `error` of the answer; empty for a 200.
    error: String,
    elapsed: Duration,
    /// The ids of the messages on the queue afterwards, duplicates included, sorted.
    on_queue: Vec<String>,
    /// The `SendMessageBatch` calls the proxy received.
    calls: Vec<ProxiedCall>,
}

impl Outcome {
    /// Asserts the status, the error code, the messages on the queue and the number
    /// of `SendMessageBatch` calls.
    fn expect(&self, status: u16, error: &str, on_queue: &[String], calls: usize) {
        assert_eq!(
            (self.status, self.error.as_str()),
            (status, error),
            "{self:#?}"
        );
        assert_eq!(self.on_queue, on_queue, "messages on the queue: {self:#?}");
        assert_eq!(self.calls.len(), calls, "SendMessageBatch calls: {self:#?}");
    }

    /// The message ids sent in call `n` (from 1).
    fn sent(&self, n: usize) -> Vec<&str> {
        self.calls[n - 1].sent.iter().map(String::as_str).collect()
    }

    /// How many calls the proxy forwarded to SQS (and SQS stored).
    fn forwarded(&self) -> usize {
        self.calls
            .iter()
            .filter(|call| !call.forwarded.is_empty())
            .count()
    }
}

/// Sends `request` to the relay, whose SQS client talks to a fault proxy playing
/// `scenario`, in front of a new queue; then reads back everything on the queue.
/// Every scenario goes through here, and so through [`assert_promise_kept`].
async fn run(scenario: Value, kind: Kind, request: &Request) -> Outcome {
    let proxy = FaultProxy::start(&scenario);
    let direct = sqs_client(&moto_endpoint()).await;
    let queue = create_queue(&direct, kind != STANDARD).await;
    let mut vars = vec![("QUEUE_URL", queue.as_str())];
    vars.extend(SECRETS);
    if let Kind::Fifo(group_by) = kind {
        vars.push(("FIFO_GROUP_BY", group_by));
    }
    let app = app(&proxy.relay_client().await, &vars);

    let started = Instant::now();
    let answer = send(&app, &request.http).await;
    let elapsed = started.elapsed();

    let calls = proxy.calls().await;
    let mut on_queue: Vec<String> = drain(&direct, &queue)
        .await
        .iter()
        .map(|message| message.body["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    on_queue.sort();
    let body = answer.json();
    let outcome = Outcome {
        status: answer.status,
        error: body["error"].as_str().unwrap_or_default().to_owned(),
        elapsed,
        on_queue,
        calls,
    };
    assert_promise_kept(request, &outcome, &body);
    outcome
}

/// The relay's promise, checked after every scenario: an answer inside the
/// platforms' 3 s, either 200 or 503, **no 200 while a message of the request is
/// missing from the queue**, never more messages claimed than are on the queue, and
/// nothing on the queue that the request did not carry.
fn assert_promise_kept(request: &Request, outcome: &Outcome, body: &Value) {
    assert!(
        outcome.elapsed < Duration::from_secs(3),
        "answered after {:?}: {outcome:#?}",
        outcome.elapsed
    );
    let missing: Vec<&String> = request
        .ids
        .iter()
        .filter(|id| !outcome.on_queue.contains(id))
        .collect();
    match outcome.status {
        200 => {
            assert!(
                missing.is_empty(),
                "200 while {missing:?} are not on the queue: {outcome:#?}"
            );
            assert_eq!(
                body,
                &json!({"ok": true, "enqueued": request.ids.len()}),
                "{outcome:#?}"
            );
        }
        503 => {
            assert!(
                ["enqueue_failed", "enqueue_timeout"].contains(&outcome.error.as_str()),
                "{body}"
            );
            // How many SQS confirmed, and nothing of what SQS said (its errors may
            // name the account or a host: the log line has them).
            let message = body["message"].as_str().unwrap_or_default();
            let claimed: usize = message
                .strip_prefix("not enqueued, the platform will retry: ")
                .and_then(|rest| {
                    rest.strip_suffix(&format!(
                        " of {} messages enqueued (the cause is in the relay's log)",
                        request.ids.len()
                    ))
                })
                .and_then(|claimed| claimed.parse().ok())
                .unwrap_or_else(|| panic!("the 503's message: {body}"));
            let there = request.ids.len() - missing.len();
            assert!(
                claimed <= there,
                "claims {claimed} enqueued, {there} are on the queue: {body}"
            );
        }
        status => panic!("status {status}, expected 200 or 503: {body}"),
    }
    for id in &outcome.on_queue {
        assert!(
            request.ids.contains(id),
            "{id} is on the queue, but the request did not carry it"
        );
    }
}

// Faults, as the proxy takes them (tests/sqs_fault_proxy.py).

/// SQS's throttling error as the SDK reads it: the `x-amzn-query-error` code
/// `RequestThrottled`, which it models and retries as throttling.
fn throttled() -> Value {
    json!({"error": {"status": 400, "type": "com.amazonaws.sqs#RequestThrottled",
        "query_error": "RequestThrottled;Sender", "message": "Rate exceeded"}})
}

fn http_error(status: u16) -> Value {
    let (kind, code) = match status {
        503 => ("Receiver", "ServiceUnavailable"),
        _ => ("Receiver", "InternalError"),
    };
    json!({"error": {"status": status, "type": format!("com.amazonaws.sqs#{code}"),
        "query_error": format!("{code};{kind}"), "message": "injected"}})
}

/// `Failed` entries for the selected messages, not stored.
fn refused(select: Value, sender_fault: bool) -> Value {
    let code = if sender_fault {
        "InvalidParameterValue"
    } else {
        "InternalError"
    };
    json!({"refuse": [{"select": select, "sender_fault": sender_fault, "code": code}]})
}

fn first(n: usize, fault: Value) -> Value {
    json!({ "plan": vec![fault; n] })
}

fn always(fault: Value) -> Value {
    json!({ "then": fault })
}

// Throttling: retried by the SDK, 3 attempts per call.

#[tokio::test]
async fn throttled_once_the_sdk_retries_and_the_answer_is_200() {
    let request = feilian(3);
    let outcome = run(first(1, throttled()), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
}

#[tokio::test]
async fn throttled_twice_the_third_sdk_attempt_gets_every_batch_through() {
    let request = feilian(25);
    let outcome = run(first(2, throttled()), STANDARD, &request).await;
    // 3 attempts for the first ten, then one call for each of the other two batches.
    outcome.expect(200, "", &request.each(1), 5);
}

#[tokio::test]
async fn throttled_three_times_the_sdk_gives_up_and_the_answer_is_503() {
    let request = feishu();
    let outcome = run(first(3, throttled()), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &[], 3);
}

#[tokio::test]
async fn always_throttled_the_answer_is_503_and_no_later_batch_is_tried() {
    let request = feilian_one_unit(25);
    let outcome = run(always(throttled()), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &[], 3);
}

#[tokio::test]
async fn a_throttling_code_the_sdk_does_not_model_is_not_retried_and_the_answer_is_503() {
    // `AWS.SimpleQueueService.RequestThrottled` is not the code SQS's model gives
    // (`RequestThrottled`), so the SDK does not know it for throttling: one attempt.
    let request = feilian(3);
    let fault = json!({"error": {"status": 400, "type": "com.amazonaws.sqs#RequestThrottled",
        "query_error": "AWS.SimpleQueueService.RequestThrottled;Sender"}});
    let outcome = run(first(1, fault), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &[], 1);
}

// HTTP 500 and 503: retried by the SDK like throttling.

#[tokio::test]
async fn http_500_once_the_sdk_retries_and_the_answer_is_200() {
    let request = feishu();
    let outcome = run(first(1, http_error(500)), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
}

#[tokio::test]
async fn http_500_twice_the_third_sdk_attempt_gets_through() {
    let request = feilian(3);
    let outcome = run(first(2, http_error(500)), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 3);
}

#[tokio::test]
async fn http_500_three_times_the_answer_is_503() {
    let request = feilian(3);
    let outcome = run(first(3, http_error(500)), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &[], 3);
}

#[tokio::test]
async fn http_500_always_the_answer_is_503() {
    let request = feilian_one_unit(25);
    let outcome = run(always(http_error(500)), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &[], 3);
}

#[tokio::test]
async fn http_503_once_the_sdk_retries_and_the_answer_is_200() {
    let request = feilian(3);
    let outcome = run(first(1, http_error(503)), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
}

#[tokio::test]
async fn http_503_twice_the_third_sdk_attempt_gets_every_batch_through() {
    let request = feilian(25);
    let outcome = run(first(2, http_error(503)), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 5);
}

#[tokio::test]
async fn http_503_three_times_the_answer_is_503() {
    let request = feishu();
    let outcome = run(first(3, http_error(503)), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &[], 3);
}

#[tokio::test]
async fn http_503_always_the_answer_is_503() {
    let request = feilian(3);
    let outcome = run(always(http_error(503)), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &[], 3);
}

// Entries SQS lists as Failed: the relay resends the retryable ones (3 attempts).

#[tokio::test]
async fn a_retryable_failed_entry_is_resent_alone_and_the_answer_is_200() {
    let request = feilian(3);
    let outcome = run(
        first(1, refused(request.select(&[1]), false)),
        STANDARD,
        &request,
    )
    .await;
    outcome.expect(200, "", &request.each(1), 2);
    assert_eq!(outcome.sent(2), [request.id(1)]);
}

#[tokio::test]
async fn on_a_fifo_queue_a_refused_change_is_resent_before_the_next_change_of_its_group() {
    // Three changes to one department grouped by unit, or to three departments of one
    // tenant grouped by tenant: one group, so each change goes in a call of its own,
    // and #0, refused and resent, is stored before #1 is sent. (On a standard queue
    // the three share one call, and #1 and #2 would be stored ahead of it.)
    for (request, kind) in [(feilian_one_unit(3), FIFO), (feilian(3), FIFO_BY_TENANT)] {
        let outcome = run(
            first(1, refused(request.select(&[0]), false)),
            kind,
            &request,
        )
        .await;
        outcome.expect(200, "", &request.each(1), 4);
        let calls: Vec<Vec<&str>> = (1..=4).map(|n| outcome.sent(n)).collect();
        assert_eq!(
            calls,
            [
                [request.id(0)],
                [request.id(0)],
                [request.id(1)],
                [request.id(2)]
            ],
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn a_retryable_failed_entry_every_time_gets_503_after_three_attempts() {
    let request = feilian(3);
    let outcome = run(
        always(refused(request.select(&[1]), false)),
        STANDARD,
        &request,
    )
    .await;
    outcome.expect(503, "enqueue_failed", &request.only([0, 2]), 3);
    assert_eq!(outcome.sent(3), [request.id(1)]);
}

#[tokio::test]
async fn a_sender_fault_is_not_resent_and_no_later_batch_is_tried() {
    let request = feilian_one_unit(25);
    let outcome = run(
        first(1, refused(request.select(&[1]), true)),
        STANDARD,
        &request,
    )
    .await;
    let stored: Vec<usize> = (0..10).filter(|&i| i != 1).collect();
    outcome.expect(503, "enqueue_failed", &request.only(stored), 1);
}

#[tokio::test]
async fn a_retryable_failure_and_a_sender_fault_in_one_answer_get_503_without_a_resend() {
    let request = feilian(3);
    let fault = json!({"refuse": [
        {"select": request.select(&[1]), "sender_fault": false},
        {"select": request.select(&[2]), "sender_fault": true, "code": "InvalidParameterValue"},
    ]});
    let outcome = run(first(1, fault), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.only([0]), 1);
}

#[tokio::test]
async fn mixed_faults_across_batches_are_all_recovered_and_the_answer_is_200() {
    let request = feilian_one_unit(25);
    let plan = json!({"plan": [
        throttled(),                           // batch 1, SDK attempt 1
        refused(request.select(&[3]), false),  // batch 1, SDK attempt 2
        {},                                    // the relay resends #3
        http_error(500),                       // batch 2, SDK attempt 1
        {"unreported": request.select(&[14])}, // batch 2, SDK attempt 2
        {},                                    // the relay resends #14
        {"delay": 0.3},                        // batch 3
    ]});
    let outcome = run(plan, STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 7);
    assert_eq!(
        (outcome.sent(3), outcome.sent(6)),
        (vec![request.id(3)], vec![request.id(14)])
    );
}

// Entries reported in neither list.

#[tokio::test]
async fn an_entry_reported_in_neither_list_is_resent_and_the_answer_is_200() {
    let request = feilian(3);
    let outcome = run(
        first(1, json!({"unreported": request.select(&[1])})),
        STANDARD,
        &request,
    )
    .await;
    outcome.expect(200, "", &request.each(1), 2);
    assert_eq!(outcome.sent(2), [request.id(1)]);
}

#[tokio::test]
async fn an_entry_never_reported_gets_503() {
    let request = feilian(3);
    let outcome = run(
        always(json!({"unreported": request.select(&[1])})),
        STANDARD,
        &request,
    )
    .await;
    outcome.expect(503, "enqueue_failed", &request.only([0, 2]), 3);
}

#[tokio::test]
async fn an_entry_stored_but_not_reported_is_resent_and_is_twice_on_a_standard_queue() {
    let request = feilian(3);
    let scenario = first(1, json!({"stored_unreported": request.select(&[1])}));
    let outcome = run(scenario, STANDARD, &request).await;
    outcome.expect(200, "", &request.only([0, 1, 1, 2]), 2);
}

#[tokio::test]
async fn an_entry_stored_but_not_reported_is_resent_and_is_once_on_a_fifo_queue() {
    let request = feilian(3);
    let scenario = first(1, json!({"stored_unreported": request.select(&[1])}));
    let outcome = run(scenario, FIFO, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
}

// Ids SQS reports that the relay did not send.

#[tokio::test]
async fn a_success_reported_as_01_never_confirms_entry_1() {
    let request = feilian(3);
    let scenario = always(json!({"misreport": {"select": request.select(&[1]), "as": "0{id}"}}));
    let outcome = run(scenario, STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.only([0, 2]), 3);
}

#[tokio::test]
async fn a_success_reported_as_plus_1_does_not_confirm_entry_1_which_is_resent() {
    let request = feilian(3);
    let scenario = first(
        1,
        json!({"misreport": {"select": request.select(&[1]), "as": "+{id}"}}),
    );
    let outcome = run(scenario, STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
    assert_eq!(outcome.sent(2), [request.id(1)]);
}

#[tokio::test]
async fn a_failure_reported_for_an_id_never_sent_is_ignored_and_the_entry_is_resent() {
    // #1 is not stored; Failed lists "7" as a sender fault instead of #1. Nothing
    // was sent as "7": #1 is unconfirmed, so it is resent (3 attempts), not given up.
    let request = feilian(3);
    let scenario = always(json!({"refuse": [{"select": request.select(&[1]),
        "sender_fault": true, "id_as": "7"}]}));
    let outcome = run(scenario, STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.only([0, 2]), 3);
    assert_eq!(outcome.sent(3), [request.id(1)]);
}

#[tokio::test]
async fn a_success_reported_for_an_id_never_sent_does_not_confirm_the_entry_which_is_resent() {
    let request = feishu();
    let scenario = first(
        1,
        json!({"misreport": {"select": request.select(&[0]), "as": "7"}}),
    );
    let outcome = run(scenario, STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
}

#[tokio::test]
async fn the_same_id_twice_in_failed_is_resent_once() {
    let request = feilian(3);
    let scenario = first(
        1,
        json!({"refuse": [{"select": request.select(&[1]), "sender_fault": false, "times": 2}]}),
    );
    let outcome = run(scenario, STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
    assert_eq!(outcome.sent(2), [request.id(1)]);
}

#[tokio::test]
async fn an_entry_listed_both_successful_and_failed_is_never_counted_as_enqueued() {
    let request = feilian(3);
    let scenario = always(json!({"refuse": [{"select": request.select(&[1]),
        "sender_fault": false, "also_successful": true}]}));
    let outcome = run(scenario, STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.only([0, 2]), 3);
}

// Slow answers: SQS stored the batch, the answer comes late. An attempt is given up
// after 0.9 s and the SDK tries again, which stores the batch again on a standard
// queue (at least once); FIFO deduplicates.

#[tokio::test]
async fn an_answer_half_a_second_late_is_waited_for() {
    let request = feilian(3);
    let outcome = run(first(1, json!({"delay": 0.5})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 1);
    assert!(outcome.elapsed >= Duration::from_millis(500));
}

#[tokio::test]
async fn an_answer_1s_late_is_given_up_and_the_retry_stores_the_batch_twice_on_a_standard_queue() {
    let request = feilian(3);
    let outcome = run(first(1, json!({"delay": 1.0})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(2), 2);
}

#[tokio::test]
async fn an_answer_1s_late_is_given_up_and_the_retry_is_deduplicated_on_a_fifo_queue() {
    let request = feilian(3);
    let outcome = run(first(1, json!({"delay": 1.0})), FIFO, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
}

#[tokio::test]
async fn an_answer_2s_late_is_given_up_and_the_retry_gets_through() {
    let request = feishu();
    let outcome = run(first(1, json!({"delay": 2.0})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(2), 2);
}

#[tokio::test]
async fn an_answer_5s_late_is_given_up_and_the_retry_gets_through() {
    let request = feilian(3);
    let outcome = run(first(1, json!({"delay": 5.0})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(2), 2);
    assert!(outcome.elapsed < Duration::from_millis(1500));
}

#[tokio::test]
async fn every_answer_half_a_second_late_three_calls_of_different_units_go_at_once() {
    // 25 departments: three calls in flight together, so three slow answers take
    // about one answer's time.
    let request = feilian(25);
    let outcome = run(always(json!({"delay": 0.5})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 3);
    assert!(
        outcome.elapsed < Duration::from_millis(1500),
        "{outcome:#?}"
    );
}

#[tokio::test]
async fn every_answer_half_a_second_late_three_batches_still_get_200() {
    let request = feilian_one_unit(25);
    let outcome = run(always(json!({"delay": 0.5})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 3);
    assert!(outcome.elapsed >= Duration::from_millis(1500));
}

/// Every answer `delay` late: each attempt is given up at 0.9 s, the operation at
/// 2 s, so 503 at about 2 s. The third attempt starts at 1.8 to 1.95 s and may not
/// reach SQS before the operation is cut: the batch is on a standard queue once per
/// attempt that reached it, two or three times.
async fn every_answer_late(delay: f64, kind: Kind) {
    let request = feilian(3);
    let outcome = run(always(json!({ "delay": delay })), kind, &request).await;
    let attempts = outcome.forwarded();
    assert!((2..=3).contains(&attempts), "{outcome:#?}");
    let copies = if kind == STANDARD { attempts } else { 1 };
    outcome.expect(503, "enqueue_failed", &request.each(copies), attempts);
    assert!(
        outcome.elapsed >= Duration::from_millis(1900),
        "{outcome:#?}"
    );
}

#[tokio::test]
async fn every_answer_1s_late_gets_503_at_the_sdk_operation_timeout() {
    every_answer_late(1.0, STANDARD).await;
}

#[tokio::test]
async fn every_answer_1s_late_on_a_fifo_queue_gets_503_and_the_batch_once() {
    every_answer_late(1.0, FIFO).await;
}

#[tokio::test]
async fn every_answer_2s_late_gets_503_at_the_sdk_operation_timeout() {
    every_answer_late(2.0, STANDARD).await;
}

#[tokio::test]
async fn every_answer_5s_late_gets_503_at_the_sdk_operation_timeout() {
    every_answer_late(5.0, STANDARD).await;
}

#[tokio::test]
async fn resends_that_would_end_after_the_enqueue_deadline_get_503_at_2_5s() {
    // Each answer 0.8 s late (under the 0.9 s attempt timeout) and refusing #1:
    // the third attempt would end at 0.8 + 0.05 + 0.8 + 0.1 + 0.8 = 2.55 s.
    let request = feilian(3);
    let fault =
        json!({"delay": 0.8, "refuse": [{"select": request.select(&[1]), "sender_fault": false}]});
    let outcome = run(always(fault), STANDARD, &request).await;
    outcome.expect(503, "enqueue_timeout", &request.only([0, 2]), 3);
    assert!(
        outcome.elapsed >= Duration::from_millis(2500),
        "{outcome:#?}"
    );
}

// Broken connections.

#[tokio::test]
async fn a_connection_reset_before_the_request_reaches_sqs_is_retried_by_the_sdk() {
    let request = feishu();
    let outcome = run(first(1, json!({"reset": "before"})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
}

#[tokio::test]
async fn connections_always_reset_before_sqs_get_503_and_nothing_is_on_the_queue() {
    let request = feilian(3);
    let outcome = run(always(json!({"reset": "before"})), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &[], 3);
}

#[tokio::test]
async fn a_reset_after_sqs_stored_the_batch_is_retried_and_the_batch_is_twice_on_a_standard_queue()
{
    let request = feilian(3);
    let outcome = run(first(1, json!({"reset": "after"})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(2), 2);
}

#[tokio::test]
async fn a_reset_after_sqs_stored_the_batch_is_retried_and_deduplicated_on_a_fifo_queue() {
    let request = feilian(3);
    let outcome = run(first(1, json!({"reset": "after"})), FIFO, &request).await;
    outcome.expect(200, "", &request.each(1), 2);
}

#[tokio::test]
async fn connections_always_reset_after_sqs_stored_get_503_though_the_messages_are_there() {
    // The relay cannot know they are there: 503, and the platform's retry may
    // enqueue them again (at least once).
    let request = feilian(3);
    let outcome = run(always(json!({"reset": "after"})), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.each(3), 3);
}

#[tokio::test]
async fn connections_always_reset_after_sqs_stored_on_a_fifo_queue_get_503_and_the_message_once() {
    let request = feishu();
    let outcome = run(always(json!({"reset": "after"})), FIFO, &request).await;
    outcome.expect(503, "enqueue_failed", &request.each(1), 3);
}

#[tokio::test]
async fn an_answer_cut_off_mid_body_is_retried_and_the_batch_is_twice_on_a_standard_queue() {
    let request = feilian(3);
    let outcome = run(first(1, json!({"cut": true})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(2), 2);
}

#[tokio::test]
async fn answers_always_cut_off_mid_body_get_503() {
    let request = feilian(3);
    let outcome = run(always(json!({"cut": true})), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.each(3), 3);
}

// A 200 whose body is not a SendMessageBatch answer.

#[tokio::test]
async fn a_200_with_a_garbage_body_is_not_retried_and_the_answer_is_503() {
    let request = feilian(3);
    let scenario = first(1, json!({"body": "<html><body>Bad Gateway</body></html>"}));
    let outcome = run(scenario, STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.each(1), 1);
}

#[tokio::test]
async fn a_200_with_a_truncated_body_is_not_retried_and_the_answer_is_503() {
    let request = feilian(3);
    let outcome = run(first(1, json!({"truncate": true})), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.each(1), 1);
}

#[tokio::test]
async fn a_200_with_an_empty_object_confirms_nothing_and_the_entries_are_resent() {
    let request = feilian(3);
    let outcome = run(first(1, json!({"body": "{}"})), STANDARD, &request).await;
    outcome.expect(200, "", &request.each(2), 2);
}

#[tokio::test]
async fn a_200_with_an_empty_body_every_time_gets_503_after_three_attempts() {
    let request = feilian(3);
    let outcome = run(always(json!({"body": ""})), STANDARD, &request).await;
    outcome.expect(503, "enqueue_failed", &request.each(3), 3);
}

#[tokio::test]
async fn a_200_with_an_empty_body_every_time_on_a_fifo_queue_gets_503_and_the_messages_once() {
    let request = feilian(3);
    let outcome = run(always(json!({"body": ""})), FIFO, &request).await;
    outcome.expect(503, "enqueue_failed", &request.each(1), 3);
}
