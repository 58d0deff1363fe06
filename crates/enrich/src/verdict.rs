//! What becomes of one record.

/// What the adapter does with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send `body` to the enriched queue: the relay's bytes, with the added fields when
    /// they apply. `note` says why a body went through unread, for the log.
    Forward {
        /// The body to send.
        body: String,
        /// Set when the body was forwarded unchanged because it could not be read.
        note: Option<String>,
    },
    /// Fail the record, so that SQS delivers it again (and finally to its dead-letter queue).
    /// The text says why, for the log: app id, call and platform code, never a secret.
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
