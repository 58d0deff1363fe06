//! Feishu (Lark) envelopes and the Feishu People (CoreHR) and contact events we relay.
//!
//! Envelopes (`docs/protocol.md`, "Envelopes"): schema 2.0 `{"schema","header","event"}`,
//! legacy schema 1.0 `{"uuid","token","ts","type":"event_callback","event"}`, and
//! the URL verification `{"challenge","token","type":"url_verification"}`.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::envelope::{Change, Envelope, Event, ParseError, Wire};
use crate::platform::Platform;
use crate::snapshot::{Text, changed_fields, is_object};
use crate::verified::Verified;
use crate::{Action, Entity, Message, Rejection, Source};

const SHAPE: &str = "expected a schema 2.0 {\"header\", \"event\"}, a schema 1.0 {\"type\": \"event_callback\"} or a url_verification object";

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
        if wire.kind() == Some("event_callback") {
            let payload = wire.event.ok_or(ParseError::Shape("no `event` object"))?;
            let legacy: LegacyEventHeader = serde_json::from_str(payload.get()).map_err(|_| {
                ParseError::Shape("schema 1.0 `event` must be an object with a `type`")
            })?;
            return Ok(Envelope::Event(Event {
                token: wire.token.map(Text::into_cow),
                event_type: legacy
                    .event_type
                    .ok_or(ParseError::Shape("schema 1.0 event.type is missing"))?
                    .into_cow(),
                event_id: wire
                    .uuid
                    .ok_or(ParseError::Shape("schema 1.0 `uuid` is missing"))?
                    .into_cow(),
                create_time: wire.ts,
                app_id: legacy.app_id.map(Text::into_cow),
                tenant_key: legacy.tenant_key.map(Text::into_cow),
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
    department_id: Option<Text<'a>>,
    #[serde(borrow)]
    org_id: Option<Text<'a>>,
    #[serde(borrow)]
    object_api_name: Option<Text<'a>>,
    #[serde(borrow)]
    field_changes: Option<Vec<Text<'a>>>,
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
    open_department_id: Option<Text<'a>>,
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
            body.object_api_name.map(Text::into_cow),
        ),
        // Every other corehr type in `EVENT_TYPES` is a department.
        _ => (
            body.department_id
                .ok_or_else(|| event.malformed("event.department_id is missing"))?,
            None,
        ),
    };
    let listed = body
        .field_changes
        .map(|fields| fields.into_iter().map(Text::into_cow).collect());
    Ok(Change {
        id: message_id(event),
        entity,
        action,
        entity_id: entity_id.into_cow(),
        object_api_name,
        changed_fields: listed.unwrap_or_default(),
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
        .ok_or_else(|| event.malformed("event.object.open_department_id is missing"))?
        .into_cow();
    let changed_fields = changed_fields(action, None, before, Some(after))
        .map_err(|_| event.malformed("event.object and event.old_object must be objects"))?;
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

#[cfg(test)]
mod tests {
    use crate::{Delivery, Endpoint, Inbound, Message, Rejection, Source, VerificationToken};

    const TOKEN: &str = "t0ken";

    /// The message bodies the relay makes of a plaintext schema 2.0 event.
    fn relay(event_type: &str, event_id: &str, event: &str) -> Result<Vec<String>, Rejection> {
        let body = format!(
            r#"{{"schema":"2.0","header":{{"event_id":"{event_id}","event_type":"{event_type}","create_time":"1608725989000","token":"{TOKEN}","app_id":"cli_1","tenant_key":"tk"}},"event":{event}}}"#
        );
        let endpoint = Endpoint::new(Source::Feishu, VerificationToken::new(TOKEN), None);
        let inbound = Inbound {
            body: body.as_bytes(),
            signature: None,
        };
        match crate::receive(&endpoint, inbound)? {
            Delivery::Changes(batch) => Ok(batch
                .messages()
                .iter()
                .map(|message| message.body().to_owned())
                .collect()),
            other => panic!("not relayed: {other:?}"),
        }
    }

    /// The one message of `event`, as a consumer reads it.
    fn one(event_type: &str, event_id: &str, event: &str) -> Message<'static> {
        let bodies = relay(event_type, event_id, event).unwrap();
        let [body] = &bodies[..] else {
            panic!("{bodies:?}")
        };
        serde_json::from_str(body).unwrap()
    }

    const OBJECT: &str = r#"{"name":"Platform Engineering","parent_department_id":"od-4e6ac4d14bcd5071a37a39de902c7141","department_id":"D096","open_department_id":"od-64242a18099d3a31acd24d8fce8d1a2b","leader_user_id":"ou_7dab8a3d3cdcc9da365777c7ad535d62","chat_id":"oc_5ad11d72b830411d72b836c20","order":"100","status":{"is_deleted":false}}"#;

    #[test]
    fn a_v3_update_lists_only_the_keys_of_its_partial_old_object() {
        let event = format!(r#"{{"object":{OBJECT},"old_object":{{"name":"Platform"}}}}"#);
        let message = one("contact.department.updated_v3", "ev1", &event);
        assert_eq!(message.changed_fields, ["name"]);
        assert_eq!(message.entity_id, "od-64242a18099d3a31acd24d8fce8d1a2b");
        assert_eq!(message.before.unwrap().get(), r#"{"name":"Platform"}"#);
        assert_eq!(message.after.unwrap().get(), OBJECT);
        // A previous value equal to the current one is not a change.
        let event = format!(r#"{{"object":{OBJECT},"old_object":{{"order":"100"}}}}"#);
        let message = one("contact.department.updated_v3", "ev2", &event);
        assert!(message.changed_fields.is_empty());
    }

    #[test]
    fn a_lone_surrogate_in_a_name_passes_through_byte_for_byte() {
        let after = OBJECT.replace("Platform Engineering", r"Growth \ud83d");
        let event = format!(r#"{{"object":{after},"old_object":{{"name":"Growth"}}}}"#);
        let bodies = relay("contact.department.updated_v3", "ev3", &event).unwrap();
        assert!(
            bodies[0].contains(&format!(r#""after":{after}"#)),
            "{}",
            bodies[0]
        );
        let message: Message = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(message.changed_fields, ["name"]);
        assert_eq!(message.after.unwrap().get(), after);
        // The same cut name in both snapshots, spelled differently: no change.
        let event = format!(r#"{{"object":{after},"old_object":{{"name":"Growth \uD83D"}}}}"#);
        let message = one("contact.department.updated_v3", "ev4", &event);
        assert!(message.changed_fields.is_empty());
    }

    #[test]
    fn ids_with_lone_surrogates_are_kept_as_their_escapes() {
        let event =
            r#"{"department_id":"7043711774159341101\udc00","field_changes":["na\ud800me"]}"#;
        let message = one("corehr.department.updated_v2", r"ev-\ud83d", event);
        assert_eq!(message.id, r"feishu:ev-\ud83d");
        assert_eq!(message.event_id, r"ev-\ud83d");
        assert_eq!(message.entity_id, r"7043711774159341101\udc00");
        assert_eq!(message.changed_fields, [r"na\ud800me"]);
        let after = OBJECT.replace("od-64242a18099d3a31acd24d8fce8d1a2b", r"od-64242a18\ud83d");
        let event = format!(r#"{{"object":{after},"old_object":{{"name":"P"}}}}"#);
        let message = one("contact.department.updated_v3", "ev5", &event);
        assert_eq!(message.entity_id, r"od-64242a18\ud83d");
        // Escapes that spell valid text are decoded as usual.
        let message = one(
            "corehr.department.deleted_v1",
            r"\u0065v6",
            r#"{"department_id":"\u0037\ud83d\ude00"}"#,
        );
        assert_eq!((&*message.event_id, &*message.entity_id), ("ev6", "7😀"));
    }

    #[test]
    fn only_a_missing_id_makes_an_event_malformed_and_the_rejection_names_it() {
        let refused = relay(
            "contact.department.updated_v3",
            "ev-7",
            r#"{"object":{"name":"Growth \ud83d"},"old_object":{"name":"x"}}"#,
        );
        assert_eq!(
            refused,
            Err(Rejection::MalformedEvent {
                event_type: "contact.department.updated_v3".into(),
                event_id: "ev-7".into(),
                detail: "event.object.open_department_id is missing",
            })
        );
        let refused = relay(
            "corehr.department.updated_v2",
            r"ev-\udc00",
            r#"{"department_id":7}"#,
        )
        .unwrap_err();
        assert_eq!(
            refused.to_string(),
            r"the corehr.department.updated_v2 event ev-\udc00 is malformed: `event` must be an object with string ids and `field_changes` as a list of strings"
        );
    }
}
