//! One message of the relay's queue, as the enricher receives it.

/// One SQS record as the event source delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The message body: the relay's JSON, byte for byte.
    pub body: String,
    /// The FIFO `MessageGroupId`; `None` on a standard queue, where records are independent.
    pub group_id: Option<String>,
}
