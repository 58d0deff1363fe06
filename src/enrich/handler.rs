//! The Lambda handler: records from the relay's queue in, enriched messages sent, and the
//! records to retry out.

use std::convert::Infallible;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_http::lambda_runtime::LambdaEvent;
use lambda_http::tracing;
use org_change_enrich::{Enricher, Record, Transport, Verdict};
use tokio::sync::Mutex;

use super::deadline::{SEND_RESERVE, read_budget};
use super::forward::{EnrichedQueue, GROUP_ID_ATTRIBUTE};

/// Everything an invocation needs, built once at start.
pub struct Enrichment<T> {
    /// A warm instance reuses its tokens and rate limiters. The lock lets concurrent
    /// invocations share them in turn.
    pub enricher: Mutex<Enricher>,
    pub transport: T,
    pub queue: EnrichedQueue,
}

impl<T: Transport> Enrichment<T> {
    pub fn new(enricher: Enricher, transport: T, queue: EnrichedQueue) -> Self {
        Self {
            enricher: Mutex::new(enricher),
            transport,
            queue,
        }
    }
}

/// What the Lambda runtime calls. Every record ends either on the enriched queue or in
/// the response's `batchItemFailures`, so SQS retries it (`ReportBatchItemFailures`).
pub async fn handle<T: Transport>(
    enrichment: &Enrichment<T>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Infallible> {
    let started = Instant::now();
    let budget = read_budget(&event.context, SystemTime::now());
    let messages = event.payload.records;
    let records: Vec<Record> = messages.iter().map(record).collect();
    let mut verdicts = read(enrichment, &records, budget).await;
    // A record without a verdict must not count as done: SQS would delete it.
    verdicts.resize_with(records.len(), || {
        Verdict::Retry("the enricher gave this record no verdict".into())
    });
    enrichment
        .queue
        .forward(&messages, &records, &mut verdicts)
        .await;
    let response = respond(&messages, &verdicts);
    tracing::info!(
        records = messages.len(),
        forwarded = messages.len() - response.batch_item_failures.len(),
        to_retry = response.batch_item_failures.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "batch enriched"
    );
    Ok(response)
}

/// The enricher's verdicts. When `budget` runs out first, the records that need a read are
/// retried and the others go on.
async fn read<T: Transport>(
    enrichment: &Enrichment<T>,
    records: &[Record],
    budget: Option<Duration>,
) -> Vec<Verdict> {
    // Waiting for another invocation's turn counts too.
    let reads = async {
        let mut enricher = enrichment.enricher.lock().await;
        enricher.enrich(&enrichment.transport, records).await
    };
    let Some(budget) = budget else {
        return reads.await;
    };
    match tokio::time::timeout(budget, reads).await {
        Ok(verdicts) => verdicts,
        Err(_) => {
            let why = format!(
                "the reads did not end {} s before the invocation's deadline",
                SEND_RESERVE.as_secs()
            );
            let enricher = enrichment.enricher.lock().await;
            enricher.without_reads(records, &why)
        }
    }
}

/// A record as the logic reads it.
pub fn record(message: &SqsMessage) -> Record {
    Record {
        body: message.body.clone().unwrap_or_default(),
        group_id: message.attributes.get(GROUP_ID_ATTRIBUTE).cloned(),
    }
}

/// The partial batch response: every record to retry, by `messageId`, each with its log
/// line. A verdict's reason never holds a secret.
pub fn respond(messages: &[SqsMessage], verdicts: &[Verdict]) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for (message, verdict) in messages.iter().zip(verdicts) {
        // Without an id Lambda cannot tell which record failed. An empty identifier makes
        // it retry the whole batch, which loses nothing.
        let id = message.message_id.clone().unwrap_or_default();
        let group = message
            .attributes
            .get(GROUP_ID_ATTRIBUTE)
            .map(String::as_str);
        match verdict {
            Verdict::Retry(why) => {
                tracing::warn!(
                    message_id = id.as_str(),
                    group,
                    why = why.as_str(),
                    "record to retry"
                );
                response.add_failure(id);
            }
            Verdict::Forward {
                note: Some(note), ..
            } => {
                tracing::warn!(
                    message_id = id.as_str(),
                    group,
                    why = note.as_str(),
                    "forwarded without current"
                );
            }
            Verdict::Forward { note: None, .. } => {}
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, group: Option<&str>) -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = Some(id.into());
        message.body = Some(format!("{{\"id\":\"{id}\"}}"));
        if let Some(group) = group {
            message
                .attributes
                .insert(GROUP_ID_ATTRIBUTE.into(), group.into());
        }
        message
    }

    #[test]
    fn a_record_is_its_body_and_its_fifo_group() {
        let fifo = record(&message("m1", Some("tenant-a")));
        assert_eq!(fifo.body, r#"{"id":"m1"}"#);
        assert_eq!(fifo.group_id.as_deref(), Some("tenant-a"));
        assert_eq!(record(&message("m2", None)).group_id, None);
    }

    #[test]
    fn the_response_lists_every_record_to_retry_and_nothing_else() {
        let messages = [
            message("m1", None),
            message("m2", None),
            message("m3", None),
        ];
        let verdicts = [
            Verdict::Retry("HTTP 500".into()),
            Verdict::forward("{}".into()),
            Verdict::Retry("no answer".into()),
        ];
        let failed: Vec<String> = respond(&messages, &verdicts)
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier)
            .collect();
        assert_eq!(failed, ["m1", "m3"]);
    }

    #[test]
    fn the_response_is_the_format_lambda_reads() {
        let response = respond(&[message("m1", None)], &[Verdict::Retry("x".into())]);
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m1"}]})
        );
    }
}
