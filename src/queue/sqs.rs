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
mod tests {
    use super::*;
    use crate::queue::fixtures::received;

    fn queue(fifo: bool) -> SqsQueue {
        grouped(fifo, GroupBy::Tenant)
    }

    fn grouped(fifo: bool, group_by: GroupBy) -> SqsQueue {
        let client = Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
                .region(aws_sdk_sqs::config::Region::new("us-east-1"))
                .build(),
        );
        let config = QueueConfig {
            url: "https://sqs.us-east-1.amazonaws.com/123456789012/q".into(),
            fifo,
            group_by,
            delay: None,
        };
        SqsQueue::new(client, &config)
    }

    #[test]
    fn the_payload_size_counts_the_body_and_every_part_of_the_attributes_sent() {
        // A real message (only the core makes one): a Feilian update of "部门".
        let batch = received(
            r#"{"schema":"1.0","header":{"event_id":"e","token":"t","event_type":"department.v1.update","app_id":"a"},"data":{"events":[{"object":{"open_id":"od_1","name":"部门"},"updated_fields":["name"]}]}}"#,
        );
        let message = &batch.messages()[0];
        // Body: its UTF-8 bytes (each CJK character is 3); attributes: name +
        // "String" + value.
        let expected = message.body().len()
            + ("source".len() + 6 + "feilian".len())
            + ("event_type".len() + 6 + "department.v1.update".len())
            + ("entity".len() + 6 + "department".len())
            + ("action".len() + 6 + "updated".len());
        assert_eq!(message.size(), expected);

        // The same count from what the entry really carries.
        for fifo in [false, true] {
            let entry = queue(fifo).entry(0, message).expect("an entry");
            let attributes: usize = entry
                .message_attributes()
                .expect("attributes")
                .iter()
                .map(|(name, value)| {
                    name.len() + value.data_type().len() + value.string_value().map_or(0, str::len)
                })
                .sum();
            assert_eq!(entry.message_body().len() + attributes, expected);
        }
    }

    fn failed(id: &str, sender_fault: bool) -> FailedEntry<'_> {
        FailedEntry {
            id,
            sender_fault,
            code: if sender_fault {
                "InvalidParameterValue"
            } else {
                "InternalError"
            },
            message: "m",
        }
    }

    /// `(index, retryable)` of each refusal.
    fn read(sent: usize, successful: &[&str], failures: &[FailedEntry<'_>]) -> Vec<(usize, bool)> {
        let sent: Vec<String> = (0..sent).map(|index| index.to_string()).collect();
        unconfirmed(&sent, successful, failures)
            .iter()
            .map(|refusal| (refusal.index, refusal.retryable))
            .collect()
    }

    /// (what the answer shows, entries sent, `Successful` ids, `Failed` entries,
    /// the refusals expected as `(index, retryable)`).
    type Case<'a> = (
        &'a str,
        usize,
        &'a [&'a str],
        &'a [FailedEntry<'a>],
        &'a [(usize, bool)],
    );

    #[test]
    fn an_answer_confirms_only_the_entries_it_lists_exactly_as_sent() {
        #[rustfmt::skip]
        let cases: &[Case<'_>] = &[
            ("all successful", 3, &["0", "1", "2"], &[], &[]),
            ("in any order", 3, &["2", "0", "1"], &[], &[]),
            ("one retryable failure", 3, &["0", "2"], &[failed("1", false)], &[(1, true)]),
            ("one sender fault", 3, &["0", "2"], &[failed("1", true)], &[(1, false)]),
            ("mixed", 3, &["0"], &[failed("1", false), failed("2", true)], &[(1, true), (2, false)]),
            ("listed nowhere", 3, &["0", "2"], &[], &[(1, true)]),
            ("an empty answer", 2, &[], &[], &[(0, true), (1, true)]),
            ("leading zero", 2, &["0", "01"], &[], &[(1, true)]),
            ("plus sign", 2, &["0", "+1"], &[], &[(1, true)]),
            ("surrounding space", 2, &["0", " 1"], &[], &[(1, true)]),
            ("an id never sent", 2, &["0", "7"], &[], &[(1, true)]),
            ("an id never sent, failed", 2, &["0", "1"], &[failed("7", true)], &[]),
            ("the same id twice in Failed", 2, &["0"], &[failed("1", false), failed("1", false)], &[(1, true)]),
            ("twice, once a sender fault", 2, &["0"], &[failed("1", false), failed("1", true)], &[(1, false)]),
            ("in both lists", 2, &["0", "1"], &[failed("1", false)], &[(1, true)]),
            ("in both lists, sender fault", 2, &["0", "1"], &[failed("1", true)], &[(1, false)]),
            ("listed twice in Successful", 2, &["0", "0"], &[], &[(1, true)]),
        ];
        for (case, sent, successful, failures, expected) in cases {
            assert_eq!(read(*sent, successful, failures), *expected, "{case}");
        }
    }

    #[test]
    fn a_refusal_carries_what_sqs_said_preferring_the_sender_fault() {
        let sent = vec!["0".to_owned()];
        let twice = [
            FailedEntry {
                id: "0",
                sender_fault: false,
                code: "InternalError",
                message: "try again",
            },
            FailedEntry {
                id: "0",
                sender_fault: true,
                code: "InvalidParameterValue",
                message: "too long",
            },
        ];
        assert_eq!(
            unconfirmed(&sent, &[], &twice),
            [Refusal {
                index: 0,
                retryable: false,
                code: "InvalidParameterValue".into(),
                message: "too long".into(),
            }]
        );
        assert_eq!(
            unconfirmed(&sent, &[], &[]),
            [Refusal {
                index: 0,
                retryable: true,
                code: "NotReported".into(),
                message: "SQS did not report on this entry".into(),
            }]
        );
    }

    #[test]
    fn a_fifo_queue_takes_one_message_of_each_group_per_call() {
        for by in [GroupBy::Tenant, GroupBy::Unit] {
            assert_eq!(grouped(true, by).limits(), Limits::sqs_fifo(by));
            assert_eq!(grouped(false, by).limits(), Limits::SQS);
        }
    }

    #[test]
    fn a_fifo_entry_takes_its_group_by_the_queues_setting() {
        let batch = received(
            r#"{"schema":"1.0","header":{"event_id":"e","token":"t","event_type":"department.v1.update","app_id":"a"},"data":{"events":[{"object":{"open_id":"od_1"},"updated_fields":["name"]}]}}"#,
        );
        let group = |queue: SqsQueue| {
            let entry = queue.entry(0, &batch.messages()[0]).expect("an entry");
            entry.message_group_id().map(str::to_owned)
        };
        assert_eq!(
            group(grouped(true, GroupBy::Tenant)).as_deref(),
            Some("feilian:a")
        );
        assert_eq!(
            group(grouped(true, GroupBy::Unit)).as_deref(),
            Some("feilian:a:department:od_1")
        );
        assert_eq!(group(grouped(false, GroupBy::Tenant)), None);
    }

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
