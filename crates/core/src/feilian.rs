//! Feilian (飞连) envelopes and its department events.
//!
//! `{"schema":"1.0","header":{...},"data":{"events":[...]}}`: one request can carry
//! several changes, one message each (`docs/protocol.md`, "Feilian").

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::envelope::{Change, Envelope, Event, ParseError, Wire};
use crate::platform::Platform;
use crate::snapshot::{changed_keys, is_object};
use crate::verified::Verified;
use crate::{Action, Entity, Message, Rejection, Source};

const SHAPE: &str = "expected {\"header\", \"data\"} or a url_verification object";

/// Feilian (飞连).
pub(crate) struct Feilian;

impl Platform for Feilian {
    const SOURCE: Source = Source::Feilian;

    fn parse(text: &str) -> Result<Envelope<'_>, ParseError> {
        let mut wire = Wire::parse(text, SHAPE)?;
        if let Some(challenge) = wire.challenge() {
            return challenge;
        }
        let header = wire.header.ok_or(ParseError::Shape(SHAPE))?;
        Wire::header_event(header, wire.data, "no `data` object")
    }

    fn normalize<'a>(event: &Verified<Event<'a>>) -> Result<Option<Vec<Message<'a>>>, Rejection> {
        let Some(&(_, entity, action)) = EVENT_TYPES
            .iter()
            .find(|(event_type, ..)| *event_type == event.event_type)
        else {
            return Ok(None);
        };
        let data: Data<'a> = serde_json::from_str(event.payload.get()).map_err(|_| {
            event.malformed(
                "`data.events` must be a list of {object, old_object, updated_fields} objects",
            )
        })?;
        data.events
            .into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let change = change(event, index, entity, action, entry)
                    .map_err(|detail| event.malformed(detail))?;
                Ok(event.message(Source::Feilian, change))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    events: Vec<Entry<'a>>,
}

/// One change in `data.events`.
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(borrow)]
    old_object: Option<&'a RawValue>,
    /// The doc's table spells the list `update_fields`, its JSON example
    /// `updated_fields` (`docs/protocol.md`, "Feilian"): both are accepted.
    update_fields: Option<Vec<Cow<'a, str>>>,
    updated_fields: Option<Vec<Cow<'a, str>>>,
}

/// The department record (`object` / `old_object`); only its id matters here.
#[derive(Deserialize)]
struct Department<'a> {
    #[serde(borrow)]
    open_id: Option<Cow<'a, str>>,
}

/// Every Feilian event type the relay relays, and the change it reports.
pub const EVENT_TYPES: [(&str, Entity, Action); 3] = [
    ("department.v1.create", Entity::Department, Action::Created),
    ("department.v1.update", Entity::Department, Action::Updated),
    ("department.v1.delete", Entity::Department, Action::Deleted),
];

fn change<'a>(
    event: &Event<'a>,
    index: usize,
    entity: Entity,
    action: Action,
    entry: Entry<'a>,
) -> Result<Change<'a>, &'static str> {
    let snapshot = |raw: Option<&'a RawValue>, name| match raw {
        Some(raw) if !is_object(raw) => Err(name),
        raw => Ok(raw),
    };
    let after = snapshot(entry.object, "data.events[].object must be an object")?;
    let before = snapshot(
        entry.old_object,
        "data.events[].old_object must be an object",
    )?;
    // A deletion's `object` is partial (`open_id`, `parent_id`, `delete_time`); fall back
    // to `old_object` so that an entry without `object` still names its department.
    let entity_id = [after, before]
        .into_iter()
        .flatten()
        .map(|raw| serde_json::from_str::<Department<'a>>(raw.get()))
        .find_map(|department| department.ok().and_then(|d| d.open_id))
        .ok_or("data.events[] has no object.open_id")?;
    let changed_fields = match (entry.update_fields.or(entry.updated_fields), before, after) {
        (Some(fields), _, _) => fields,
        (None, Some(before), Some(after)) => {
            changed_keys(before, after).map_err(|_| "data.events[] snapshots must be objects")?
        }
        (None, _, _) => Vec::new(),
    };
    Ok(Change {
        id: format!("feilian:{}:{index}", event.event_id),
        entity,
        action,
        entity_id,
        object_api_name: None,
        changed_fields,
        before,
        after,
    })
}
