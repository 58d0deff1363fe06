//! A message ready for a queue: its serialized body and what the queue needs to
//! route and deduplicate it. Only this crate creates one, from a verified event.

use crate::quarantine::Quarantine;
use crate::{Action, Entity, Message, Source};

/// One message, serialized. Its fields are private and it has no public
/// constructor: the only ways to get one are a [`Batch`](crate::Batch) from
/// [`receive`](crate::receive) and [`Quarantine::outgoing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    id: String,
    body: String,
    ordering_key: String,
    kind: Kind,
}

/// What the message is, for its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A change ([`Message`]).
    Change {
        source: Source,
        event_type: String,
        entity: Entity,
        action: Action,
    },
    /// A quarantined event.
    Quarantine {
        source: Source,
        event_type: String,
        event_id: String,
        reason: &'static str,
        detail: String,
    },
}

impl Outgoing {
    pub(crate) fn new(message: &Message<'_>) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: message.id.clone().into_owned(),
            body: serde_json::to_string(message)?,
            ordering_key: ordering_key(message),
            kind: Kind::Change {
                source: message.source,
                event_type: message.event_type.clone().into_owned(),
                entity: message.entity,
                action: message.action,
            },
        })
    }

    pub(crate) fn quarantined(quarantine: &Quarantine, body: String) -> Self {
        let event = quarantine.event();
        let id = format!(
            "quarantine:{}:{}",
            quarantine.source().as_str(),
            event.event_id
        );
        Self {
            ordering_key: id.clone(),
            id,
            body,
            kind: Kind::Quarantine {
                source: quarantine.source(),
                event_type: event.event_type.clone(),
                event_id: event.event_id.clone(),
                reason: quarantine.reason(),
                detail: quarantine.detail().to_owned(),
            },
        }
    }

    /// [`Message::id`] (`quarantine:<source>:<event_id>` for a quarantined event):
    /// unique per change, stable across the platform's retries.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The queue message's body: the JSON of the [`Message`], or of the quarantined
    /// envelope.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The unit whose changes must stay in order: on a FIFO queue this is the message
    /// group, `<source>:<tenant_key or app_id>:<entity>:<entity_id>` (a quarantined
    /// event is a group of its own).
    pub fn ordering_key(&self) -> &str {
        &self.ordering_key
    }

    /// The message attributes, as `(name, value)` strings: `source`, `event_type`,
    /// `entity`, `action` for a change; `source`, `event_type`, `event_id`, `reason`,
    /// `detail` for a quarantined event.
    pub fn attributes(&self) -> Vec<(&'static str, &str)> {
        match &self.kind {
            Kind::Change {
                source,
                event_type,
                entity,
                action,
            } => vec![
                ("source", source.as_str()),
                ("event_type", event_type),
                ("entity", entity.as_str()),
                ("action", action.as_str()),
            ],
            Kind::Quarantine {
                source,
                event_type,
                event_id,
                reason,
                detail,
            } => vec![
                ("source", source.as_str()),
                ("event_type", event_type),
                ("event_id", event_id),
                ("reason", reason),
                ("detail", detail),
            ],
        }
    }
}

fn ordering_key(message: &Message<'_>) -> String {
    let tenant = message
        .tenant_key
        .as_deref()
        .or(message.app_id.as_deref())
        .unwrap_or_default();
    format!(
        "{}:{}:{}:{}",
        message.source.as_str(),
        tenant,
        message.entity.as_str(),
        message.entity_id
    )
}
