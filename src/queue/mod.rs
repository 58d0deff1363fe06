//! Publishing a verified batch: every message accepted by the queue, or an error.
//!
//! The queue is behind a small trait so that the batching and retry rules below can
//! be tested with a fake; [`sqs`] is the real implementation.

pub mod memory;
pub mod sqs;

use std::future::Future;
use std::time::Duration;

use org_change_core::Outgoing;

/// SQS accepts at most ten entries per `SendMessageBatch`.
pub const MAX_BATCH: usize = 10;

/// A queue that takes messages in batches.
pub trait Queue: Send + Sync {
    /// Sends at most [`MAX_BATCH`] messages in one call. `Ok` lists the entries the
    /// queue refused, by index in `messages`; `Err` means the call itself failed and
    /// nothing can be assumed about any entry.
    fn send_batch(
        &self,
        messages: &[&Outgoing],
    ) -> impl Future<Output = Result<Vec<Refusal>, SendError>> + Send;
}

/// One entry the queue refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub index: usize,
    /// Whether sending it again may succeed (a server-side fault, throttling), as
    /// opposed to a fault in the message itself.
    pub retryable: bool,
    pub code: String,
    pub message: String,
}

/// The whole batch call failed (network, credentials, queue missing, throttled past
/// the SDK's own retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// How often to resend entries that came back refused but retryable.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per entry, the first included.
    pub attempts: u32,
    /// The pause before the first resend; doubled before each next one.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_millis(50),
        }
    }
}

/// Not every message of a batch is on the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{enqueued} of {total} messages enqueued; {reason}")]
pub struct PublishError {
    /// How many messages the queue confirmed before the failure.
    pub enqueued: usize,
    pub total: usize,
    pub reason: String,
}

/// The largest message SQS accepts: body and attributes, 1 MiB since August 2025
/// (`docs/protocol.md`, "Amazon SQS limits").
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;

/// Puts every message (all from one verified [`Batch`](org_change_core::Batch), or
/// one quarantined event) on `queue`, in order, in calls of up to ten.
/// Returns how many were enqueued, which is all of them, or an error.
pub async fn publish<Q: Queue>(
    queue: &Q,
    messages: &[Outgoing],
    policy: RetryPolicy,
) -> Result<usize, PublishError> {
    let total = messages.len();
    let attempts = policy.attempts.max(1);
    let mut enqueued = 0;
    for chunk in messages.chunks(MAX_BATCH) {
        let mut pending: Vec<&Outgoing> = chunk.iter().collect();
        let mut backoff = policy.backoff;
        for attempt in 1..=attempts {
            let fail = |enqueued, reason: String| PublishError {
                enqueued,
                total,
                reason,
            };
            let refusals = queue
                .send_batch(&pending)
                .await
                .map_err(|err| fail(enqueued, err.to_string()))?;
            let refused: Vec<(&Outgoing, &Refusal)> = refusals
                .iter()
                .map(|refusal| {
                    pending
                        .get(refusal.index)
                        .map(|message| (*message, refusal))
                })
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    fail(
                        enqueued,
                        "SQS reported on an entry that was not sent".into(),
                    )
                })?;
            enqueued += pending.len().saturating_sub(refused.len());
            if let Some((message, refusal)) = refused.iter().find(|(_, refusal)| !refusal.retryable)
            {
                let reason = format!(
                    "SQS refused {} with {}: {}",
                    message.id(),
                    refusal.code,
                    refusal.message
                );
                return Err(fail(enqueued, reason));
            }
            let Some((first, refusal)) = refused.first() else {
                break;
            };
            if attempt == attempts {
                let reason = format!(
                    "SQS still refused {} message(s) after {attempt} attempts, e.g. {} with {}: {}",
                    refused.len(),
                    first.id(),
                    refusal.code,
                    refusal.message
                );
                return Err(fail(enqueued, reason));
            }
            pending = refused.into_iter().map(|(message, _)| message).collect();
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    Ok(enqueued)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use org_change_core::{Batch, Delivery, Endpoint, Inbound, Source, VerificationToken, receive};

    /// A Feilian update carrying `entries` changes, received for real.
    fn batch(entries: usize) -> Batch {
        let events: Vec<String> = (0..entries)
            .map(|i| format!(r#"{{"object":{{"open_id":"od_{i}"}},"updated_fields":["name"]}}"#))
            .collect();
        let body = format!(
            r#"{{"schema":"1.0","header":{{"event_id":"e1","token":"t","create_time":"1740385174957","event_type":"department.v1.update","app_id":"a"}},"data":{{"events":[{}]}}}}"#,
            events.join(",")
        );
        let endpoint = Endpoint::new(Source::Feilian, VerificationToken::new("t"), None);
        match receive(
            &endpoint,
            Inbound {
                body: body.as_bytes(),
                signature: None,
            },
            std::time::SystemTime::now(),
        ) {
            Ok(Delivery::Changes(batch)) => batch,
            other => panic!("expected changes, got {other:?}"),
        }
    }

    /// Answers each call with the next scripted result and records what was sent.
    #[derive(Default)]
    struct ScriptedQueue {
        script: Mutex<VecDeque<Result<Vec<Refusal>, SendError>>>,
        calls: Mutex<Vec<Vec<String>>>,
    }

    impl ScriptedQueue {
        fn new(script: Vec<Result<Vec<Refusal>, SendError>>) -> Self {
            Self {
                script: Mutex::new(script.into()),
                ..Default::default()
            }
        }

        fn calls(&self) -> Vec<Vec<String>> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl Queue for ScriptedQueue {
        async fn send_batch(&self, messages: &[&Outgoing]) -> Result<Vec<Refusal>, SendError> {
            self.calls
                .lock()
                .unwrap()
                .push(messages.iter().map(|m| m.id().to_owned()).collect());
            self.script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Ok(Vec::new()))
        }
    }

    fn refusal(index: usize, retryable: bool) -> Refusal {
        Refusal {
            index,
            retryable,
            code: "InternalError".into(),
            message: "try again".into(),
        }
    }

    const FAST: RetryPolicy = RetryPolicy {
        attempts: 3,
        backoff: Duration::from_millis(1),
    };

    #[tokio::test]
    async fn sends_in_calls_of_ten_in_order() {
        let queue = ScriptedQueue::default();
        assert_eq!(publish(&queue, batch(23).messages(), FAST).await, Ok(23));
        let sizes: Vec<usize> = queue.calls().iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 10, 3]);
        assert_eq!(
            queue.calls()[2],
            ["feilian:e1:20", "feilian:e1:21", "feilian:e1:22"]
        );
    }

    #[tokio::test]
    async fn resends_only_the_retryable_refusals() {
        let queue = ScriptedQueue::new(vec![
            Ok(vec![refusal(1, true), refusal(3, true)]),
            Ok(vec![refusal(0, true)]),
        ]);
        assert_eq!(publish(&queue, batch(4).messages(), FAST).await, Ok(4));
        assert_eq!(
            queue.calls(),
            [
                vec![
                    "feilian:e1:0",
                    "feilian:e1:1",
                    "feilian:e1:2",
                    "feilian:e1:3"
                ],
                vec!["feilian:e1:1", "feilian:e1:3"],
                vec!["feilian:e1:1"]
            ]
        );
    }

    #[tokio::test]
    async fn gives_up_after_the_last_attempt_and_counts_what_got_through() {
        let queue = ScriptedQueue::new(vec![
            Ok(vec![refusal(0, true)]),
            Ok(vec![refusal(0, true)]),
            Ok(vec![refusal(0, true)]),
        ]);
        let err = publish(&queue, batch(2).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!((err.enqueued, err.total), (1, 2));
        assert!(err.reason.contains("after 3 attempts"), "{err}");
        assert_eq!(queue.calls().len(), 3);
    }

    #[tokio::test]
    async fn a_sender_fault_is_not_retried() {
        let queue = ScriptedQueue::new(vec![Ok(vec![refusal(1, false)])]);
        let err = publish(&queue, batch(12).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!((err.enqueued, err.total), (9, 12));
        assert!(err.reason.contains("feilian:e1:1"), "{err}");
        assert_eq!(
            queue.calls().len(),
            1,
            "neither resent nor continued with the next ten"
        );
    }

    #[tokio::test]
    async fn a_failed_call_stops_the_batch() {
        let queue = ScriptedQueue::new(vec![
            Ok(vec![]),
            Err(SendError("connection refused".into())),
        ]);
        let err = publish(&queue, batch(15).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!((err.enqueued, err.total), (10, 15));
        assert!(err.reason.contains("connection refused"));
    }

    #[tokio::test]
    async fn a_report_on_an_entry_never_sent_is_an_error_not_a_panic() {
        let queue = ScriptedQueue::new(vec![Ok(vec![refusal(7, true)])]);
        let err = publish(&queue, batch(2).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!(err.enqueued, 0);
    }
}
