//! Publishing a verified batch: every message accepted by the queue, or an error.
//!
//! The queue is behind a small trait so that batching, concurrency and retries can be
//! tested with a fake. [`sqs`] is the real implementation.

mod error;
mod plan;
pub mod sqs;

pub use error::{Cause, PublishError, Refusal, SendError};
use plan::plan;
pub use plan::{Limits, MAX_CHANGES_ONE_PER_CALL};

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{StreamExt, stream};

use org_change_core::Outgoing;

/// How long the relay waits for SQS before answering 503. It stays inside the platforms'
/// 3-second deadline (`docs/protocol.md`, "Delivery and retries").
pub const ENQUEUE_DEADLINE: Duration = Duration::from_millis(2_500);

/// How many `SendMessageBatch` calls of one request may be in flight at once. A Feilian
/// request of 1,000 changes is 100 calls, too many to send in turn within 3 seconds
/// (`docs/operations.md`, "Large requests and large messages").
pub const MAX_CALLS_IN_FLIGHT: usize = 10;

pub trait Queue: Send + Sync {
    /// Sends at most [`Queue::limits`] messages in one call. `Ok` lists the refused entries
    /// by index. `Err` means the call failed, and nothing is known about any entry.
    fn send_batch(
        &self,
        messages: &[&Outgoing],
    ) -> impl Future<Output = Result<Vec<Refusal>, SendError>> + Send;

    fn limits(&self) -> Limits {
        Limits::SQS
    }
}

/// How [`publish`] sends: calls in flight, resends, and the deadline.
#[derive(Debug, Clone, Copy)]
pub struct PublishPolicy {
    /// 0 counts as 1.
    pub concurrency: usize,
    pub attempts: u32,
    /// Doubled before each further resend.
    pub backoff: Duration,
    /// For the whole publication. Past it, [`publish`] stops with [`Cause::Timeout`].
    pub deadline: Duration,
}

impl Default for PublishPolicy {
    fn default() -> Self {
        Self {
            concurrency: MAX_CALLS_IN_FLIGHT,
            attempts: 3,
            backoff: Duration::from_millis(50),
            deadline: ENQUEUE_DEADLINE,
        }
    }
}

/// Puts every message of one verified [`Batch`](org_change_core::Batch), or one quarantined
/// event, on `queue`. Returns how many were enqueued, or an error saying how many the queue
/// confirmed.
pub async fn publish<Q: Queue>(
    queue: &Q,
    messages: &[Outgoing],
    policy: PublishPolicy,
) -> Result<usize, PublishError> {
    let chains = plan(messages, queue.limits());
    let confirmed = &AtomicUsize::new(0);
    let fail = |cause| PublishError {
        enqueued: confirmed.load(Ordering::SeqCst),
        total: messages.len(),
        cause,
    };
    // A chain's calls go in turn. The chains are built in a Vec, as a closure in the stream
    // would keep the handler's future from being `Send`.
    let sends: Vec<_> = chains
        .iter()
        .map(|chain| async move {
            for call in chain {
                send_call(queue, call, policy, confirmed).await?;
            }
            Ok::<_, Cause>(())
        })
        .collect();
    let all = async {
        let mut chains = stream::iter(sends).buffer_unordered(policy.concurrency.max(1));
        // The first failure ends the publication, and the platform sends the request again.
        while let Some(result) = chains.next().await {
            result?;
        }
        Ok(())
    };
    match tokio::time::timeout(policy.deadline, all).await {
        Ok(Ok(())) => Ok(confirmed.load(Ordering::SeqCst)),
        Ok(Err(cause)) => Err(fail(cause)),
        Err(_elapsed) => Err(fail(Cause::Timeout {
            ms: policy.deadline.as_millis(),
        })),
    }
}

/// Sends one call, resending the entries refused as retryable. Every confirmed entry counts
/// in `confirmed` at once.
async fn send_call<Q: Queue>(
    queue: &Q,
    call: &[&Outgoing],
    policy: PublishPolicy,
    confirmed: &AtomicUsize,
) -> Result<(), Cause> {
    let attempts = policy.attempts.max(1);
    let mut pending: Vec<&Outgoing> = call.to_vec();
    let mut backoff = policy.backoff;
    for attempt in 1..=attempts {
        let refusals = queue.send_batch(&pending).await?;
        let refused: Vec<(&Outgoing, &Refusal)> = refusals
            .iter()
            .map(|refusal| Some((*pending.get(refusal.index)?, refusal)))
            .collect::<Option<_>>()
            .ok_or(Cause::UnknownEntry)?;
        confirmed.fetch_add(
            pending.len().saturating_sub(refused.len()),
            Ordering::SeqCst,
        );
        if let Some((message, refusal)) = refused.iter().find(|(_, refusal)| !refusal.retryable) {
            let (id, refusal) = (message.id().to_owned(), (*refusal).clone());
            return Err(Cause::Refused { id, refusal });
        }
        let Some((first, refusal)) = refused.first() else {
            return Ok(());
        };
        if attempt == attempts {
            return Err(Cause::StillRefused {
                count: refused.len(),
                attempts: attempt,
                id: first.id().to_owned(),
                refusal: (*refusal).clone(),
            });
        }
        pending = refused.into_iter().map(|(message, _)| message).collect();
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
    Ok(())
}

/// Batches received for real, for the unit tests of the publishing code and its sinks.
#[cfg(test)]
pub(crate) mod fixtures {
    use org_change_core::{Batch, Delivery, Endpoint, Inbound, Source, VerificationToken, receive};

    /// A Feilian update whose entry `i` changes department `od_<units[i]>` and carries
    /// `name_bytes` bytes of name, received for real. Entry `i` is `feilian:e1:<i>`.
    pub(crate) fn feilian(units: &[usize], name_bytes: usize) -> Batch {
        let name = "n".repeat(name_bytes);
        let events: Vec<String> = units
            .iter()
            .map(|unit| {
                format!(
                    r#"{{"object":{{"open_id":"od_{unit}","name":"{name}"}},"updated_fields":["name"]}}"#
                )
            })
            .collect();
        received(&format!(
            r#"{{"schema":"1.0","header":{{"event_id":"e1","token":"t","create_time":"1740385174957","event_type":"department.v1.update","app_id":"a"}},"data":{{"events":[{}]}}}}"#,
            events.join(",")
        ))
    }

    /// The batch of a plaintext Feilian `body` whose token is `t`.
    pub(crate) fn received(body: &str) -> Batch {
        let endpoint = Endpoint::new(Source::Feilian, VerificationToken::new("t"), None);
        let inbound = Inbound {
            body: body.as_bytes(),
            signature: None,
        };
        // A plaintext endpoint has no replay window: any time will do.
        match receive(&endpoint, inbound, std::time::UNIX_EPOCH) {
            Ok(Delivery::Changes(batch)) => batch,
            other => panic!("expected changes, got {other:?}"),
        }
    }

    /// `entries` changes, each to a department of its own.
    pub(crate) fn batch(entries: usize) -> Batch {
        feilian(&(0..entries).collect::<Vec<_>>(), 1)
    }
}

#[cfg(test)]
#[path = "../tests/queue.rs"]
mod tests;
