//! Feishu (Lark) envelopes and the Feishu People (CoreHR) and contact events we relay.
//!
//! Envelopes (`docs/protocol.md`, "Envelopes"): schema 2.0 `{"schema","header","event"}`,
//! legacy schema 1.0 `{"uuid","token","ts","type":"event_callback","event"}`, and
//! the URL verification `{"challenge","token","type":"url_verification"}`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::envelope::{Change, Envelope, Event, ParseError, Wire};
use crate::platform::Platform;
use crate::snapshot::{changed_keys, is_object};
use crate::verified::Verified;
use crate::{Action, Entity, Message, Rejection, Source};

const SHAPE: &str = "expected a schema 2.0 {\"header\", \"event\"}, a schema 1.0 {\"type\": \"event_callback\"} or a url_verification object";

/// The fields of a schema 1.0 `event` that schema 2.0 keeps in its header.
#[derive(Deserialize)]
struct LegacyEventHeader<'a> {
    #[serde(borrow, rename = "type")]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    app_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tenant_key: Option<Cow<'a, str>>,
}

/// Feishu (Lark).
pub(crate) struct Feishu;

impl Platform for Feishu {
    const SOURCE: Source = Source::Feishu;

    fn parse(text: &str) -> Result<Envelope<'_>, ParseError> {
        let mut wire = Wire::parse(text, SHAPE)?;
        if let Some(challenge) = wire.challenge() {
            return challenge;
        }
        if let Some(header) = wire.header {
            // Schema 2.0, including every corehr.* event.
            return Wire::header_event(header, wire.event, "no `event` object");
        }
        if wire.kind.as_deref() == Some("event_callback") {
            let payload = wire.event.ok_or(ParseError::Shape("no `event` object"))?;
            let legacy: LegacyEventHeader = serde_json::from_str(payload.get()).map_err(|_| {
                ParseError::Shape("schema 1.0 `event` must be an object with a `type`")
            })?;
            return Ok(Envelope::Event(Event {
                token: wire.token,
                event_type: legacy
                    .event_type
                    .ok_or(ParseError::Shape("schema 1.0 event.type is missing"))?,
                event_id: wire
                    .uuid
                    .ok_or(ParseError::Shape("schema 1.0 `uuid` is missing"))?,
                create_time: wire.ts,
                app_id: legacy.app_id,
                tenant_key: legacy.tenant_key,
                payload,
            }));
        }
        Err(ParseError::Shape(SHAPE))
    }

    fn normalize<'a>(event: &Verified<Event<'a>>) -> Result<Option<Vec<Message<'a>>>, Rejection> {
        let Some(&(event_type, entity, action)) = EVENT_TYPES
            .iter()
            .find(|(event_type, ..)| *event_type == event.event_type)
        else {
            return Ok(None);
        };
        let change = match event_type {
            CONTACT_DEPARTMENT_UPDATED => contact_department(event, entity, action)?,
            _ => corehr(event, entity, action)?,
        };
        Ok(Some(vec![event.message(Source::Feishu, change)]))
    }
}

/// The body of every corehr department and custom-org event (`docs/protocol.md`, "Events in scope").
#[derive(Deserialize)]
struct CorehrEvent<'a> {
    #[serde(borrow)]
    department_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    org_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    object_api_name: Option<Cow<'a, str>>,
    field_changes: Option<Vec<Cow<'a, str>>>,
}

/// `contact.department.updated_v3`: full snapshots, no field list.
#[derive(Deserialize)]
struct ContactDepartmentEvent<'a> {
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(borrow)]
    old_object: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ContactDepartment<'a> {
    #[serde(borrow)]
    open_department_id: Option<Cow<'a, str>>,
}

/// Every Feishu event type the relay relays, and the change it reports. There is no
/// `corehr.department.deleted_v2` (`docs/protocol.md`, "Events in scope").
pub const EVENT_TYPES: [(&str, Entity, Action); 9] = {
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
        (CONTACT_DEPARTMENT_UPDATED, Department, Updated),
    ]
};

/// The one relayed type whose body is full snapshots rather than corehr ids.
const CONTACT_DEPARTMENT_UPDATED: &str = "contact.department.updated_v3";

fn message_id(event: &Event<'_>) -> String {
    format!("feishu:{}", event.event_id)
}

fn corehr<'a>(event: &Event<'a>, entity: Entity, action: Action) -> Result<Change<'a>, Rejection> {
    let body: CorehrEvent<'a> = serde_json::from_str(event.payload.get()).map_err(|_| {
        event.malformed(
            "`event` must be an object with string ids and `field_changes` as a list of strings",
        )
    })?;
    let (entity_id, object_api_name) = match entity {
        Entity::CustomOrg => (
            body.org_id
                .ok_or_else(|| event.malformed("event.org_id is missing"))?,
            body.object_api_name,
        ),
        // Every other corehr type in `EVENT_TYPES` is a department.
        _ => (
            body.department_id
                .ok_or_else(|| event.malformed("event.department_id is missing"))?,
            None,
        ),
    };
    Ok(Change {
        id: message_id(event),
        entity,
        action,
        entity_id,
        object_api_name,
        changed_fields: body.field_changes.unwrap_or_default(),
        before: None,
        after: None,
    })
}

fn contact_department<'a>(
    event: &Event<'a>,
    entity: Entity,
    action: Action,
) -> Result<Change<'a>, Rejection> {
    let body: ContactDepartmentEvent<'a> = serde_json::from_str(event.payload.get())
        .map_err(|_| event.malformed("`event` must be an object with `object` and `old_object`"))?;
    let after = body
        .object
        .filter(|raw| is_object(raw))
        .ok_or_else(|| event.malformed("event.object must be an object"))?;
    let before = match body.old_object {
        Some(raw) if !is_object(raw) => {
            return Err(event.malformed("event.old_object must be an object"));
        }
        before => before,
    };
    let department: ContactDepartment<'a> = serde_json::from_str(after.get())
        .map_err(|_| event.malformed("event.object.open_department_id must be a string"))?;
    let entity_id = department
        .open_department_id
        .ok_or_else(|| event.malformed("event.object.open_department_id is missing"))?;
    let changed_fields = match before {
        Some(before) => changed_keys(before, after)
            .map_err(|_| event.malformed("event.object and event.old_object must be objects"))?,
        None => Vec::new(),
    };
    Ok(Change {
        id: message_id(event),
        entity,
        action,
        entity_id,
        object_api_name: None,
        changed_fields,
        before,
        after: Some(after),
    })
}
