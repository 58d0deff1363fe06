use crate::testing::{TOKEN, malformed_detail, receive_plaintext, relayed_bodies};
use crate::{Action, Delivery, Entity, Message, Rejection, Source};

/// The message bodies the relay makes of a plaintext schema 2.0 event.
fn relay(event_type: &str, event_id: &str, event: &str) -> Result<Vec<String>, Rejection> {
    relayed_bodies(
        Source::Feishu,
        &format!(
            r#"{{"schema":"2.0","header":{{"event_id":"{event_id}","event_type":"{event_type}","create_time":"1608725989000","token":"{TOKEN}","app_id":"cli_1","tenant_key":"tk"}},"event":{event}}}"#
        ),
    )
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
fn a_v3_update_with_a_full_old_object_lists_a_field_set_for_the_first_time() {
    // Feishu's own sample sends the whole previous record: a first group chat.
    let old = OBJECT.replace(r#""chat_id":"oc_5ad11d72b830411d72b836c20","#, "");
    assert!(!old.contains("chat_id") && old.contains("open_department_id"));
    let event = format!(r#"{{"object":{OBJECT},"old_object":{old}}}"#);
    let message = one("contact.department.updated_v3", "ev-chat", &event);
    assert_eq!(message.changed_fields, ["chat_id"]);
    // Without the department's own ids it is partial: only its own keys count.
    let event = format!(r#"{{"object":{OBJECT},"old_object":{{"name":"Platform"}}}}"#);
    let message = one("contact.department.updated_v3", "ev-name", &event);
    assert_eq!(message.changed_fields, ["name"]);
}

#[test]
fn a_v3_creation_is_relayed_with_its_object_and_no_before() {
    let event = format!(r#"{{"object":{OBJECT}}}"#);
    let message = one("contact.department.created_v3", "ev-c", &event);
    assert_eq!(message.id, "feishu:ev-c");
    assert_eq!(message.entity, Entity::Department);
    assert_eq!(message.action, Action::Created);
    assert_eq!(message.entity_id, "od-64242a18099d3a31acd24d8fce8d1a2b");
    assert!(message.changed_fields.is_empty());
    assert!(message.before.is_none());
    assert_eq!(message.after.unwrap().get(), OBJECT);
    assert!(matches!(
        relay(
            "contact.department.created_v3",
            "ev-c2",
            r#"{"old_object":{}}"#
        ),
        Err(Rejection::MalformedEvent {
            detail: "event.object must be an object",
            ..
        })
    ));
}

#[test]
fn a_v3_deletion_is_relayed_with_both_snapshots_and_no_changed_fields() {
    let removed = OBJECT.replace(r#""is_deleted":false"#, r#""is_deleted":true"#);
    let old = r#"{"open_department_id":"od-64242a18099d3a31acd24d8fce8d1a2b","status":{"is_deleted":false}}"#;
    let event = format!(r#"{{"object":{removed},"old_object":{old}}}"#);
    let message = one("contact.department.deleted_v3", "ev-d", &event);
    assert_eq!(message.action, Action::Deleted);
    assert_eq!(message.entity_id, "od-64242a18099d3a31acd24d8fce8d1a2b");
    assert!(message.changed_fields.is_empty());
    assert_eq!(message.before.unwrap().get(), old);
    assert_eq!(message.after.unwrap().get(), removed);
    // Without an id in `object`, the `OldDepartmentObject`'s.
    let event = format!(r#"{{"object":{{"name":"Gone"}},"old_object":{old}}}"#);
    let message = one("contact.department.deleted_v3", "ev-d2", &event);
    assert_eq!(message.entity_id, "od-64242a18099d3a31acd24d8fce8d1a2b");
    let event = format!(r#"{{"old_object":{old}}}"#);
    let message = one("contact.department.deleted_v3", "ev-d3", &event);
    assert_eq!(message.entity_id, "od-64242a18099d3a31acd24d8fce8d1a2b");
    assert!(message.after.is_none());
    assert_eq!(
        relay(
            "contact.department.deleted_v3",
            "ev-d4",
            r#"{"object":{"name":"Gone"},"old_object":{"status":{}}}"#
        ),
        Err(Rejection::MalformedEvent {
            event_type: "contact.department.deleted_v3".into(),
            event_id: "ev-d4".into(),
            detail: "event.object.open_department_id is missing",
        })
    );
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
    // The same cut name in both snapshots: no change. Spelled differently, it is
    // compared by its text (serde_json cannot read it): reported, never hidden.
    let event = format!(r#"{{"object":{after},"old_object":{{"name":"Growth \ud83d"}}}}"#);
    let message = one("contact.department.updated_v3", "ev4", &event);
    assert!(message.changed_fields.is_empty());
    let event = format!(r#"{{"object":{after},"old_object":{{"name":"Growth \uD83D"}}}}"#);
    let message = one("contact.department.updated_v3", "ev5", &event);
    assert_eq!(message.changed_fields, ["name"]);
}

#[test]
fn ids_with_lone_surrogates_are_kept_as_their_escapes() {
    let event = r#"{"department_id":"7043711774159341101\udc00","field_changes":["na\ud800me"]}"#;
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
fn an_event_type_with_a_lone_surrogate_is_acknowledged_not_refused() {
    let body = format!(
        r#"{{"schema":"2.0","header":{{"event_id":"ev-8","event_type":"contact.department.updated_v3\ud83d","token":"{TOKEN}","tenant_key":"t\udc00"}},"event":{{"object":{{"name":"\ud83d"}}}}}}"#
    );
    match receive_plaintext(Source::Feishu, &body) {
        Ok(Delivery::Ignored(event)) => assert_eq!(
            (event.event_type.as_str(), event.event_id.as_str()),
            (r"contact.department.updated_v3\ud83d", "ev-8")
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_open_department_id_of_the_wrong_type_is_malformed_and_never_replaced() {
    let cases = [
        (
            r#"{"object":{"open_department_id":7},"old_object":{"open_department_id":"od-old"}}"#,
            "event.object.open_department_id must be a string, given once",
        ),
        (
            r#"{"object":{"name":"n"},"old_object":{"open_department_id":{}}}"#,
            "event.old_object.open_department_id must be a string, given once",
        ),
    ];
    // A lone surrogate elsewhere in `object`, a key included, changes nothing.
    let message = one(
        "contact.department.updated_v3",
        "ev-9",
        r#"{"object":{"open_department_id":"od-new","\ud83d":1},"old_object":{"open_department_id":"od-old"}}"#,
    );
    assert_eq!(message.entity_id, "od-new");
    for (event, detail) in cases {
        assert_eq!(
            malformed_detail(relay("contact.department.updated_v3", "ev-9", event)),
            detail,
            "{event}"
        );
    }
}

#[test]
fn an_event_that_is_an_array_is_malformed_though_its_items_line_up_with_the_fields() {
    for (event_type, event) in [
        (
            "corehr.department.updated_v2",
            r#"["D1",null,null,["name"]]"#,
        ),
        (
            "contact.department.updated_v3",
            r#"[{"open_department_id":"od-1"},{}]"#,
        ),
    ] {
        let detail = malformed_detail(relay(event_type, "ev-a", event));
        assert!(detail.starts_with("`event` must be an object"), "{detail}");
    }
}

#[test]
fn an_empty_id_is_malformed() {
    for (event_type, event) in [
        ("corehr.department.updated_v2", r#"{"department_id":""}"#),
        (
            "corehr.custom_org.updated_v2",
            r#"{"org_id":"","object_api_name":"o"}"#,
        ),
        (
            "contact.department.deleted_v3",
            r#"{"old_object":{"open_department_id":""}}"#,
        ),
    ] {
        assert_eq!(
            malformed_detail(relay(event_type, "ev-e", event)),
            "the entity id (`department_id`, `org_id`, `open_id` or \
                 `open_department_id`) is empty",
            "{event_type} {event}"
        );
    }
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

#[test]
fn a_raw_control_character_in_a_string_the_message_needs_is_not_json() {
    // JSON requires control characters in strings to be escaped (RFC 8259, 7).
    for raw in ["ev\t1", "ev\u{0}1"] {
        let event = r#"{"department_id":"d1","field_changes":["name"]}"#;
        assert_eq!(
            relay("corehr.department.updated_v2", raw, event),
            Err(Rejection::InvalidJson),
            "{raw:?}"
        );
    }
    // Escaped, the same characters are text like any other.
    let message = one(
        "corehr.department.updated_v2",
        r"ev\t1",
        r#"{"department_id":"d1","field_changes":["name"]}"#,
    );
    assert_eq!(message.event_id, "ev\t1");
}
