//! A queue in memory, for the tests that need no SQS server (tests/rejections.rs): it
//! keeps every message it is sent, as `SqsQueue` would put it on SQS, and every call.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use org_change_core::Outgoing;
use org_change_relay::queue::{Queue, Refusal, SendError};

/// One message the queue accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: String,
    pub body: String,
    /// The message attributes SQS would carry, each a String.
    pub attributes: BTreeMap<String, String>,
}

impl Stored {
    /// The body, parsed.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a message body is JSON")
    }
}

#[derive(Debug, Default)]
struct State {
    stored: Vec<Stored>,
    calls: Vec<Vec<String>>,
}

/// A [`Queue`] that accepts every message and keeps it.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    state: Mutex<State>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Stored> {
        self.state().stored.clone()
    }

    pub fn is_empty(&self) -> bool {
        self.state().stored.is_empty()
    }

    /// The message ids of every call, in order.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.state().calls.clone()
    }
}

impl Queue for MemoryQueue {
    async fn send_batch(&self, messages: &[&Outgoing]) -> Result<Vec<Refusal>, SendError> {
        let mut state = self.state();
        state
            .calls
            .push(messages.iter().map(|m| m.id().to_owned()).collect());
        for message in messages {
            let attributes = message
                .attributes()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect();
            state.stored.push(Stored {
                id: message.id().to_owned(),
                body: message.body().to_owned(),
                attributes,
            });
        }
        Ok(Vec::new())
    }
}
