//! The benchmark behind `make bench-publish` (scripts/bench-publish.sh runs it): one
//! Feilian request of 1,000 changes through the relay (the test harness's `app()` and
//! `invoke()`: the real lambda_http adapter, the real SQS client), against moto behind
//! a proxy that delays every call by 20-50 ms, with the request's calls sent one at a
//! time and ten at a time, each with the relay's 2.5 s deadline and without one.
//! Prints the answer's status and time and what is on the queue. It fails if any run
//! answered 200 without all 1,000 message ids on the queue, or if publishing ten at a
//! time without a deadline did not answer 200. First it times moto alone (no proxy):
//! a busy machine slows moto down, and everything with it.
//!
//! Needs `MOTO_ENDPOINT` (the moto server, read back directly) and
//! `BENCH_SQS_ENDPOINT` (the proxy in front of it, which the relay talks to);
//! `BENCH_ENTRIES` (default 1000) and `BENCH_RUNS` (default 3) are optional.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{Credentials, Region};
use common::*;
use org_change_relay::queue::MAX_CALLS_IN_FLIGHT;
use serde_json::{Value, json};

/// One way of publishing: calls in flight, and how long the relay may take (`None`:
/// as configured, 2.5 s; `Some`: that long, and no SDK timeouts either).
struct Mode {
    name: &'static str,
    concurrency: usize,
    deadline: Option<Duration>,
}

/// What one run of a mode gave.
struct Run {
    status: u16,
    error: String,
    millis: f64,
    /// Messages on the queue, duplicates included (the SDK resends a call whose
    /// answer came too late; a standard queue delivers at least once anyway).
    on_queue: usize,
    /// Whether every message id of the request is on the queue.
    all_ids: bool,
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// A Feilian update of `entries` changes, each to a department of its own.
fn request(event_id: &str, entries: usize) -> Value {
    let events: Vec<Value> = (0..entries)
        .map(|i| json!({"object": {"open_id": format!("od_{i:04}"), "name": format!("Department {i}")}, "update_fields": ["name"]}))
        .collect();
    let body = json!({
        "schema": "1.0",
        "header": {"event_id": event_id, "token": FEILIAN_TOKEN, "create_time": "1740385174957", "event_type": "department.v1.update", "app_id": "bench"},
        "data": {"events": events},
    });
    feilian_event(&body.to_string()).event(Format::HttpV2, false)
}

/// A client without the relay's tight SDK deadlines (0.9 s per attempt, 2 s per
/// call), which a busy moto may not meet: to create queues and read them back, and for
/// the rows without a deadline, which measure how long publishing takes in all.
async fn patient_client(endpoint: &str) -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "bench"))
        .timeout_config(aws_config::timeout::TimeoutConfig::disabled())
        .load()
        .await;
    Client::new(&config)
}

/// The `id` of every message on the queue. Each message is received once (hidden
/// for five minutes after), not deleted: the queue is not used again.
async fn message_ids(client: &Client, queue: &str) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let output = client
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .send()
            .await
            .expect("moto answers ReceiveMessage");
        if output.messages().is_empty() {
            return ids;
        }
        for message in output.messages() {
            let body: Value = serde_json::from_str(message.body().unwrap_or_default())
                .expect("a JSON message body");
            ids.push(body["id"].as_str().unwrap_or_default().to_owned());
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let proxy = std::env::var("BENCH_SQS_ENDPOINT")
        .expect("BENCH_SQS_ENDPOINT: run this with `make bench-publish`");
    let entries = setting("BENCH_ENTRIES", 1_000);
    let runs = setting("BENCH_RUNS", 3).max(1);
    let direct = patient_client(&moto_endpoint()).await;
    let through_proxy = sqs_client(&proxy).await;
    let patient_through_proxy = patient_client(&proxy).await;

    let no_deadline = Some(Duration::from_secs(60));
    let modes = [
        Mode {
            name: "1 call in flight (before)",
            concurrency: 1,
            deadline: None,
        },
        Mode {
            name: "10 calls in flight",
            concurrency: MAX_CALLS_IN_FLIGHT,
            deadline: None,
        },
        Mode {
            name: "1 call in flight, no deadline",
            concurrency: 1,
            deadline: no_deadline,
        },
        Mode {
            name: "10 calls in flight, no deadline",
            concurrency: MAX_CALLS_IN_FLIGHT,
            deadline: no_deadline,
        },
    ];
    println!(
        "moto alone (no proxy): {:.0} ms per SendMessageBatch of 10 messages (median of 20)",
        moto_call_millis(&direct).await
    );
    println!(
        "one Feilian request of {entries} changes, each SQS call delayed 20-50 ms, {runs} run(s) per row"
    );
    println!(
        "| publishing | answer | answer time, ms (median; min-max) | messages on the queue | all ids there |"
    );
    println!("|---|---|---|---|---|");
    let mut failed = false;
    for (m, mode) in modes.iter().enumerate() {
        let mut results = Vec::new();
        for run in 0..runs {
            let queue = create_queue(&direct, false).await;
            let mut app = match mode.deadline {
                None => encrypted_app(&through_proxy, &queue),
                Some(deadline) => {
                    let mut app = encrypted_app(&patient_through_proxy, &queue);
                    app.publish.deadline = deadline;
                    app
                }
            };
            app.publish.concurrency = mode.concurrency;
            let event_id = format!("bench-{m}-{run}");
            let event = request(&event_id, entries);
            let started = Instant::now();
            let answer = invoke(&app, event).await;
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            let ids = message_ids(&direct, &queue).await;
            let unique: HashSet<&String> = ids.iter().collect();
            let all_ids = (0..entries).all(|i| unique.contains(&format!("feilian:{event_id}:{i}")));
            let error = if answer.status == 200 {
                String::new()
            } else {
                format!(" {}", answer.error_code())
            };
            results.push(Run {
                status: answer.status,
                error,
                millis,
                on_queue: ids.len(),
                all_ids,
            });
        }
        results.sort_by(|a, b| a.millis.total_cmp(&b.millis));
        let median = &results[results.len() / 2];
        let (min, max) = (results[0].millis, results[results.len() - 1].millis);
        let statuses: Vec<String> = results
            .iter()
            .map(|run| format!("{}{}", run.status, run.error))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let on_queue: Vec<String> = results.iter().map(|run| run.on_queue.to_string()).collect();
        let all_ids = results.iter().all(|run| run.all_ids);
        println!(
            "| {} | {} | {:.0}; {:.0}-{:.0} | {} | {} |",
            mode.name,
            statuses.join(", "),
            median.millis,
            min,
            max,
            on_queue.join(", "),
            if all_ids { "yes" } else { "no" }
        );
        if results.iter().any(|run| run.status == 200 && !run.all_ids) {
            eprintln!(
                "bench-publish: {}: a 200 without every message on the queue",
                mode.name
            );
            failed = true;
        }
        if mode.concurrency > 1
            && mode.deadline.is_some()
            && !results.iter().all(|run| run.status == 200)
        {
            eprintln!("bench-publish: {}: not every run answered 200", mode.name);
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}

/// The median time moto takes for one SendMessageBatch of ten messages, asked
/// directly: what moto itself costs on this machine now.
async fn moto_call_millis(client: &Client) -> f64 {
    let queue = create_queue(client, false).await;
    let body = "x".repeat(200);
    let mut times = Vec::new();
    for _ in 0..20 {
        let entries = (0..10)
            .map(|i| {
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(&body)
                    .build()
                    .expect("an entry")
            })
            .collect();
        let started = Instant::now();
        client
            .send_message_batch()
            .queue_url(&queue)
            .set_entries(Some(entries))
            .send()
            .await
            .expect("moto answers SendMessageBatch");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
