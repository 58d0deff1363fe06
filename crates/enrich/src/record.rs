//! One message of the relay's queue.

/// One SQS record as the event source delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The relay's JSON, byte for byte.
    pub body: String,
    /// The FIFO `MessageGroupId`; `None` on a standard queue, where records are independent.
    pub group_id: Option<String>,
}
