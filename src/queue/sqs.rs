//! The real queue: Amazon SQS `SendMessageBatch`, and the limits SQS puts on it.

use std::collections::HashMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use sha2::{Digest, Sha256};

use super::{Queue, Refusal, SendError};
use crate::config::QueueConfig;
use crate::protocol::Outgoing;

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
/// enqueued ([`payload_size`]); `publish` refuses it before sending anything.
pub const MAX_PAYLOAD_BYTES: usize = 1_000_000;
const _: () = assert!(MAX_PAYLOAD_BYTES < SQS_MAX_PAYLOAD_BYTES);

/// The `DataType` of every message attribute the relay sets.
const ATTRIBUTE_TYPE: &str = "String";

/// The message attributes of `message`, name and value: what consumers can filter on
/// without reading the body.
fn attributes(message: &Outgoing) -> [(&'static str, &str); 4] {
    [
        ("source", message.source.as_str()),
        ("event_type", &message.event_type),
        ("entity", message.entity.as_str()),
        ("action", message.action.as_str()),
    ]
}

/// How many bytes `message` counts toward SQS's size limits, as SQS counts them: the
/// UTF-8 bytes of its body, plus the name, data type and value of each message
/// attribute ([`SQS_MAX_PAYLOAD_BYTES`] cites the documentation).
pub fn payload_size(message: &Outgoing) -> usize {
    attributes(message)
        .iter()
        .map(|(name, value)| name.len() + ATTRIBUTE_TYPE.len() + value.len())
        .sum::<usize>()
        + message.body.len()
}

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

    fn entry(
        &self,
        index: usize,
        message: &Outgoing,
    ) -> Result<SendMessageBatchRequestEntry, SendError> {
        let attributes = attributes(message)
            .into_iter()
            .map(|(name, value)| {
                let value = MessageAttributeValue::builder()
                    .data_type(ATTRIBUTE_TYPE)
                    .string_value(value)
                    .build()
                    .map_err(|err| SendError(format!("building a message attribute: {err}")))?;
                Ok((name.to_owned(), value))
            })
            .collect::<Result<HashMap<_, _>, SendError>>()?;
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(&message.body)
            .set_message_attributes(Some(attributes));
        if self.fifo {
            // Changes to one unit stay in order; a retried webhook within SQS's
            // five-minute deduplication window is not enqueued twice.
            entry = entry
                .message_group_id(sqs_token(&message.ordering_key))
                .message_deduplication_id(sqs_token(&message.id));
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
    use crate::protocol::{Action, Entity, Source};

    fn queue(fifo: bool) -> SqsQueue {
        let client = Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
                .region(aws_sdk_sqs::config::Region::new("us-east-1"))
                .build(),
        );
        let config = QueueConfig {
            url: "https://sqs.us-east-1.amazonaws.com/123456789012/q".into(),
            fifo,
            delay: None,
        };
        SqsQueue::new(client, &config)
    }

    #[test]
    fn the_payload_size_counts_the_body_and_every_part_of_the_attributes_sent() {
        let message = Outgoing {
            id: "feilian:e:0".into(),
            body: r#"{"name":"部门"}"#.into(),
            ordering_key: "feilian:a:department:od_1".into(),
            source: Source::Feilian,
            event_type: "department.v1.update".into(),
            entity: Entity::Department,
            action: Action::Updated,
        };
        // Body: 17 bytes of UTF-8 (each CJK character is 3); attributes: name +
        // "String" + value.
        let expected = 17
            + ("source".len() + 6 + "feilian".len())
            + ("event_type".len() + 6 + "department.v1.update".len())
            + ("entity".len() + 6 + "department".len())
            + ("action".len() + 6 + "updated".len());
        assert_eq!(payload_size(&message), expected);

        // The same count from what the entry really carries.
        for fifo in [false, true] {
            let entry = queue(fifo).entry(0, &message).expect("an entry");
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
