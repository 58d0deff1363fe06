//! What [`receive`](crate::receive()) hands the adapter for an authenticated request.

use crate::endpoint::Credentials;
use crate::{EventRef, Outgoing, Quarantine, Rejection};

/// What to do with an authenticated request.
#[derive(Debug)]
pub enum Delivery {
    /// A URL verification: answer with this challenge.
    Challenge(Challenge),
    /// Changes to put on the queue.
    Changes(Batch),
    /// An event type not relayed: acknowledged, or the platform retries for hours.
    Ignored(EventRef),
    /// A verified event that cannot become messages: the adapter quarantines it.
    Unusable {
        /// The answer had it not been quarantined.
        rejection: Rejection,
        /// What to quarantine.
        quarantine: Quarantine,
    },
}

impl Delivery {
    /// Which of the endpoint's pairs authenticated the request.
    pub fn credentials(&self) -> Credentials {
        match self {
            Delivery::Challenge(challenge) => challenge.credentials,
            Delivery::Changes(batch) => batch.event.credentials,
            Delivery::Ignored(event) => event.credentials,
            Delivery::Unusable { quarantine, .. } => quarantine.event().credentials,
        }
    }
}

/// A URL verification whose token matched (`docs/protocol.md`, "Challenge replies").
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    pub(crate) value: String,
    pub(crate) token: String,
    pub(crate) credentials: Credentials,
}

impl Challenge {
    /// The `challenge` value to send back.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The token, for Feilian's `echo` reply. A secret: never log it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Which of the endpoint's pairs the challenge matched.
    pub fn credentials(&self) -> Credentials {
        self.credentials
    }
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("value", &self.value)
            .field("token", &"<redacted>")
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// The messages of one verified request; only [`receive`](crate::receive()) makes one.
#[derive(Debug)]
pub struct Batch {
    pub(crate) event: EventRef,
    pub(crate) messages: Vec<Outgoing>,
}

impl Batch {
    /// The event the messages come from.
    pub fn event(&self) -> &EventRef {
        &self.event
    }

    /// The messages, in the platform's order.
    pub fn messages(&self) -> &[Outgoing] {
        &self.messages
    }
}
