//! The Lambda handler: a batch of SQS records from the relay's queue in, the enriched
//! messages on the enriched queue, and the records to retry out.

use std::convert::Infallible;
use std::time::Instant;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_http::lambda_runtime::LambdaEvent;
use lambda_http::tracing;
use org_change_enrich::{Enricher, Record, Transport, Verdict};
use tokio::sync::Mutex;

use super::forward::{EnrichedQueue, GROUP_ID_ATTRIBUTE};

/// Everything an invocation needs, built once at start.
pub struct Enrichment<T> {
    /// Kept across invocations: a warm instance reuses its tokens and its rate limiters.
    /// The lock makes concurrent invocations of one instance share them in turn.
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
    let messages = event.payload.records;
    let records: Vec<Record> = messages.iter().map(record).collect();
    let mut verdicts = {
        let mut enricher = enrichment.enricher.lock().await;
        enricher.enrich(&enrichment.transport, &records).await
    };
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

/// A record as the logic reads it: its body, and its FIFO group, if any.
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
                    "forwarded unread"
                );
            }
            Verdict::Forward { note: None, .. } => {}
        }
    }
    response
}
