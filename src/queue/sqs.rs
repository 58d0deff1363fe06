//! The real queue: Amazon SQS `SendMessageBatch`.

use std::collections::HashMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use sha2::{Digest, Sha256};

use super::{Queue, Refusal, SendError};
use crate::config::QueueConfig;
use org_change_core::Outgoing;

/// An SQS queue, standard or FIFO.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
    fifo: bool,
    delay_seconds: Option<i32>,
}

impl SqsQueue {
    pub fn new(client: Client, config: &QueueConfig) -> Self {
        Self {
            client,
            url: config.url.clone(),
            fifo: config.fifo,
            // At most 900 (validated by `Config`), so the conversion cannot fail.
            delay_seconds: config
                .delay
                .and_then(|delay| i32::try_from(delay.as_secs()).ok()),
        }
    }

    /// The `SendMessageBatch` entry of `message` at `index` in its batch: the message
    /// attributes, the body, and the FIFO group and deduplication ids (or the delay).
    /// Public for the benchmark (benches/core.rs), which measures what the relay
    /// builds before the SQS call; [`Queue::send_batch`] is its only caller here.
    pub fn entry(
        &self,
        index: usize,
        message: &Outgoing,
    ) -> Result<SendMessageBatchRequestEntry, SendError> {
        let attribute = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|err| SendError(format!("building a message attribute: {err}")))
        };
        let attributes = HashMap::from([
            ("source".to_owned(), attribute(message.source().as_str())?),
            ("event_type".to_owned(), attribute(message.event_type())?),
            ("entity".to_owned(), attribute(message.entity().as_str())?),
            ("action".to_owned(), attribute(message.action().as_str())?),
        ]);
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(message.body())
            .set_message_attributes(Some(attributes));
        if self.fifo {
            // Changes to one unit stay in order; a retried webhook within SQS's
            // five-minute deduplication window is not enqueued twice.
            entry = entry
                .message_group_id(sqs_token(message.ordering_key()))
                .message_deduplication_id(sqs_token(message.id()));
        } else {
            entry = entry.set_delay_seconds(self.delay_seconds);
        }
        entry
            .build()
            .map_err(|err| SendError(format!("building a batch entry: {err}")))
    }
}

impl Queue for SqsQueue {
    async fn send_batch(&self, messages: &[&Outgoing]) -> Result<Vec<Refusal>, SendError> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(index, message)| self.entry(index, message))
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|err| {
                SendError(format!(
                    "SendMessageBatch failed: {}",
                    DisplayErrorContext(&err)
                ))
            })?;

        let index_of = |id: &str| {
            id.parse::<usize>()
                .ok()
                .filter(|index| *index < messages.len())
        };
        let mut reported = vec![false; messages.len()];
        for id in output.successful().iter().map(|entry| entry.id()) {
            if let Some(index) = index_of(id) {
                reported[index] = true;
            }
        }
        let mut refusals: Vec<Refusal> = Vec::new();
        for failure in output.failed() {
            if let Some(index) = index_of(failure.id()) {
                reported[index] = true;
                refusals.push(Refusal {
                    index,
                    retryable: !failure.sender_fault(),
                    code: failure.code().to_owned(),
                    message: failure.message().unwrap_or_default().to_owned(),
                });
            }
        }
        // An entry SQS reported on neither way is not known to be on the queue.
        for (index, _) in reported
            .iter()
            .enumerate()
            .filter(|(_, reported)| !**reported)
        {
            refusals.push(Refusal {
                index,
                retryable: true,
                code: "NotReported".into(),
                message: "SQS did not report on this entry".into(),
            });
        }
        refusals.sort_by_key(|refusal| refusal.index);
        Ok(refusals)
    }
}

/// A FIFO `MessageGroupId` or `MessageDeduplicationId`: at most 128 characters from
/// ASCII letters, digits and punctuation. A value that already is one is used as
/// it is; any other is replaced by its SHA-256, so the mapping stays stable.
pub fn sqs_token(value: &str) -> String {
    let usable =
        !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic());
    if usable {
        value.to_owned()
    } else {
        hex::encode(Sha256::digest(value.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_tokens_keep_valid_ids_and_hash_the_rest() {
        assert_eq!(
            sqs_token("feishu:5e3702a84e847582be8db7fb73283c02"),
            "feishu:5e3702a84e847582be8db7fb73283c02"
        );
        let long = "x".repeat(129);
        for value in ["has space", "部门", long.as_str(), ""] {
            let token = sqs_token(value);
            assert_eq!(token.len(), 64, "{value}");
            assert_eq!(token, sqs_token(value), "stable");
        }
        assert_ne!(sqs_token("部门a"), sqs_token("部门b"));
    }
}
