//! What both platforms' envelopes have in common once parsed (`docs/protocol.md`, "Envelopes").

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::endpoint::Credentials;
use crate::snapshot::{Text, is_object};
use crate::{Action, Entity, Rejection};

/// A parsed, not yet authenticated, request.
#[derive(Debug)]
pub(crate) enum Envelope<'a> {
    /// `{"challenge", "token", "type": "url_verification"}`.
    Challenge {
        challenge: Cow<'a, str>,
        token: Option<Cow<'a, str>>,
    },
    Event(Event<'a>),
}

/// An event's header fields, and its payload left raw until the event type says how to read it.
#[derive(Debug)]
pub(crate) struct Event<'a> {
    pub token: Option<Cow<'a, str>>,
    pub event_type: Cow<'a, str>,
    pub event_id: Cow<'a, str>,
    pub create_time: Option<&'a RawValue>,
    pub app_id: Option<Cow<'a, str>>,
    pub tenant_key: Option<Cow<'a, str>>,
    pub payload: &'a RawValue,
}

/// Which event a request carried, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    /// The platform's event type, e.g. `corehr.department.updated_v2`.
    pub event_type: String,
    /// The platform's event id.
    pub event_id: String,
    /// Which of the endpoint's pairs of secrets authenticated the request.
    pub credentials: Credentials,
}

impl Event<'_> {
    /// The refusal for a relayed event whose body does not say what it must.
    pub fn malformed(&self, detail: &'static str) -> Rejection {
        Rejection::MalformedEvent {
            event_type: self.event_type.clone().into_owned(),
            event_id: self.event_id.clone().into_owned(),
            detail,
        }
    }

    /// The event's type and id, owned, and the pair that authenticated it.
    pub fn event_ref(&self, credentials: Credentials) -> EventRef {
        EventRef {
            event_type: self.event_type.clone().into_owned(),
            event_id: self.event_id.clone().into_owned(),
            credentials,
        }
    }
}

/// Every top-level field either platform's envelope may carry.
#[derive(Deserialize)]
pub(crate) struct Wire<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Option<Text<'a>>,
    pub challenge: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub token: Option<Text<'a>>,
    #[serde(borrow)]
    pub header: Option<&'a RawValue>,
    #[serde(borrow)]
    pub uuid: Option<Text<'a>>,
    #[serde(borrow)]
    pub ts: Option<&'a RawValue>,
    #[serde(borrow)]
    pub event: Option<&'a RawValue>,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

/// `T` read from a raw JSON object; `None` for anything else.
/// A derived struct also reads an array by position, which must not become an event.
pub(crate) fn from_object<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Option<T> {
    is_object(raw)
        .then(|| serde_json::from_str(raw.get()).ok())
        .flatten()
}

/// The `header` object of Feishu schema 2.0 and of Feilian.
#[derive(Debug, Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    pub event_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub event_type: Option<Text<'a>>,
    #[serde(borrow)]
    pub create_time: Option<&'a RawValue>,
    #[serde(borrow)]
    pub token: Option<Text<'a>>,
    #[serde(borrow)]
    pub app_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub tenant_key: Option<Text<'a>>,
}

const HEADER_SHAPE: &str = "`header` must be an object whose fields are strings, given once";

const URL_VERIFICATION: &str = "url_verification";

impl<'a> Wire<'a> {
    pub fn kind(&self) -> Option<&str> {
        self.kind.as_ref().map(|kind| kind.0.as_ref())
    }

    /// The URL verification, if this is one; both platforms send the same shape.
    pub fn challenge(&mut self) -> Option<Result<Envelope<'a>, ParseError>> {
        if self.kind() != Some(URL_VERIFICATION) {
            return None;
        }
        // A header that is no header makes the body malformed, challenge or not.
        if let Some(header) = self.header
            && from_object::<Header>(header).is_none()
        {
            return Some(Err(ParseError::Shape(HEADER_SHAPE)));
        }
        Some(match self.challenge.take() {
            Some(challenge) => Ok(Envelope::Challenge {
                challenge,
                token: self.token.take().map(Text::into_cow),
            }),
            None => Err(ParseError::Shape("url_verification without a challenge")),
        })
    }

    /// The event of a body with a `header` (Feishu schema 2.0, Feilian).
    pub fn header_event(
        header: &'a RawValue,
        payload: Option<&'a RawValue>,
        missing_payload: &'static str,
    ) -> Result<Envelope<'a>, ParseError> {
        if !is_object(header) {
            return Err(ParseError::Shape(HEADER_SHAPE));
        }
        let header: Header = parse_object(header.get(), HEADER_SHAPE)?;
        Ok(Envelope::Event(Event {
            token: header.token.map(Text::into_cow),
            event_type: header
                .event_type
                .ok_or(ParseError::Shape("header.event_type is missing"))?
                .into_cow(),
            event_id: event_id(header.event_id, "header.event_id is missing or empty")?,
            create_time: header.create_time,
            app_id: header.app_id.map(Text::into_cow),
            tenant_key: header.tenant_key.map(Text::into_cow),
            payload: payload.ok_or(ParseError::Shape(missing_payload))?,
        }))
    }
}

/// The event id, of which every message id and FIFO deduplication id is made.
/// `""` is no id: events without one would share ids and be deduplicated away.
pub(crate) fn event_id<'a>(
    id: Option<Text<'a>>,
    missing: &'static str,
) -> Result<Cow<'a, str>, ParseError> {
    id.map(Text::into_cow)
        .filter(|id| !id.is_empty())
        .ok_or(ParseError::Shape(missing))
}

/// One change, in our vocabulary; [`Verified::message`](crate::Verified) adds the header.
pub(crate) struct Change<'a> {
    /// The change's place in its event's list, if the platform sends one.
    pub index: Option<usize>,
    pub entity: Entity,
    pub action: Action,
    pub entity_id: Cow<'a, str>,
    pub object_api_name: Option<Cow<'a, str>>,
    pub changed_fields: Vec<Cow<'a, str>>,
    pub before: Option<&'a RawValue>,
    pub after: Option<&'a RawValue>,
}

/// Why a body could not be read as an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// Not a JSON object at all.
    NotJson,
    /// A JSON object, but not shaped like the platform's envelope.
    Shape(&'static str),
}

/// A JSON object as `T`, telling malformed JSON from a wrong shape.
pub(crate) fn parse_object<'a, T: Deserialize<'a>>(
    text: &'a str,
    shape: &'static str,
) -> Result<T, ParseError> {
    if !text.trim_start().starts_with('{') {
        return Err(ParseError::NotJson);
    }
    serde_json::from_str(text).map_err(|err| match err.classify() {
        serde_json::error::Category::Data => ParseError::Shape(shape),
        // serde_json refuses a lone surrogate in a `str` but skips it unchecked.
        // A body it can skip is JSON all the same.
        _ if serde_json::from_str::<IgnoredAny>(text).is_ok() => ParseError::Shape(UNREADABLE_TEXT),
        _ => ParseError::NotJson,
    })
}

/// What `serde_json` skips but cannot read where it reads a `str`.
const UNREADABLE_TEXT: &str = "it holds what the relay cannot read as text: a lone UTF-16 \
     surrogate escape such as \\ud83d in a key (outside the snapshots) or in `encrypt` or \
     `challenge`, or a number out of range such as 1e400 where a string belongs";
