//! The real queue: Amazon SQS `SendMessageBatch`, and the limits SQS puts on it.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use sha2::{Digest, Sha256};

use super::{Limits, Queue, Refusal, SendError};
use org_change_core::{ATTRIBUTE_DATA_TYPE, GroupBy, Outgoing};

/// SQS takes at most ten entries per `SendMessageBatch` (Amazon SQS message quotas,
/// "Message batch":
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html>).
pub const MAX_ENTRIES: usize = 10;

/// SQS's own size limit, in bytes: the most one message may count, and the most the
/// messages of one `SendMessageBatch` may count together. 1 MiB since August 2025
/// (256 KiB, 262,144 bytes, before). "The maximum allowed individual message size and
/// the maximum total payload size (the sum of the individual lengths of all of the
/// batched messages) are both 1 MiB 1,048,576 bytes":
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html>;
/// see also the quotas page above. A message counts its body and every part of its
/// message attributes: "All parts of the message attribute, including Name, Type, and
/// Value, are part of the message size restriction (1 MiB or 1,048,576 bytes)":
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_MessageAttributeValue.html>.
/// A queue's `MaximumMessageSize` attribute may set a lower limit (its default is now
/// this one; a queue created earlier may still say 262,144).
pub const SQS_MAX_PAYLOAD_BYTES: usize = 1_048_576;

/// The limit the relay holds itself to, for one message and for one call: 1,000,000
/// bytes, 48,576 (4.6%) under [`SQS_MAX_PAYLOAD_BYTES`]. The head-room is for anything
/// SQS might count that its documentation does not list (the FIFO group and
/// deduplication ids, at most 256 bytes a message; the entry ids), so that a batch
/// this relay builds is never refused for its size. A message over it can never be
/// enqueued ([`Outgoing::size`]); `publish` refuses it before sending anything.
pub const MAX_PAYLOAD_BYTES: usize = 1_000_000;
const _: () = assert!(MAX_PAYLOAD_BYTES < SQS_MAX_PAYLOAD_BYTES);

impl Limits {
    /// SQS's, with the relay's margin ([`MAX_PAYLOAD_BYTES`]), for a standard
    /// queue, which keeps no order.
    pub const SQS: Limits = Limits {
        entries: MAX_ENTRIES,
        bytes: MAX_PAYLOAD_BYTES,
        fifo: None,
    };

    /// SQS's for a FIFO queue grouped `by`: one message of each group per call.
    pub const fn sqs_fifo(by: GroupBy) -> Limits {
        Limits {
            fifo: Some(by),
            ..Limits::SQS
        }
    }
}

/// Which SQS queue, and how messages are sent to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    pub url: String,
    /// A queue URL ending in `.fifo` is a FIFO queue.
    pub fifo: bool,
    /// How a FIFO queue groups messages (`FIFO_GROUP_BY`); a standard queue keeps no
    /// order and ignores it.
    pub group_by: GroupBy,
    /// `DelaySeconds` for every message (standard queues only).
    pub delay: Option<Duration>,
}

/// An SQS queue, standard or FIFO.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
    fifo: bool,
    group_by: GroupBy,
    delay_seconds: Option<i32>,
}

impl SqsQueue {
    pub fn new(client: Client, config: &QueueConfig) -> Self {
        Self {
            client,
            url: config.url.clone(),
            fifo: config.fifo,
            group_by: config.group_by,
            // At most 900 (validated by `Config`), so the conversion cannot fail.
            delay_seconds: config
                .delay
                .and_then(|delay| i32::try_from(delay.as_secs()).ok()),
        }
    }

    /// The `SendMessageBatch` entry of `message` at `index` in its batch: the message
    /// attributes, the body, and the FIFO group and deduplication ids (or the delay).
    /// Public for the benchmark (benches/core.rs), which measures what the relay
    /// builds before the SQS call; [`Queue::send_batch`] is its only caller in the relay.
    pub fn entry(
        &self,
        index: usize,
        message: &Outgoing,
    ) -> Result<SendMessageBatchRequestEntry, SendError> {
        let pairs = message.attributes();
        // Sized once: collecting through a `Result` would grow the map as it goes.
        let mut attributes = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            let value = MessageAttributeValue::builder()
                .data_type(ATTRIBUTE_DATA_TYPE)
                .string_value(value)
                .build()
                .map_err(|err| SendError(format!("building a message attribute: {err}")))?;
            attributes.insert(name.to_owned(), value);
        }
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(message.body())
            .set_message_attributes(Some(attributes));
        if self.fifo {
            // A group's changes stay in order; a retried webhook within SQS's
            // five-minute deduplication window is not enqueued twice.
            entry = entry
                .message_group_id(sqs_token(message.ordering_key(self.group_by)))
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
    /// SQS's; a FIFO queue keeps each message group in order, so a call carries at
    /// most one message of each ([`Limits::sqs_fifo`]).
    fn limits(&self) -> Limits {
        if self.fifo {
            Limits::sqs_fifo(self.group_by)
        } else {
            Limits::SQS
        }
    }

    async fn send_batch(&self, messages: &[&Outgoing]) -> Result<Vec<Refusal>, SendError> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(index, message)| self.entry(index, message))
            .collect::<Result<Vec<_>, _>>()?;
        // The Ids exactly as sent: the answer is matched against these, nothing else.
        let sent: Vec<String> = entries.iter().map(|entry| entry.id().to_owned()).collect();
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

        let successful: Vec<&str> = output.successful().iter().map(|entry| entry.id()).collect();
        let failed: Vec<FailedEntry<'_>> = output
            .failed()
            .iter()
            .map(|failure| FailedEntry {
                id: failure.id(),
                sender_fault: failure.sender_fault(),
                code: failure.code(),
                message: failure.message().unwrap_or_default(),
            })
            .collect();
        Ok(unconfirmed(&sent, &successful, &failed))
    }
}

/// One entry of the `Failed` list of a `SendMessageBatch` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedEntry<'a> {
    pub id: &'a str,
    pub sender_fault: bool,
    pub code: &'a str,
    pub message: &'a str,
}

/// Reads a `SendMessageBatch` answer: the entries sent, by their `Id` in order
/// (`sent[i]` is entry `i`, and the ids are distinct), against the ids SQS listed
/// as `Successful` and the entries it listed as `Failed`. Returns one [`Refusal`]
/// per entry that is not confirmed, in order; the others are on the queue.
///
/// The answer is not trusted beyond what it says exactly:
/// - ids match only when equal as strings: `"01"` or `"+1"` is not entry `"1"`;
/// - an entry is confirmed only if it is listed in `Successful` and not in `Failed`
///   (listed in both, it counts as failed);
/// - an entry listed in `Failed` is refused once, however often it is listed; it is
///   retryable unless one of its listings is a sender fault (resending the same
///   message would not help);
/// - an entry listed in neither is not known to be on the queue: refused as
///   retryable (`NotReported`), so it is sent again;
/// - an id that was not sent confirms nothing and is otherwise ignored.
pub fn unconfirmed(
    sent: &[String],
    successful: &[&str],
    failed: &[FailedEntry<'_>],
) -> Vec<Refusal> {
    sent.iter()
        .enumerate()
        .filter_map(|(index, id)| {
            let mut failures = failed.iter().filter(|failure| failure.id == id.as_str());
            if let Some(first) = failures.next() {
                let sender_fault = std::iter::once(first)
                    .chain(failures)
                    .find(|failure| failure.sender_fault);
                let reported = sender_fault.unwrap_or(first);
                Some(Refusal {
                    index,
                    retryable: sender_fault.is_none(),
                    code: reported.code.to_owned(),
                    message: reported.message.to_owned(),
                })
            } else if successful.contains(&id.as_str()) {
                None
            } else {
                Some(Refusal {
                    index,
                    retryable: true,
                    code: "NotReported".into(),
                    message: "SQS did not report on this entry".into(),
                })
            }
        })
        .collect()
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
#[path = "../tests/queue_sqs.rs"]
mod tests;
