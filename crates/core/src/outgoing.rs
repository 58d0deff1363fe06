//! A message ready for a queue: its serialized body and what the queue needs to
//! route and deduplicate it. Only this crate creates one, from a verified event.

use crate::{Action, Entity, Message, Source};

/// One message, serialized. Its fields are private and it has no public
/// constructor: the only way to get one is a [`Batch`](crate::Batch) from
/// [`receive`](crate::receive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    id: String,
    body: String,
    ordering_key: String,
    source: Source,
    event_type: String,
    entity: Entity,
    action: Action,
}

impl Outgoing {
    pub(crate) fn new(message: &Message<'_>) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: message.id.clone().into_owned(),
            body: serde_json::to_string(message)?,
            ordering_key: ordering_key(message),
            source: message.source,
            event_type: message.event_type.clone().into_owned(),
            entity: message.entity,
            action: message.action,
        })
    }

    /// [`Message::id`]: unique per change, stable across the platform's retries.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The JSON of the [`Message`], the queue message's body.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The unit whose changes must stay in order: on a FIFO queue this is the message
    /// group, `<source>:<tenant_key or app_id>:<entity>:<entity_id>`.
    pub fn ordering_key(&self) -> &str {
        &self.ordering_key
    }

    /// [`Message::source`].
    pub fn source(&self) -> Source {
        self.source
    }

    /// [`Message::event_type`].
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// [`Message::entity`].
    pub fn entity(&self) -> Entity {
        self.entity
    }

    /// [`Message::action`].
    pub fn action(&self) -> Action {
        self.action
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
