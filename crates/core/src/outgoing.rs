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
mod tests {
    use serde_json::value::RawValue;

    use super::*;
    use crate::testing::message;

    /// The body of `message`, as [`Outgoing::new`] writes it.
    fn sqs_body(message: &Message<'_>) -> String {
        sqs_text(serde_json::to_string(message).unwrap())
    }

    #[test]
    fn the_ordering_key_takes_the_app_id_where_the_tenant_key_is_absent_or_empty() {
        let key = |by, tenant_key: Option<&'static str>, app_id: Option<&'static str>| {
            let mut message = message("d1", None, None, None);
            (message.tenant_key, message.app_id) =
                (tenant_key.map(Cow::Borrowed), app_id.map(Cow::Borrowed));
            Outgoing::new(message).unwrap().ordering_key(by).to_owned()
        };
        let unit = |tenant_key, app_id| key(GroupBy::Unit, tenant_key, app_id);
        assert_eq!(unit(Some("t1"), Some("cli_a")), "feishu:t1:department:d1");
        assert_eq!(unit(None, Some("cli_a")), "feishu:cli_a:department:d1");
        assert_eq!(unit(Some(""), Some("cli_a")), "feishu:cli_a:department:d1");
        assert_eq!(unit(Some(""), None), "feishu::department:d1");
        assert_eq!(unit(None, None), "feishu::department:d1");
        let tenant = |tenant_key, app_id| key(GroupBy::Tenant, tenant_key, app_id);
        assert_eq!(tenant(Some("t1"), Some("cli_a")), "feishu:t1");
        assert_eq!(tenant(None, Some("cli_a")), "feishu:cli_a");
        assert_eq!(tenant(Some(""), Some("cli_a")), "feishu:cli_a");
        assert_eq!(tenant(None, None), "feishu:");
    }

    #[test]
    fn the_tenant_group_names_the_endpoint_and_the_unit_group_the_unit() {
        let mut message = message("d1", None, None, None);
        message.endpoint = Some(Cow::Borrowed("feishu/lark-global"));
        message.tenant_key = Some(Cow::Borrowed("t1"));
        let outgoing = Outgoing::new(message).unwrap();
        assert_eq!(
            outgoing.ordering_key(GroupBy::Tenant),
            "feishu/lark-global:t1"
        );
        assert_eq!(
            outgoing.ordering_key(GroupBy::Unit),
            "feishu:t1:department:d1"
        );
        assert_eq!(GroupBy::default(), GroupBy::Tenant);
    }

    /// The code points that matter, in order: every one- and two-byte character
    /// (the control characters among them), the edges of the surrogate gap, every
    /// character with the lead byte 0xEF (U+F000–U+FFFF: U+FFFD, U+FFFE, U+FFFF), and
    /// the first and last characters outside the Basic Multilingual Plane.
    fn every_char() -> String {
        [
            0..=0x7ff,
            0xd700..=0xd7ff,
            0xe000..=0xe0ff,
            0xf000..=0xffff,
            0x10000..=0x100ff,
            0x10ff00..=0x10ffff,
        ]
        .into_iter()
        .flatten()
        .filter_map(char::from_u32)
        .collect()
    }

    fn assert_sqs_text(body: &str) {
        // A `str` is UTF-8: each of its characters is checked, so every byte is part
        // of an allowed character.
        if let Some((at, c)) = body.char_indices().find(|&(_, c)| !sqs_allows(c)) {
            panic!("U+{:04X} at byte {at}", u32::from(c));
        }
    }

    #[test]
    fn the_allowed_set_is_the_documented_one() {
        let allowed: Vec<u32> = (0..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|&c| sqs_allows(c))
            .map(u32::from)
            .collect();
        let documented: Vec<u32> = [0x9, 0xa, 0xd]
            .into_iter()
            .chain(0x20..=0xd7ff)
            .chain(0xe000..=0xfffd)
            .chain(0x10000..=0x10ffff)
            .collect();
        assert_eq!(allowed, documented);
    }

    #[test]
    fn a_body_of_hostile_strings_is_sqs_text_and_the_same_json() {
        let every = every_char();
        for text in [
            every.as_str(),
            "Growth \u{fffe}",
            "Growth \u{ffff}",
            "\u{0}\u{1f}\u{fffe}\u{ffff}\u{7f}\u{fffd}\u{10ffff}",
        ] {
            let body = sqs_body(&message(text, Some(text), None, None));
            assert_sqs_text(&body);
            let read: Message = serde_json::from_str(&body).unwrap();
            assert_eq!(read.entity_id, text);
            assert_eq!(read.event_id, text);
            assert_eq!(read.changed_fields[0], text);
            assert_eq!(read.tenant_key.as_deref(), Some(text));
            let value: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(value["entity_id"], text);
        }
        let body = sqs_body(&message("\u{ffff}\u{0}", Some("\u{fffe}"), None, None));
        assert!(body.contains(r#""entity_id":"\uffff\u0000""#), "{body}");
    }

    #[test]
    fn raw_snapshots_are_escaped_where_sqs_needs_it_and_keep_their_meaning() {
        // Every character JSON allows raw in a string (not a control character, `"`
        // or `\\`), raw; then escapes, a lone surrogate among them.
        let raw_chars: String = every_char()
            .chars()
            .filter(|&c| c >= '\u{20}' && c != '"' && c != '\\')
            .collect();
        let after = format!(
            r#"{{"name":"{raw_chars}","cut":"Growth \ud83d","escaped":"\u0000\u001f\uffff","k{ffff}":[1,"{fffe}"]}}"#,
            ffff = '\u{ffff}',
            fffe = '\u{fffe}',
        );
        let after = RawValue::from_string(after).unwrap();
        let before =
            RawValue::from_string("{\"name\":\"\u{ffff}\",\"cut\":\"\\udc00\"}".into()).unwrap();
        let body = sqs_body(&message("od-1", Some("od-1"), Some(&before), Some(&after)));
        assert_sqs_text(&body);
        // The raw text changed only where a character had to be escaped...
        assert!(
            body.contains(r#""before":{"name":"\uffff","cut":"\udc00"}"#),
            "{body}"
        );
        assert!(body.contains(r#""cut":"Growth \ud83d""#));
        assert!(body.contains(r#""k\uffff":[1,"\ufffe"]"#));
        // ...and reads back as the same JSON: a consumer gets the same snapshot.
        let read: Message = serde_json::from_str(&body).unwrap();
        let after_read = read.after.unwrap();
        let lone = |raw: &str| raw.replace(r#""cut":"Growth \ud83d","#, "");
        let original: serde_json::Value = serde_json::from_str(&lone(after.get())).unwrap();
        let escaped: serde_json::Value = serde_json::from_str(&lone(after_read.get())).unwrap();
        assert_eq!(escaped, original);
        assert_eq!(escaped["name"], raw_chars);
    }

    #[test]
    fn a_common_body_is_what_serde_json_writes() {
        let after = RawValue::from_string(
            r#"{"name": "部门名称1 😀", "open_id":"od_6M95Q3J3abcd", "seq": 0}"#.into(),
        )
        .unwrap();
        for text in [
            "od-64242a18099d3a31acd24d8fce8d1a2b",
            "部门\n\"\u{1f}",
            "\u{ef00}",
        ] {
            let message = message(text, Some(text), Some(&after), Some(&after));
            assert_eq!(sqs_body(&message), serde_json::to_string(&message).unwrap());
        }
    }
}
