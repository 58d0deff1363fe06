//! What both platforms' envelopes have in common once parsed: a URL-verification
//! challenge, or an event with a header and a platform-specific payload.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::Rejection;
use super::message::{Action, Entity, Message, SCHEMA_VERSION, Source};
use super::timestamp::occurred_at;

/// A parsed, not yet authenticated, request.
#[derive(Debug)]
pub enum Envelope<'a> {
    /// `{"challenge", "token", "type": "url_verification"}`.
    Challenge {
        challenge: Cow<'a, str>,
        token: Option<Cow<'a, str>>,
    },
    Event(Event<'a>),
}

/// An event: the header fields both platforms send, and the payload (`event` for
/// Feishu, `data` for Feilian) left raw until the event type says how to read it.
#[derive(Debug)]
pub struct Event<'a> {
    pub token: Option<Cow<'a, str>>,
    pub event_type: Cow<'a, str>,
    pub event_id: Cow<'a, str>,
    pub create_time: Option<&'a RawValue>,
    pub app_id: Option<Cow<'a, str>>,
    pub tenant_key: Option<Cow<'a, str>>,
    pub payload: &'a RawValue,
}

/// The `header` object of Feishu schema 2.0 and of Feilian.
#[derive(Debug, Deserialize)]
pub struct Header<'a> {
    #[serde(borrow)]
    pub event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub create_time: Option<&'a RawValue>,
    #[serde(borrow)]
    pub token: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub app_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub tenant_key: Option<Cow<'a, str>>,
}

/// The type of every URL-verification request.
pub const URL_VERIFICATION: &str = "url_verification";

/// What one change says, in our vocabulary; [`Event::message`] adds the header fields.
pub struct Change<'a> {
    pub id: String,
    pub entity: Entity,
    pub action: Action,
    pub entity_id: Cow<'a, str>,
    pub object_api_name: Option<Cow<'a, str>>,
    pub changed_fields: Vec<Cow<'a, str>>,
    pub before: Option<&'a RawValue>,
    pub after: Option<&'a RawValue>,
}

impl<'a> Event<'a> {
    /// The refusal for a relayed event type whose body does not say what it must.
    pub fn malformed(&self, detail: &'static str) -> Rejection {
        Rejection::MalformedEvent {
            event_type: self.event_type.clone().into_owned(),
            detail,
        }
    }

    /// The normalized message for one change carried by this event.
    pub fn message(&self, source: Source, change: Change<'a>) -> Message<'a> {
        Message {
            schema_version: SCHEMA_VERSION,
            id: Cow::Owned(change.id),
            source,
            event_type: self.event_type.clone(),
            event_id: self.event_id.clone(),
            entity: change.entity,
            action: change.action,
            entity_id: change.entity_id,
            object_api_name: change.object_api_name,
            changed_fields: change.changed_fields,
            occurred_at: self.create_time.and_then(occurred_at),
            tenant_key: self.tenant_key.clone(),
            app_id: self.app_id.clone(),
            before: change.before.map(Cow::Borrowed),
            after: change.after.map(Cow::Borrowed),
        }
    }
}

/// Why a body could not be read as an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Not a JSON object at all.
    NotJson,
    /// A JSON object, but not shaped like the platform's envelope.
    Shape(&'static str),
}

/// Parses a JSON object into `T`, telling malformed JSON from a wrong shape.
pub fn parse_object<'a, T: Deserialize<'a>>(
    text: &'a str,
    shape: &'static str,
) -> Result<T, ParseError> {
    if !text.trim_start().starts_with('{') {
        return Err(ParseError::NotJson);
    }
    serde_json::from_str(text).map_err(|err| match err.classify() {
        serde_json::error::Category::Data => ParseError::Shape(shape),
        _ => ParseError::NotJson,
    })
}
