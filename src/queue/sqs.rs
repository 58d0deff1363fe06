//! The real queue: Amazon SQS `SendMessageBatch`, and the limits SQS puts on it.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, MessageAttributeValue, SendMessageBatchRequestEntry,
};
use sha2::{Digest, Sha256};

use super::{Limits, Queue, Refusal, SendError};
use org_change_core::{ATTRIBUTE_DATA_TYPE, GroupBy, Outgoing};

/// SQS takes at most ten entries per `SendMessageBatch` (`docs/protocol.md`, "Amazon SQS
/// limits").
pub const MAX_ENTRIES: usize = 10;

/// SQS's size limit, in bytes, for one message and for the messages of one
/// `SendMessageBatch` together. A message counts its body and every part of its attributes.
/// A queue's `MaximumMessageSize` may set a lower limit. Source: `docs/protocol.md`,
/// "Amazon SQS limits".
pub const SQS_MAX_PAYLOAD_BYTES: usize = 1_048_576;

/// The limit the relay holds itself to, for one message and for one call. The head-room
/// under [`SQS_MAX_PAYLOAD_BYTES`] covers what SQS may count without documenting it, such
/// as FIFO ids and entry ids.
pub const MAX_PAYLOAD_BYTES: usize = 1_000_000;
const _: () = assert!(MAX_PAYLOAD_BYTES < SQS_MAX_PAYLOAD_BYTES);

impl Limits {
    pub const SQS: Limits = Limits {
        entries: MAX_ENTRIES,
        bytes: MAX_PAYLOAD_BYTES,
        fifo: None,
    };
}

/// Which SQS queue, and how messages are sent to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    pub url: String,
    pub fifo: bool,
    /// How a FIFO queue groups messages (`FIFO_GROUP_BY`). A standard queue ignores it.
    pub group_by: GroupBy,
    /// `DelaySeconds` for every message (standard queues only), at most 900.
    pub delay_seconds: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    config: QueueConfig,
}

impl SqsQueue {
    pub fn new(client: Client, config: &QueueConfig) -> Self {
        Self {
            client,
            config: config.clone(),
        }
    }

    /// The `SendMessageBatch` entry of `message` at `index` in its batch. Public for
    /// `benches/core.rs`, which measures what the relay builds before the SQS call.
    pub fn entry(
        &self,
        index: usize,
        message: &Outgoing,
    ) -> Result<SendMessageBatchRequestEntry, SendError> {
        let build = || {
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(message.body());
            for (name, value) in message.attributes() {
                let value = MessageAttributeValue::builder()
                    .data_type(ATTRIBUTE_DATA_TYPE)
                    .string_value(value)
                    .build()?;
                entry = entry.message_attributes(name, value);
            }
            match self.limits().fifo {
                // A group's changes stay in order. A webhook retried within SQS's five-minute
                // deduplication window is enqueued once.
                Some(group_by) => entry
                    .message_group_id(sqs_token(message.ordering_key(group_by)))
                    .message_deduplication_id(sqs_token(message.id())),
                None => entry.set_delay_seconds(self.config.delay_seconds),
            }
            .build()
        };
        build().map_err(|err| SendError(format!("building a batch entry: {err}")))
    }
}

impl Queue for SqsQueue {
    fn limits(&self) -> Limits {
        Limits {
            fifo: self.config.fifo.then_some(self.config.group_by),
            ..Limits::SQS
        }
    }

    async fn send_batch(&self, messages: &[&Outgoing]) -> Result<Vec<Refusal>, SendError> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(index, message)| self.entry(index, message))
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.config.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|err| {
                SendError(format!(
                    "SendMessageBatch failed: {}",
                    DisplayErrorContext(&err)
                ))
            })?;
        let successful: Vec<&str> = output.successful().iter().map(|entry| entry.id()).collect();
        Ok(unconfirmed(messages.len(), &successful, output.failed()))
    }
}

/// Reads a `SendMessageBatch` answer against the `sent` entries, whose ids are their
/// indices. Returns one [`Refusal`] per entry that is not confirmed.
///
/// Ids match only as equal strings, so `"01"` is not entry `"1"`. An entry listed as both
/// `Successful` and `Failed` counts as failed. A failed entry is refused once, and is not
/// retryable if any listing is a sender fault. An entry listed in neither is refused as
/// retryable (`NotReported`). An id that was not sent is ignored.
pub fn unconfirmed(
    sent: usize,
    successful: &[&str],
    failed: &[BatchResultErrorEntry],
) -> Vec<Refusal> {
    (0..sent)
        .filter_map(|index| {
            let id = index.to_string();
            let failures: Vec<_> = failed.iter().filter(|entry| entry.id() == id).collect();
            let reported = failures.iter().find(|entry| entry.sender_fault());
            match reported.or(failures.first()) {
                Some(entry) => Some(Refusal {
                    index,
                    retryable: !entry.sender_fault(),
                    code: entry.code().to_owned(),
                    message: entry.message().unwrap_or_default().to_owned(),
                }),
                None if successful.contains(&id.as_str()) => None,
                None => Some(Refusal {
                    index,
                    retryable: true,
                    code: "NotReported".into(),
                    message: "SQS did not report on this entry".into(),
                }),
            }
        })
        .collect()
}

/// A FIFO `MessageGroupId` or `MessageDeduplicationId`: at most 128 printable ASCII
/// characters. Any other value is replaced by its SHA-256, so the mapping stays stable.
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
#[path = "../tests/queue_sqs.rs"]
mod tests;
