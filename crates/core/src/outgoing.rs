//! A message ready for a queue: its body, and what routes and deduplicates it.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::endpoint::EndpointId;
use crate::{EventRef, Message};

/// The data type of every message attribute.
pub const ATTRIBUTE_DATA_TYPE: &str = "String";

/// One message, serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    id: String,
    body: String,
    /// `<endpoint>:<tenant>`.
    tenant_group: String,
    /// `<source>:<tenant>:<entity>:<entity_id>`.
    unit_group: String,
    attributes: Vec<(&'static str, Cow<'static, str>)>,
}

/// Which changes a FIFO queue keeps in order with one another (`FIFO_GROUP_BY`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupBy {
    /// Every change of one endpoint and tenant, in the order received.
    /// It keeps a parent's creation first (`docs/protocol.md`, "Delivery and retries").
    #[default]
    Tenant,
    /// Each unit on its own: more consumers in parallel, but only each unit's own order.
    Unit,
}

impl Outgoing {
    pub(crate) fn new(message: Message<'_>) -> Result<Self, serde_json::Error> {
        let tenant = tenant(&message);
        let (source, entity) = (message.source.as_str(), message.entity.as_str());
        Ok(Self {
            body: sqs_text(json(&message)?),
            tenant_group: format!("{}:{tenant}", message.endpoint_id()),
            unit_group: format!("{source}:{tenant}:{entity}:{}", message.entity_id),
            attributes: vec![
                ("source", source.into()),
                ("event_type", event_type_attribute(&message)),
                ("entity", entity.into()),
                ("action", message.action.as_str().into()),
            ],
            id: message.id.into_owned(),
        })
    }

    /// The message of a quarantined `event`, `body` being its JSON.
    /// Its `endpoint` attribute says where to replay it.
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
            attributes: vec![
                ("source", endpoint.source().as_str().into()),
                ("endpoint", endpoint.as_str().to_owned().into()),
                ("event_type", sqs_attribute(&event.event_type).into()),
                ("event_id", sqs_attribute(&event.event_id).into()),
                ("reason", reason.into()),
                ("detail", sqs_attribute(detail).into()),
            ],
        }
    }

    /// [`Message::id`], or `quarantine:<endpoint>:<event_id>`: stable across retries.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The body: compact JSON, any character SQS refuses written as its escape.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The FIFO message group; a quarantined event is a group of its own.
    pub fn ordering_key(&self, by: GroupBy) -> &str {
        match by {
            GroupBy::Tenant => &self.tenant_group,
            GroupBy::Unit => &self.unit_group,
        }
    }

    /// The size as SQS counts it: the body and each attribute's name, type and value
    /// (`docs/protocol.md`, "Amazon SQS limits").
    pub fn size(&self) -> usize {
        self.attributes
            .iter()
            .map(|(name, value)| name.len() + ATTRIBUTE_DATA_TYPE.len() + value.len())
            .sum::<usize>()
            + self.body.len()
    }

    /// The message attributes, values as SQS takes them.
    pub fn attributes(&self) -> Vec<(&'static str, &str)> {
        self.attributes
            .iter()
            .map(|(name, value)| (*name, value.as_ref()))
            .collect()
    }
}

/// JSON `text` with each character SQS refuses written as its `\uXXXX` escape.
/// Only U+FFFE and U+FFFF can remain after serde_json (`docs/protocol.md`, "Amazon SQS limits").
fn sqs_text(text: String) -> String {
    // A refused character starts with a byte below 0x20, or is U+FFFE or U+FFFF (0xEF first).
    // Scanning bytes is much faster than decoding characters.
    if !text.bytes().any(|b| b < 0x20 || b == 0xef) || text.chars().all(sqs_allows) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 12);
    for c in text.chars() {
        if sqs_allows(c) {
            out.push(c);
        } else {
            // Every refused character is below U+10000.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
    }
    out
}

/// `message` as compact JSON, in one buffer sized for it.
/// serde_json's own would grow about eight times.
fn json(message: &Message<'_>) -> Result<String, serde_json::Error> {
    let snapshots: usize = [&message.before, &message.after]
        .into_iter()
        .flatten()
        .map(|raw| raw.get().len())
        .sum();
    let mut out = Vec::with_capacity(1024 + snapshots);
    serde_json::to_writer(&mut out, message)?;
    String::from_utf8(out).map_err(<serde_json::Error as serde::ser::Error>::custom)
}

/// The `event_type` attribute: a relayed type's static name needs no copy.
fn event_type_attribute(message: &Message<'_>) -> Cow<'static, str> {
    crate::event_types(message.source)
        .iter()
        .find(|(relayed, ..)| *relayed == message.event_type)
        .map_or_else(
            || sqs_attribute(&message.event_type).into(),
            |(relayed, ..)| (*relayed).into(),
        )
}

/// An attribute value, each character SQS refuses replaced by U+FFFD: it has no escapes.
fn sqs_attribute(text: &str) -> String {
    text.chars()
        .map(|c| if sqs_allows(c) { c } else { '\u{fffd}' })
        .collect()
}

/// The tenant of a message: its non-empty `tenant_key`, else its `app_id`.
fn tenant<'m>(message: &'m Message<'_>) -> &'m str {
    [&message.tenant_key, &message.app_id]
        .into_iter()
        .flatten()
        .map(|text| text.as_ref())
        .find(|text| !text.is_empty())
        .unwrap_or_default()
}

/// Whether Amazon SQS accepts `c` in a message body (`docs/protocol.md`, "Amazon SQS limits").
/// Any other character fails the send on every retry.
pub(crate) fn sqs_allows(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{fffd}' | '\u{10000}'..)
}

#[cfg(test)]
#[path = "tests/outgoing.rs"]
mod tests;
