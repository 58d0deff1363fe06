//! What both platforms' envelopes have in common once parsed: a challenge, or an event
//! with a header and a platform's payload (`docs/protocol.md`, "Envelopes").

use std::borrow::Cow;

use serde::de::{IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::endpoint::Credentials;
use crate::snapshot::Text;
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

/// An event: the header fields both platforms send, and the payload left raw until the
/// event type says how to read it.
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

    /// The event's type and id, owned.
    pub fn event_ref(&self) -> EventRef {
        EventRef {
            event_type: self.event_type.clone().into_owned(),
            event_id: self.event_id.clone().into_owned(),
            credentials: Credentials::Current,
        }
    }
}

/// Every top-level field either platform's envelope may carry.
/// Which ones are set tells what the body is.
#[derive(Deserialize)]
pub(crate) struct Wire<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Option<Text<'a>>,
    #[serde(borrow, default, deserialize_with = "option_str")]
    pub challenge: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub token: Option<Text<'a>>,
    #[serde(borrow)]
    pub header: Option<Object<Header<'a>>>,
    #[serde(borrow)]
    pub uuid: Option<Text<'a>>,
    #[serde(borrow)]
    pub ts: Option<&'a RawValue>,
    #[serde(borrow)]
    pub event: Option<&'a RawValue>,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

/// A JSON object read into `T`, and only an object.
/// serde's derived structs also take an array, read by position, which must not become a message.
#[derive(Debug)]
pub(crate) struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(MapOnly(deserializer)).map(Object)
    }
}

/// `T` read from `text`, which must be a JSON object.
pub(crate) fn from_object<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    serde_json::from_str::<Object<T>>(text).map(|object| object.0)
}

/// A deserializer that asks its own for a map whatever it is asked for.
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
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

/// The JSON type a field of [`Wire`] must have when present and not `null`.
#[derive(Clone, Copy)]
enum Json {
    String,
    Object,
}

/// The fields [`Wire`] reads as strings or objects, and the error for each.
const TYPED_FIELDS: [(&str, Json, &str); 10] = [
    ("/type", Json::String, "`type` must be a string"),
    ("/challenge", Json::String, "`challenge` must be a string"),
    ("/token", Json::String, "`token` must be a string"),
    ("/uuid", Json::String, "`uuid` must be a string"),
    ("/header", Json::Object, "`header` must be an object"),
    (
        "/header/event_id",
        Json::String,
        "`header.event_id` must be a string",
    ),
    (
        "/header/event_type",
        Json::String,
        "`header.event_type` must be a string",
    ),
    (
        "/header/token",
        Json::String,
        "`header.token` must be a string",
    ),
    (
        "/header/app_id",
        Json::String,
        "`header.app_id` must be a string",
    ),
    (
        "/header/tenant_key",
        Json::String,
        "`header.tenant_key` must be a string",
    ),
];

/// Which field of an unreadable object has the wrong type, if one has.
/// It reads the body again, on the error path only.
fn wrong_type(text: &str) -> Option<&'static str> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    TYPED_FIELDS
        .iter()
        .find(|(pointer, json, _)| match (value.pointer(pointer), json) {
            (None | Some(serde_json::Value::Null), _) => false,
            (Some(field), Json::String) => !field.is_string(),
            (Some(field), Json::Object) => !field.is_object(),
        })
        .map(|(.., detail)| *detail)
}

/// The type of every URL-verification request.
const URL_VERIFICATION: &str = "url_verification";

impl<'a> Wire<'a> {
    /// Reads `text` as a JSON object of either platform.
    /// The error names a field of the wrong JSON type, if one is, or else is `shape`.
    pub fn parse(text: &'a str, shape: &'static str) -> Result<Self, ParseError> {
        parse_object(text, shape).map_err(|err| match err {
            ParseError::Shape(detail) => ParseError::Shape(wrong_type(text).unwrap_or(detail)),
            err => err,
        })
    }

    /// The top-level `type`, if any.
    pub fn kind(&self) -> Option<&str> {
        self.kind.as_ref().map(|kind| kind.0.as_ref())
    }

    /// The URL verification, if this is one. Both platforms send the same shape.
    pub fn challenge(&mut self) -> Option<Result<Envelope<'a>, ParseError>> {
        if self.kind() != Some(URL_VERIFICATION) {
            return None;
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
        header: Header<'a>,
        payload: Option<&'a RawValue>,
        missing_payload: &'static str,
    ) -> Result<Envelope<'a>, ParseError> {
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
/// `""` is no id: events without one would share message ids and be deduplicated away.
pub(crate) fn event_id<'a>(
    id: Option<Text<'a>>,
    missing: &'static str,
) -> Result<Cow<'a, str>, ParseError> {
    id.map(Text::into_cow)
        .filter(|id| !id.is_empty())
        .ok_or(ParseError::Shape(missing))
}

/// What one change says, in our vocabulary; [`Verified::message`](crate::Verified) adds the header.
pub(crate) struct Change<'a> {
    /// The change's place in its event's list, for a platform that sends a list.
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

/// Parses a JSON object into `T`, telling malformed JSON from a wrong shape.
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

/// A JSON string as serde reads a `Cow<str>` field, borrowed when it has no escape.
/// serde borrows only a field's whole type, hence this newtype for an optional one.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct Str<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// `deserialize_with` for an `Option<Cow<'a, str>>` field, borrowed when it can be.
pub(crate) fn option_str<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<Str<'a>>::deserialize(deserializer)?.map(|s| s.0))
}
