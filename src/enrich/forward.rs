//! The enriched queue. Each body goes out with its source record's FIFO ids and message
//! attributes, so consumers see the identity and order of the relay's queue.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::{SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use futures_util::future::join_all;
use org_change_enrich::{Record, Verdict, fail_rest_of_group, too_large};

use super::order::next_round;
use crate::queue::MAX_CALLS_IN_FLIGHT;
use crate::queue::sqs::{MAX_PAYLOAD_BYTES, unconfirmed};

/// Set by Lambda's poller on a FIFO record: its group.
pub const GROUP_ID_ATTRIBUTE: &str = "MessageGroupId";
/// Set by Lambda's poller on a FIFO record: its identity.
pub const DEDUPLICATION_ID_ATTRIBUTE: &str = "MessageDeduplicationId";

/// Which queue the enriched messages go to (`ENRICHED_QUEUE_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrichedQueueConfig {
    pub url: String,
    /// The URL ends in `.fifo`.
    pub fifo: bool,
}

/// The enriched queue on SQS.
#[derive(Debug, Clone)]
pub struct EnrichedQueue {
    client: Client,
    url: String,
    fifo: bool,
}

/// Why records were not sent, by index in the batch.
type Failures = Vec<(usize, String)>;

impl EnrichedQueue {
    pub fn new(client: Client, config: &EnrichedQueueConfig) -> Self {
        Self {
            client,
            url: config.url.clone(),
            fifo: config.fifo,
        }
    }

    /// Sends the body of every `Forward` verdict. A record SQS does not confirm becomes a
    /// `Retry`, and so does every later record of its group.
    pub async fn forward(
        &self,
        messages: &[SqsMessage],
        records: &[Record],
        verdicts: &mut [Verdict],
    ) {
        // An object too large to carry can never be sent: its message goes on without it.
        for (i, verdict) in verdicts.iter_mut().enumerate() {
            if !verdict.is_retry() && payload_size(&messages[i], body(verdict)) > MAX_PAYLOAD_BYTES
            {
                *verdict = too_large(&records[i].body);
            }
        }
        let mut sent = vec![false; records.len()];
        loop {
            let calls = next_round(records, verdicts, &sent, |i| {
                payload_size(&messages[i], body(&verdicts[i]))
            });
            if calls.is_empty() {
                return;
            }
            let mut failures: Failures = Vec::new();
            for some in calls.chunks(MAX_CALLS_IN_FLIGHT) {
                let sends: Vec<_> = some
                    .iter()
                    .map(|call| self.send(messages, verdicts, call))
                    .collect();
                failures.extend(join_all(sends).await.into_iter().flatten());
            }
            for i in calls.concat() {
                sent[i] = true;
            }
            for (i, why) in failures {
                verdicts[i] = Verdict::Retry(why.clone());
                fail_rest_of_group(records, verdicts, i, &why);
            }
        }
    }

    /// One `SendMessageBatch` of the records `call`; the ones not confirmed, and why.
    async fn send(
        &self,
        messages: &[SqsMessage],
        verdicts: &[Verdict],
        call: &[usize],
    ) -> Failures {
        let mut failures = Vec::new();
        let mut entries = Vec::with_capacity(call.len());
        let mut in_call = Vec::with_capacity(call.len());
        for &i in call {
            match self.entry(entries.len(), &messages[i], body(&verdicts[i])) {
                Ok(entry) => {
                    entries.push(entry);
                    in_call.push(i);
                }
                Err(why) => failures.push((i, why)),
            }
        }
        if entries.is_empty() {
            return failures;
        }
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await;
        match output {
            Err(err) => {
                let why = format!("SendMessageBatch failed: {}", DisplayErrorContext(&err));
                failures.extend(in_call.iter().map(|&i| (i, why.clone())));
            }
            Ok(output) => failures.extend(refused(&output, &in_call)),
        }
        failures
    }

    /// Its id is its place in the call.
    fn entry(
        &self,
        index: usize,
        message: &SqsMessage,
        body: &str,
    ) -> Result<SendMessageBatchRequestEntry, String> {
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(body)
            .set_message_attributes(Some(attributes(message)?));
        if self.fifo {
            let (group, dedup) = fifo_ids(message)?;
            entry = entry
                .message_group_id(group)
                .message_deduplication_id(dedup);
        }
        entry
            .build()
            .map_err(|err| format!("building the batch entry: {err}"))
    }
}

/// The records SQS did not confirm: entry `k` is record `in_call[k]`.
fn refused(output: &SendMessageBatchOutput, in_call: &[usize]) -> Failures {
    let successful: Vec<&str> = output.successful().iter().map(|e| e.id()).collect();
    unconfirmed(in_call.len(), &successful, output.failed())
        .into_iter()
        .map(|refusal| {
            let why = format!(
                "the enriched queue refused it: {}: {}",
                refusal.code, refusal.message
            );
            (in_call[refusal.index], why)
        })
        .collect()
}

/// The body a `Forward` verdict sends; empty for a `Retry`, which is never sent.
fn body(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Forward { body, .. } => body,
        Verdict::Retry(_) => "",
    }
}

/// A record from a standard queue has none, and a FIFO queue cannot take it.
fn fifo_ids(message: &SqsMessage) -> Result<(&str, &str), String> {
    let group = message.attributes.get(GROUP_ID_ATTRIBUTE).ok_or(
        "the record has no MessageGroupId, so it came from a standard queue, but ENRICHED_QUEUE_URL is a FIFO queue: make both queues FIFO or both standard",
    )?;
    // Lambda's poller sets it on every FIFO record. The message id is as stable.
    let dedup = message
        .attributes
        .get(DEDUPLICATION_ID_ATTRIBUTE)
        .or(message.message_id.as_ref())
        .ok_or("the record has neither a MessageDeduplicationId nor a messageId")?;
    Ok((group, dedup))
}

/// Copied as SQS takes them.
fn attributes(message: &SqsMessage) -> Result<HashMap<String, MessageAttributeValue>, String> {
    message
        .message_attributes
        .iter()
        .map(|(name, value)| Ok((name.clone(), attribute(name, value)?)))
        .collect()
}

fn attribute(name: &str, value: &SqsMessageAttribute) -> Result<MessageAttributeValue, String> {
    MessageAttributeValue::builder()
        .set_data_type(value.data_type.clone())
        .set_string_value(value.string_value.clone())
        .set_binary_value(value.binary_value.as_ref().map(|b| Blob::new(b.0.clone())))
        .build()
        .map_err(|err| format!("copying the message attribute {name:?}: {err}"))
}

/// What `message` sent with `body` counts toward SQS's size limit: the body and every part
/// of its attributes (`docs/protocol.md`, "Amazon SQS limits").
pub fn payload_size(message: &SqsMessage, body: &str) -> usize {
    let attributes: usize = message
        .message_attributes
        .iter()
        .map(|(name, value)| {
            name.len()
                + value.data_type.as_ref().map_or(0, String::len)
                + value.string_value.as_ref().map_or(0, String::len)
                + value.binary_value.as_ref().map_or(0, |b| b.0.len())
        })
        .sum();
    body.len() + attributes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = Some("m1".into());
        let mut attribute = SqsMessageAttribute::default();
        attribute.data_type = Some("String".into());
        attribute.string_value = Some("department".into());
        message
            .message_attributes
            .insert("entity".into(), attribute);
        message
    }

    #[test]
    fn a_refused_entry_is_its_record_of_the_batch() {
        use aws_sdk_sqs::types::{BatchResultErrorEntry, SendMessageBatchResultEntry};
        let ok = SendMessageBatchResultEntry::builder()
            .id("0")
            .message_id("m")
            .md5_of_message_body("x")
            .build()
            .unwrap();
        let refused = BatchResultErrorEntry::builder()
            .id("1")
            .sender_fault(false)
            .code("InternalError")
            .build()
            .unwrap();
        let output = SendMessageBatchOutput::builder()
            .successful(ok)
            .failed(refused)
            .build()
            .unwrap();
        let failures = super::refused(&output, &[4, 7]);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].0, 7);
        assert!(failures[0].1.contains("InternalError"), "{}", failures[0].1);
    }

    #[test]
    fn fifo_ids_are_the_source_records() {
        let mut fifo = message();
        fifo.attributes
            .insert(GROUP_ID_ATTRIBUTE.into(), "g".into());
        fifo.attributes
            .insert(DEDUPLICATION_ID_ATTRIBUTE.into(), "d".into());
        assert_eq!(fifo_ids(&fifo), Ok(("g", "d")));
        fifo.attributes.remove(DEDUPLICATION_ID_ATTRIBUTE);
        assert_eq!(fifo_ids(&fifo), Ok(("g", "m1")), "the message id stands in");
        let standard = message();
        assert!(
            fifo_ids(&standard)
                .unwrap_err()
                .contains("ENRICHED_QUEUE_URL")
        );
    }

    #[test]
    fn message_attributes_are_copied_with_their_types() {
        let mut source = message();
        let mut binary = SqsMessageAttribute::default();
        binary.data_type = Some("Binary".into());
        // As the event carries it: base64 of 1, 2, 3.
        binary.binary_value = serde_json::from_value(serde_json::json!("AQID")).ok();
        source.message_attributes.insert("raw".into(), binary);
        let copied = attributes(&source).unwrap();
        assert_eq!(copied["entity"].data_type(), "String");
        assert_eq!(copied["entity"].string_value(), Some("department"));
        assert_eq!(
            copied["raw"].binary_value().map(|b| b.as_ref()),
            Some(&[1u8, 2, 3][..])
        );
        // SQS requires a type; without one the record fails, naming the attribute.
        if let Some(attribute) = source.message_attributes.get_mut("entity") {
            attribute.data_type = None;
        }
        assert!(attributes(&source).unwrap_err().contains("\"entity\""));
    }

    #[test]
    fn the_size_counts_the_body_and_every_part_of_the_attributes() {
        let body = "x".repeat(100);
        // "entity" + "String" + "department"
        assert_eq!(payload_size(&message(), &body), 100 + 6 + 6 + 10);
    }
}
