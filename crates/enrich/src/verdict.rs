//! What becomes of one record.

/// What the adapter does with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send `body` to the enriched queue.
    Forward {
        /// The relay's bytes, with the added fields when they apply.
        body: String,
        /// Why the body went through without `current`, for the log.
        note: Option<String>,
    },
    /// Fail the record, so SQS delivers it again and finally to its dead-letter queue. The
    /// text names app id, call and platform code, never a secret.
    Retry(String),
}

impl Verdict {
    /// A forward with nothing to note.
    pub fn forward(body: String) -> Verdict {
        Verdict::Forward { body, note: None }
    }

    /// Whether the record must be failed.
    pub fn is_retry(&self) -> bool {
        matches!(self, Verdict::Retry(_))
    }
}
