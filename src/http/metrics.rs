//! CloudWatch metrics as Embedded Metric Format (EMF) lines: one JSON line per request on
//! stdout, which CloudWatch Logs turns into metrics, so the request path makes no API call.
//! `docs/operations.md`, "Metrics", lists the metrics and their dimensions.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Value, json};

use org_change_core::{Credentials, EndpointId};

/// How a request ended, as the `Outcome` dimension names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Challenge,
    Enqueued,
    Ignored,
    /// A verified event that cannot become messages, on the quarantine queue.
    Quarantined,
    /// A 4xx: the request itself is wrong.
    Rejected,
    /// Not enqueued: a 503, which the platform retries.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Challenge => "challenge",
            Outcome::Enqueued => "enqueued",
            Outcome::Ignored => "ignored",
            Outcome::Quarantined => "quarantined",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }
}

/// What the metrics and the log line of one request are made of.
#[derive(Debug, Clone, Copy)]
pub struct Counts<'a> {
    pub endpoint: Option<&'a EndpointId>,
    /// Which of the endpoint's pairs authenticated the request, when one did.
    pub credentials: Option<Credentials>,
    pub outcome: Outcome,
    pub reason: Option<&'static str>,
    pub enqueued: usize,
}

/// Writes the EMF line of one request to stdout. A failed write is ignored, where
/// `println!` would panic.
pub fn emit(namespace: &str, counts: &Counts<'_>) {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let line = line(namespace, counts, timestamp);
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The EMF line of one request, `timestamp` after the Unix epoch.
pub fn line(namespace: &str, counts: &Counts<'_>, timestamp: Duration) -> String {
    let rejected = counts.outcome == Outcome::Rejected;
    let directive = |dimensions: Value, metrics: &[&str]| {
        let metrics: Vec<Value> = metrics
            .iter()
            .map(|name| json!({"Name": name, "Unit": "Count"}))
            .collect();
        json!({"Namespace": namespace, "Dimensions": dimensions, "Metrics": metrics})
    };
    let mut directives = vec![
        directive(
            json!([["Source", "Outcome"], ["Endpoint", "Outcome"]]),
            &["Requests"],
        ),
        directive(
            json!([[], ["Source"], ["Endpoint"]]),
            &[
                "MessagesEnqueued",
                "EnqueueFailures",
                "Quarantined",
                "PreviousCredentialsUsed",
            ],
        ),
    ];
    if rejected {
        directives.push(directive(
            json!([[], ["Source", "Reason"], ["Endpoint", "Reason"]]),
            &["Rejections"],
        ));
    }
    let timestamp = u64::try_from(timestamp.as_millis()).unwrap_or(u64::MAX);
    let record = Record {
        aws: json!({"Timestamp": timestamp, "CloudWatchMetrics": directives}),
        source: counts.endpoint.map_or("none", |id| id.source().as_str()),
        endpoint: counts.endpoint.map_or("none", EndpointId::as_str),
        outcome: counts.outcome.as_str(),
        reason: counts.reason,
        requests: 1,
        messages_enqueued: counts.enqueued,
        enqueue_failures: u8::from(counts.outcome == Outcome::Failed),
        quarantined: u8::from(counts.outcome == Outcome::Quarantined),
        previous_credentials_used: u8::from(counts.credentials == Some(Credentials::Previous)),
        rejections: rejected.then_some(1),
    };
    // Only strings and numbers, so serializing cannot fail.
    serde_json::to_string(&record).unwrap_or_default()
}

/// The root of an EMF line: the `_aws` metadata first, then the values it names.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Record<'a> {
    #[serde(rename = "_aws")]
    aws: Value,
    source: &'a str,
    endpoint: &'a str,
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    requests: u8,
    messages_enqueued: usize,
    enqueue_failures: u8,
    quarantined: u8,
    previous_credentials_used: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejections: Option<u8>,
}

#[cfg(test)]
#[path = "../tests/http_metrics.rs"]
mod tests;
