//! A queue in memory: it keeps every message it accepts, as
//! [`SqsQueue`](super::sqs::SqsQueue) would put it on SQS. It can refuse entries or fail
//! whole calls on request.
//!
//! It runs the relay's tests without an SQS server.
//!
//! ```
//! use org_change_relay::queue::memory::{MemoryQueue, Times};
//!
//! let queue = MemoryQueue::new();
//! // The next call fails as a whole; later ones are accepted.
//! queue.fail_calls(Times::Next(1), "connection refused");
//! // Every attempt to send this message is refused as retryable.
//! queue.refuse("feishu:5e3702a84e847582be8db7fb73283c02", true, Times::Always);
//! assert!(queue.is_empty());
//! ```

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::{Queue, Refusal, SendError};
use org_change_core::{GroupBy, Outgoing};

/// One message the queue accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: String,
    pub body: String,
    /// The message attributes SQS would carry, each a String.
    pub attributes: BTreeMap<String, String>,
    /// [`Outgoing::ordering_key`] by unit, the `MessageGroupId` of a FIFO queue grouped by
    /// unit.
    pub ordering_key: String,
}

impl Stored {
    fn new(message: &Outgoing) -> Self {
        let attributes = message
            .attributes()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Self {
            id: message.id().to_owned(),
            body: message.body().to_owned(),
            attributes,
            ordering_key: message.ordering_key(GroupBy::Unit).to_owned(),
        }
    }

    /// The body, parsed.
    ///
    /// # Panics
    ///
    /// If the body is not JSON, which a message from the core always is.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a message body is JSON")
    }
}

/// How many times a fault applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The next `n` times, then no more.
    Next(usize),
    /// Every time.
    Always,
}

impl Times {
    fn applies(self) -> bool {
        self != Times::Next(0)
    }

    /// Uses one occurrence, and says whether the fault applies this time.
    fn take(&mut self) -> bool {
        match self {
            Times::Always => true,
            Times::Next(0) => false,
            Times::Next(n) => {
                *n -= 1;
                true
            }
        }
    }
}

/// A refusal to apply to one message id.
#[derive(Debug, Clone)]
struct RefuseRule {
    id: String,
    retryable: bool,
    times: Times,
}

#[derive(Debug, Default)]
struct State {
    stored: Vec<Stored>,
    calls: Vec<Vec<String>>,
    failures: Vec<(Times, String)>,
    refusals: Vec<RefuseRule>,
    delay: Option<Duration>,
}

/// A [`Queue`] that keeps what it accepts in memory. Without a fault it accepts every
/// message. Every method takes `&self`, so tasks can share it.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    state: Mutex<State>,
}

impl MemoryQueue {
    /// An empty queue that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every update under the lock is a single step, so a test that panicked holding it
        // left consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Stored> {
        self.state().stored.clone()
    }

    /// Removes and returns every message accepted so far.
    pub fn take(&self) -> Vec<Stored> {
        std::mem::take(&mut self.state().stored)
    }

    pub fn len(&self) -> usize {
        self.state().stored.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state().stored.is_empty()
    }

    /// The message ids of every `send_batch` call so far, failed and refused ones included.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.state().calls.clone()
    }

    /// Makes whole calls fail with [`SendError`]`(reason)`, as when the network fails.
    /// Nothing of a failed call is kept. Faults added earlier apply first.
    pub fn fail_calls(&self, times: Times, reason: impl Into<String>) {
        self.state().failures.push((times, reason.into()));
    }

    /// Refuses the message with this `id`, `times` times, with the code SQS uses for a
    /// `retryable` or a sender's fault. The rest of its call is accepted.
    pub fn refuse(&self, id: impl Into<String>, retryable: bool, times: Times) {
        self.state().refusals.push(RefuseRule {
            id: id.into(),
            retryable,
            times,
        });
    }

    /// Makes every call wait `delay` before answering, to test deadlines.
    pub fn delay(&self, delay: Duration) {
        self.state().delay = Some(delay);
    }

    /// Removes every fault and delay. The messages and calls stay.
    pub fn heal(&self) {
        let mut state = self.state();
        state.failures.clear();
        state.refusals.clear();
        state.delay = None;
    }

    fn answer(&self, messages: &[&Outgoing]) -> Result<Vec<Refusal>, SendError> {
        let mut state = self.state();
        let State {
            stored,
            calls,
            failures,
            refusals: rules,
            ..
        } = &mut *state;
        calls.push(messages.iter().map(|m| m.id().to_owned()).collect());
        if let Some(reason) = failures
            .iter_mut()
            .find_map(|(times, reason)| times.take().then(|| reason.clone()))
        {
            return Err(SendError(reason));
        }
        let mut refusals = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            let rule = rules
                .iter_mut()
                .find(|rule| rule.id == message.id() && rule.times.applies());
            match rule {
                Some(rule) => {
                    rule.times.take();
                    refusals.push(Refusal {
                        index,
                        retryable: rule.retryable,
                        code: if rule.retryable {
                            "InternalError"
                        } else {
                            "InvalidMessageContents"
                        }
                        .into(),
                        message: format!("refused by MemoryQueue::refuse({:?})", rule.id),
                    });
                }
                None => stored.push(Stored::new(message)),
            }
        }
        Ok(refusals)
    }
}

impl Queue for MemoryQueue {
    async fn send_batch(&self, messages: &[&Outgoing]) -> Result<Vec<Refusal>, SendError> {
        let delay = self.state().delay;
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        self.answer(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::fixtures::batch;
    use crate::queue::{MAX_CALLS_IN_FLIGHT, PublishPolicy, publish};

    const FAST: PublishPolicy = PublishPolicy {
        concurrency: MAX_CALLS_IN_FLIGHT,
        attempts: 3,
        backoff: Duration::from_millis(1),
        deadline: Duration::from_secs(60),
    };

    #[tokio::test]
    async fn keeps_each_message_with_the_attributes_sqs_would_carry() {
        let queue = MemoryQueue::new();
        assert_eq!(publish(&queue, batch(2).messages(), FAST).await, Ok(2));
        let stored = queue.messages();
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[1].id, "feilian:e1:1");
        assert_eq!(stored[1].json()["entity_id"], "od_1");
        assert_eq!(stored[1].ordering_key, "feilian:a:department:od_1");
        let attributes: Vec<(&str, &str)> = stored[1]
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            attributes,
            [
                ("action", "updated"),
                ("entity", "department"),
                ("event_type", "department.v1.update"),
                ("source", "feilian"),
            ]
        );
        assert_eq!(queue.take().len(), 2);
        assert!(queue.is_empty());
    }

    #[tokio::test]
    async fn a_failed_call_keeps_nothing_and_the_fault_wears_off() {
        let queue = MemoryQueue::new();
        queue.fail_calls(Times::Next(1), "connection refused");
        let err = publish(&queue, batch(3).messages(), FAST)
            .await
            .unwrap_err();
        assert_eq!((err.enqueued, err.total), (0, 3));
        assert!(err.to_string().contains("connection refused"), "{err}");
        assert!(queue.is_empty());
        assert_eq!(publish(&queue, batch(3).messages(), FAST).await, Ok(3));
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.calls().len(), 2);
    }

    #[tokio::test]
    async fn a_retryable_refusal_is_resent_and_a_permanent_one_is_not() {
        let queue = MemoryQueue::new();
        queue.refuse("feilian:e1:1", true, Times::Next(2));
        assert_eq!(publish(&queue, batch(3).messages(), FAST).await, Ok(3));
        assert_eq!(
            queue.calls(),
            [
                vec!["feilian:e1:0", "feilian:e1:1", "feilian:e1:2"],
                vec!["feilian:e1:1"],
                vec!["feilian:e1:1"],
            ]
        );
        let ids: Vec<String> = queue.take().into_iter().map(|m| m.id).collect();
        assert_eq!(ids, ["feilian:e1:0", "feilian:e1:2", "feilian:e1:1"]);

        queue.refuse("feilian:e1:0", false, Times::Always);
        let err = publish(&queue, batch(2).messages(), FAST)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("InvalidMessageContents"), "{err}");
        assert_eq!(queue.len(), 1, "the other entry of the call was accepted");
        queue.heal();
        assert_eq!(publish(&queue, batch(1).messages(), FAST).await, Ok(1));
    }
}
