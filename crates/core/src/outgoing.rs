//! A message ready for a queue: its serialized body and what the queue needs to
//! route and deduplicate it. Only this crate creates one, from a verified event.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::endpoint::EndpointId;
use crate::{Action, Entity, EventRef, Message, Source};

/// The data type of every message attribute ([`Outgoing::attributes`]): each is a
/// string, sent with this type and counted by [`Outgoing::size`].
pub const ATTRIBUTE_DATA_TYPE: &str = "String";

/// One message, serialized. Its fields are private and it has no public
/// constructor: the only ways to get one are a [`Batch`](crate::Batch) from
/// [`receive`](crate::receive) and [`Quarantine::outgoing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    id: String,
    body: String,
    /// The FIFO message group under [`GroupBy::Tenant`].
    tenant_group: String,
    /// The FIFO message group under [`GroupBy::Unit`].
    unit_group: String,
    kind: Kind,
}

/// Which changes a FIFO queue keeps in order with one another (`FIFO_GROUP_BY`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupBy {
    /// Every change of one endpoint and tenant, in the order the relay received them.
    /// This keeps the order the platform gives across units: a parent department's
    /// creation before its children's (`docs/protocol.md`, "Delivery and retries").
    #[default]
    Tenant,
    /// Each unit (one department or custom org) on its own: more consumers in
    /// parallel, but only each unit's own order.
    Unit,
}

/// What the message is, for its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A change ([`Message`]).
    Change {
        source: Source,
        /// One of [`event_types`](crate::event_types) (static: no copy per message),
        /// the only types that become messages.
        event_type: Cow<'static, str>,
        entity: Entity,
        action: Action,
    },
    /// A quarantined event.
    Quarantine {
        source: Source,
        endpoint: String,
        event_type: String,
        event_id: String,
        reason: &'static str,
        detail: String,
    },
}

impl Outgoing {
    pub(crate) fn new(message: Message<'_>) -> Result<Self, serde_json::Error> {
        // Only a relayed event type becomes a message; were another to, it would be
        // copied, as SQS text.
        let event_type = crate::event_types(message.source)
            .iter()
            .find(|(relayed, ..)| *relayed == message.event_type)
            .map_or_else(
                || Cow::Owned(sqs_attribute(&message.event_type)),
                |(relayed, ..)| Cow::Borrowed(*relayed),
            );
        Ok(Self {
            body: sqs_text(serde_json::to_string(&message)?),
            tenant_group: tenant_group(&message),
            unit_group: unit_group(&message),
            kind: Kind::Change {
                source: message.source,
                event_type,
                entity: message.entity,
                action: message.action,
            },
            id: message.id.into_owned(),
        })
    }

    /// The message of an `event` quarantined at `endpoint` for `reason`: `body` is its
    /// JSON (the redacted envelope or its summary), written as SQS text like every body.
    pub(crate) fn quarantined(
        endpoint: &EndpointId,
        event: &EventRef,
        reason: &'static str,
        detail: &str,
        body: String,
    ) -> Self {
        let id = format!("quarantine:{endpoint}:{}", event.event_id);
        Self {
            tenant_group: id.clone(),
            unit_group: id.clone(),
            id,
            body: sqs_text(body),
            kind: Kind::Quarantine {
                source: endpoint.source(),
                endpoint: endpoint.as_str().to_owned(),
                event_type: sqs_attribute(&event.event_type),
                event_id: sqs_attribute(&event.event_id),
                reason,
                detail: sqs_attribute(detail),
            },
        }
    }

    /// [`Message::id`] (`quarantine:<endpoint>:<event_id>` for a quarantined event):
    /// unique per change and endpoint, stable across the platform's retries.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The queue message's body: the JSON of the [`Message`] (or of a quarantined
    /// envelope), compact, and only made of characters Amazon SQS accepts in a body:
    /// any other is written as its JSON escape (`docs/protocol.md`, "Amazon SQS
    /// limits").
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The changes this one must stay in order with: on a FIFO queue, its message
    /// group. [`GroupBy::Tenant`]: `<endpoint>:<tenant_key or app_id>`;
    /// [`GroupBy::Unit`]: `<source>:<tenant_key or app_id>:<entity>:<entity_id>`. A
    /// quarantined event is a group of its own.
    pub fn ordering_key(&self, by: GroupBy) -> &str {
        match by {
            GroupBy::Tenant => &self.tenant_group,
            GroupBy::Unit => &self.unit_group,
        }
    }

    /// The message's size as a queue with typed attributes counts it (Amazon SQS:
    /// `docs/protocol.md`, "Amazon SQS limits"), in bytes: the body's UTF-8 bytes plus,
    /// for each attribute, its name, its data type `String` and its value.
    pub fn size(&self) -> usize {
        self.attributes()
            .iter()
            .map(|(name, value)| name.len() + ATTRIBUTE_DATA_TYPE.len() + value.len())
            .sum::<usize>()
            + self.body.len()
    }

    /// The message attributes, as `(name, value)` strings: `source`, `event_type`,
    /// `entity`, `action` for a change; `source`, `endpoint` (where to replay it:
    /// `feishu`, `feishu/<name>`, ...), `event_type`, `event_id`, `reason`, `detail`
    /// for a quarantined event.
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
                endpoint,
                event_type,
                event_id,
                reason,
                detail,
            } => vec![
                ("source", source.as_str()),
                ("endpoint", endpoint),
                ("event_type", event_type),
                ("event_id", event_id),
                ("reason", reason),
                ("detail", detail),
            ],
        }
    }
}

/// JSON `text` with each character SQS refuses ([`sqs_allows`]) written as its
/// `\uXXXX` escape, which means the same JSON. serde_json escapes the control
/// characters in strings, and a raw snapshot can hold one only as whitespace; what is
/// left is U+FFFE and U+FFFF, which JSON leaves raw (`docs/protocol.md`, "Amazon SQS
/// limits").
fn sqs_text(text: String) -> String {
    if text.chars().all(sqs_allows) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 12);
    for c in text.chars() {
        if sqs_allows(c) {
            out.push(c);
        } else {
            // Every refused character is below U+10000: four hex digits. Writing into
            // a String cannot fail.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
    }
    out
}

/// An attribute value SQS accepts: each character it refuses replaced by U+FFFD (an
/// attribute is not JSON, so it has no escapes).
fn sqs_attribute(text: &str) -> String {
    text.chars()
        .map(|c| if sqs_allows(c) { c } else { '\u{fffd}' })
        .collect()
}

/// The tenant of a message: its `tenant_key`, else its `app_id`. An empty
/// `tenant_key` is no tenant key.
fn tenant<'m>(message: &'m Message<'_>) -> &'m str {
    [&message.tenant_key, &message.app_id]
        .into_iter()
        .flatten()
        .map(|text| text.as_ref())
        .find(|text| !text.is_empty())
        .unwrap_or_default()
}

/// `<endpoint>:<tenant>` ([`GroupBy::Tenant`]).
fn tenant_group(message: &Message<'_>) -> String {
    format!("{}:{}", message.endpoint_id(), tenant(message))
}

/// `<source>:<tenant>:<entity>:<entity_id>` ([`GroupBy::Unit`]).
fn unit_group(message: &Message<'_>) -> String {
    format!(
        "{}:{}:{}:{}",
        message.source.as_str(),
        tenant(message),
        message.entity.as_str(),
        message.entity_id
    )
}

/// Whether Amazon SQS accepts `c` in a message body: `#x9 | #xA | #xD | #x20-#xD7FF |
/// #xE000-#xFFFD | #x10000-#x10FFFF`, anything else failing the send with
/// `InvalidMessageContents`, on every retry (`docs/protocol.md`, "Amazon SQS limits").
/// A Rust `char` is never a surrogate, so U+D800–U+DFFF need no case here.
pub(crate) fn sqs_allows(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{fffd}' | '\u{10000}'..)
}

#[cfg(test)]
#[path = "tests/outgoing.rs"]
mod tests;
