//! Why a publication did not put every message on the queue. The texts go to the log line,
//! and the answer to the platform keeps only the counts.

/// One entry the queue refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub index: usize,
    /// Whether sending it again may succeed, as after throttling, rather than a fault in
    /// the message.
    pub retryable: bool,
    pub code: String,
    pub message: String,
}

/// A `SendMessageBatch` call failed as a whole, so nothing is known of its entries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// Not every message of a batch is on the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{enqueued} of {total} messages enqueued; {cause}")]
pub struct PublishError {
    /// How many messages the queue confirmed before [`publish`](super::publish) gave up.
    pub enqueued: usize,
    pub total: usize,
    pub cause: Cause,
}

/// Why [`publish`](super::publish) stopped. Sending the batch again may work in every case,
/// as the core refuses a message SQS could never take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Cause {
    #[error(transparent)]
    Call(#[from] SendError),
    #[error("SQS reported on an entry that was not sent")]
    UnknownEntry,
    /// A refusal SQS calls the sender's fault.
    #[error("SQS refused {id} with {}: {}", refusal.code, refusal.message)]
    Refused { id: String, refusal: Refusal },
    #[error(
        "SQS still refused {count} message(s) after {attempts} attempts, e.g. {id} with {}: {}",
        refusal.code,
        refusal.message
    )]
    StillRefused {
        count: usize,
        attempts: u32,
        id: String,
        refusal: Refusal,
    },
    #[error("SQS did not confirm every message within {ms} ms")]
    Timeout { ms: u128 },
}
