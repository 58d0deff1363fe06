//! Feishu (Lark) envelopes, and the Feishu People (CoreHR) and contact events relayed.
//! The envelopes' schemas are in `docs/protocol.md`, "Envelopes".

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::envelope::{
    Change, Envelope, Event, ParseError, Wire, event_id, from_object, parse_object,
};
use crate::platform::Platform;
use crate::snapshot::{self, OldObject, Text, changed_fields, is_object};
use crate::verified::Verified;
use crate::{Action, Entity, Message, Rejection, Source};

pub(crate) const SHAPE: &str = "expected a schema 2.0 {\"header\", \"event\"}, a schema 1.0 {\"type\": \"event_callback\"} or a url_verification object";

/// The fields of a schema 1.0 `event` that schema 2.0 keeps in its header.
#[derive(Deserialize)]
struct LegacyEventHeader<'a> {
    #[serde(borrow, rename = "type")]
    event_type: Option<Text<'a>>,
    #[serde(borrow)]
    app_id: Option<Text<'a>>,
    #[serde(borrow)]
    tenant_key: Option<Text<'a>>,
}

const LEGACY_SHAPE: &str = "schema 1.0 `event` must be an object with readable keys, whose `type`, `app_id` and `tenant_key` are strings, given once";

/// Feishu (Lark).
pub(crate) struct Feishu;

impl Platform for Feishu {
    const SOURCE: Source = Source::Feishu;

    fn parse(text: &str) -> Result<Envelope<'_>, ParseError> {
        let mut wire: Wire = parse_object(text, SHAPE)?;
        if let Some(challenge) = wire.challenge() {
            return challenge;
        }
        if let Some(header) = wire.header {
            // Schema 2.0, including every corehr.* event.
            return Wire::header_event(header, wire.event, "no `event` object");
        }
        if wire.kind() == Some("event_callback") {
            let payload = wire.event.ok_or(ParseError::Shape("no `event` object"))?;
            let legacy: LegacyEventHeader =
                from_object(payload).ok_or(ParseError::Shape(LEGACY_SHAPE))?;
            return Ok(Envelope::Event(Event {
                token: wire.token.map(Text::into_cow),
                event_type: legacy
                    .event_type
                    .ok_or(ParseError::Shape("schema 1.0 event.type is missing"))?
                    .into_cow(),
                event_id: event_id(wire.uuid, "schema 1.0 `uuid` is missing or empty")?,
                create_time: wire.ts,
                app_id: legacy.app_id.map(Text::into_cow),
                tenant_key: legacy.tenant_key.map(Text::into_cow),
                payload,
            }));
        }
        Err(ParseError::Shape(SHAPE))
    }

    fn normalize<'a>(
        event: &Verified<'a, Event<'a>>,
    ) -> Result<Option<Vec<Message<'a>>>, Rejection> {
        let Some(&(event_type, entity, action)) = EVENT_TYPES
            .iter()
            .find(|(event_type, ..)| *event_type == event.event_type)
        else {
            return Ok(None);
        };
        // The contact v3 types' bodies are snapshots rather than corehr ids.
        let change = if event_type.starts_with("contact.") {
            contact_department(event, entity, action)?
        } else {
            corehr(event, entity, action)?
        };
        Ok(Some(vec![event.message(
            Source::Feishu,
            change,
            event.occurred_at(),
        )]))
    }
}

/// The body of every corehr department and custom-org event
/// (`docs/protocol.md`, "Events in scope").
#[derive(Deserialize)]
struct CorehrEvent<'a> {
    #[serde(borrow)]
    department_id: Option<Text<'a>>,
    #[serde(borrow)]
    org_id: Option<Text<'a>>,
    #[serde(borrow)]
    object_api_name: Option<Text<'a>>,
    #[serde(borrow)]
    field_changes: Option<Vec<Text<'a>>>,
}

/// The body of the contact v3 department events (`docs/protocol.md`, "Contact v3 shapes").
/// Only the id is read; the snapshots pass through as received.
#[derive(Deserialize)]
struct ContactDepartmentEvent<'a> {
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(borrow)]
    old_object: Option<&'a RawValue>,
}

/// Every Feishu event type relayed, and the change it reports.
/// There is no `corehr.department.deleted_v2` (`docs/protocol.md`, "Events in scope").
pub const EVENT_TYPES: [(&str, Entity, Action); 11] = {
    use Action::*;
    use Entity::*;
    [
        ("corehr.department.created_v1", Department, Created),
        ("corehr.department.created_v2", Department, Created),
        ("corehr.department.updated_v1", Department, Updated),
        ("corehr.department.updated_v2", Department, Updated),
        ("corehr.department.deleted_v1", Department, Deleted),
        ("corehr.custom_org.created_v2", CustomOrg, Created),
        ("corehr.custom_org.updated_v2", CustomOrg, Updated),
        ("corehr.custom_org.deleted_v2", CustomOrg, Deleted),
        ("contact.department.created_v3", Department, Created),
        ("contact.department.updated_v3", Department, Updated),
        ("contact.department.deleted_v3", Department, Deleted),
    ]
};

/// A contact v3 `old_object` is partial unless it carries the department's own ids
/// (`docs/protocol.md`, "Changed fields").
const CONTACT_OLD_OBJECT: OldObject =
    OldObject::PartialUnlessItHas(&["open_department_id", "department_id"]);

fn corehr<'a>(event: &Event<'a>, entity: Entity, action: Action) -> Result<Change<'a>, Rejection> {
    let body: CorehrEvent<'a> = from_object(event.payload).ok_or_else(|| {
        event.malformed(
            "`event` must be an object with string ids and `field_changes` as a list of strings",
        )
    })?;
    let (entity_id, object_api_name) = match entity {
        Entity::CustomOrg => (
            body.org_id
                .ok_or_else(|| event.malformed("event.org_id is missing"))?,
            body.object_api_name.map(Text::into_cow),
        ),
        // Every other corehr type in `EVENT_TYPES` is a department.
        _ => (
            body.department_id
                .ok_or_else(|| event.malformed("event.department_id is missing"))?,
            None,
        ),
    };
    Ok(Change {
        index: None,
        entity,
        action,
        entity_id: entity_id.into_cow(),
        object_api_name,
        changed_fields: body
            .field_changes
            .into_iter()
            .flatten()
            .map(Text::into_cow)
            .collect(),
        before: None,
        after: None,
    })
}

/// The change of a contact v3 department event.
/// Its id is `object.open_department_id`, else `old_object`'s, which a deletion has.
fn contact_department<'a>(
    event: &Event<'a>,
    entity: Entity,
    action: Action,
) -> Result<Change<'a>, Rejection> {
    let body: ContactDepartmentEvent<'a> = from_object(event.payload).ok_or_else(|| {
        event.malformed("`event` must be an object with `object` and `old_object`")
    })?;
    let snapshot = |raw: Option<&'a RawValue>, detail| match raw {
        Some(raw) if !is_object(raw) => Err(event.malformed(detail)),
        raw => Ok(raw),
    };
    let after = snapshot(body.object, "event.object must be an object")?;
    let before = match action {
        Action::Created => None,
        _ => snapshot(body.old_object, "event.old_object must be an object")?,
    };
    if after.is_none() && action != Action::Deleted {
        return Err(event.malformed("event.object must be an object"));
    }
    let entity_id = snapshot::entity_id(
        [after, before],
        "open_department_id",
        [
            "event.object.open_department_id must be a string, given once",
            "event.old_object.open_department_id must be a string, given once",
        ],
    )
    .map_err(|detail| event.malformed(detail))?
    .ok_or_else(|| event.malformed("event.object.open_department_id is missing"))?
    .into_cow();
    let changed_fields = changed_fields(action, None, before, after, CONTACT_OLD_OBJECT);
    Ok(Change {
        index: None,
        entity,
        action,
        entity_id,
        object_api_name: None,
        changed_fields,
        before,
        after,
    })
}

#[cfg(test)]
#[path = "tests/feishu.rs"]
mod tests;
