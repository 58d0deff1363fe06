//! Feilian (飞连) envelopes and its department events.
//! One request can carry several changes, one message each (`docs/protocol.md`, "Feilian").

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::envelope::{Change, Envelope, Event, ParseError, Wire, from_object, parse_object};
use crate::platform::Platform;
use crate::snapshot::{self, OldObject, Text, changed_fields, is_object};
use crate::verified::Verified;
use crate::{Action, Entity, Message, Rejection, Source};

const SHAPE: &str = "expected {\"header\", \"data\"} or a url_verification object";

const DATA_SHAPE: &str =
    "`data.events` must be a list of {object, old_object, updated_fields} objects";

/// Feilian (飞连).
pub(crate) struct Feilian;

impl Platform for Feilian {
    const SOURCE: Source = Source::Feilian;

    fn parse(text: &str) -> Result<Envelope<'_>, ParseError> {
        let mut wire: Wire = parse_object(text, SHAPE)?;
        if let Some(challenge) = wire.challenge() {
            return challenge;
        }
        let header = wire.header.ok_or(ParseError::Shape(SHAPE))?;
        Wire::header_event(header, wire.data, "no `data` object")
    }

    fn normalize<'a>(
        event: &Verified<'a, Event<'a>>,
    ) -> Result<Option<Vec<Message<'a>>>, Rejection> {
        let Some(&(_, entity, action)) = EVENT_TYPES
            .iter()
            .find(|(event_type, ..)| *event_type == event.event_type)
        else {
            return Ok(None);
        };
        let malformed = || event.malformed(DATA_SHAPE);
        let data: Data<'a> = from_object(event.payload).ok_or_else(malformed)?;
        let occurred_at = event.occurred_at();
        data.events
            .into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let entry = from_object(entry).ok_or_else(malformed)?;
                let change = change(index, entity, action, entry)
                    .map_err(|detail| event.malformed(detail))?;
                Ok(event.message(Source::Feilian, change, occurred_at.clone()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

/// One change in `data.events`.
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(borrow)]
    old_object: Option<&'a RawValue>,
    /// The doc's table spells it `update_fields`, its example `updated_fields`.
    #[serde(borrow)]
    update_fields: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    updated_fields: Option<Vec<Text<'a>>>,
}

/// Every Feilian event type relayed, and the change it reports.
pub const EVENT_TYPES: [(&str, Entity, Action); 3] = [
    ("department.v1.create", Entity::Department, Action::Created),
    ("department.v1.update", Entity::Department, Action::Updated),
    ("department.v1.delete", Entity::Department, Action::Deleted),
];

fn change<'a>(
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
    // A deletion's `object` is partial, so `old_object` can name the department.
    let entity_id = snapshot::entity_id(
        [after, before],
        "open_id",
        [
            "data.events[].object.open_id must be a string, given once",
            "data.events[].old_object.open_id must be a string, given once",
        ],
    )?
    .ok_or("data.events[] has no object.open_id")?
    .into_cow();
    let listed = listed_fields(entry.update_fields, entry.updated_fields);
    let changed_fields = changed_fields(action, listed, before, after, OldObject::Full);
    Ok(Change {
        index: Some(index),
        entity,
        action,
        entity_id,
        object_api_name: None,
        changed_fields,
        before,
        after,
    })
}

/// The fields a change lists, under either spelling (`docs/protocol.md`, "Feilian").
/// An entry with both lists each field once, `update_fields` first.
fn listed_fields<'a>(
    update_fields: Option<Vec<Text<'a>>>,
    updated_fields: Option<Vec<Text<'a>>>,
) -> Option<Vec<Cow<'a, str>>> {
    let as_received = |fields: Option<Vec<Text<'a>>>| {
        fields.map(|fields| fields.into_iter().map(Text::into_cow).collect::<Vec<_>>())
    };
    match (as_received(update_fields), as_received(updated_fields)) {
        (Some(mut fields), Some(second)) => {
            for field in second {
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
            Some(fields)
        }
        (first, second) => first.or(second),
    }
}

#[cfg(test)]
#[path = "tests/feilian.rs"]
mod tests;
