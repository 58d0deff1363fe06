use crate::testing::{TOKEN, malformed_detail, relayed_bodies};
use crate::{Message, Rejection, Source};

/// The message bodies the relay makes of a plaintext Feilian event.
fn relay(event_type: &str, events: &str) -> Result<Vec<String>, Rejection> {
    relayed_bodies(
        Source::Feilian,
        &format!(
            r#"{{"schema":"1.0","header":{{"event_id":"e09288e2-a1b3-4b38-84a8-3c6737251234","token":"{TOKEN}","create_time":"1740385174957","event_type":"{event_type}","app_id":"cfg"}},"data":{{"events":{events}}}}}"#
        ),
    )
}

fn changed_fields(event_type: &str, events: &str) -> Vec<Vec<String>> {
    relay(event_type, events)
        .unwrap()
        .iter()
        .map(|body| {
            let message: Message = serde_json::from_str(body).unwrap();
            message
                .changed_fields
                .into_iter()
                .map(|field| field.into_owned())
                .collect()
        })
        .collect()
}

const OLD: &str = r#"{"open_id":"od_Ij90Kl12abcd","parent_id":"od_rYKNJJZDabcd","name":"旧部门","type":2,"seq":3,"create_time":1740385174,"update_time":1740385174}"#;

#[test]
fn a_deletion_changes_no_fields_though_its_object_is_partial() {
    let events = format!(
        r#"[{{"object":{{"open_id":"od_Ij90Kl12abcd","parent_id":"od_rYKNJJZDabcd","delete_time":1740471574}},"old_object":{OLD}}}]"#
    );
    assert_eq!(
        changed_fields("department.v1.delete", &events),
        [Vec::<String>::new()]
    );
    // A list the platform sends is still taken as received.
    let listed = events.replace(r#""old_object""#, r#""update_fields":["seq"],"old_object""#);
    assert_eq!(changed_fields("department.v1.delete", &listed), [["seq"]]);
}

#[test]
fn both_spellings_of_the_list_are_read_together() {
    let entry = |lists: &str| {
        format!(
            r#"[{{"object":{{"open_id":"od_1","name":"n","seq":1}},{lists}"old_object":{OLD}}}]"#
        )
    };
    let rows = [
        (r#""update_fields":["name"],"#, vec!["name"]),
        (r#""updated_fields":["name","name"],"#, vec!["name", "name"]),
        (r#""update_fields":[],"#, vec![]),
        (
            r#""update_fields":["name"],"updated_fields":["seq","name","type"],"#,
            vec!["name", "seq", "type"],
        ),
        (
            r#""updated_fields":["seq"],"update_fields":[],"#,
            vec!["seq"],
        ),
    ];
    for (lists, expected) in rows {
        assert_eq!(
            changed_fields("department.v1.update", &entry(lists)),
            [expected],
            "{lists}"
        );
    }
}

#[test]
fn a_creation_changes_no_fields() {
    assert_eq!(
        changed_fields(
            "department.v1.create",
            r#"[{"object":{"open_id":"od_1","name":"新部门A"}}]"#
        ),
        [Vec::<String>::new()]
    );
}

#[test]
fn an_update_without_a_list_compares_the_old_objects_keys() {
    let new = OLD
        .replace("旧部门", "新名字")
        .replace(r#""seq":3"#, r#""seq":4"#);
    let events = format!(r#"[{{"object":{new},"old_object":{OLD}}}]"#);
    assert_eq!(
        changed_fields("department.v1.update", &events),
        [["name", "seq"]]
    );
    let listed = format!(r#"[{{"object":{new},"old_object":{OLD},"updated_fields":["name"]}}]"#);
    assert_eq!(changed_fields("department.v1.update", &listed), [["name"]]);
}

#[test]
fn an_update_without_a_list_lists_a_field_set_for_the_first_time() {
    // A record shows a field only when it has a value: `update_time` is new.
    let old = r#"{"open_id":"od_1","parent_id":"od_0","name":"旧部门","type":2,"seq":3}"#;
    let new = r#"{"open_id":"od_1","parent_id":"od_0","name":"新部门","type":2,"seq":3,"update_time":1740385174}"#;
    let events = format!(r#"[{{"object":{new},"old_object":{old}}}]"#);
    assert_eq!(
        changed_fields("department.v1.update", &events),
        [["name", "update_time"]]
    );
}

#[test]
fn a_lone_surrogate_in_a_name_without_a_list_is_relayed_byte_for_byte() {
    let new = OLD.replace("旧部门", r"Growth \ud83d");
    let events = format!(r#"[{{"object":{new},"old_object":{OLD}}}]"#);
    let bodies = relay("department.v1.update", &events).unwrap();
    assert!(
        bodies[0].contains(&format!(r#""after":{new}"#)),
        "{}",
        bodies[0]
    );
    assert_eq!(changed_fields("department.v1.update", &events), [["name"]]);
}

#[test]
fn an_open_id_with_a_lone_surrogate_is_kept_as_its_escape() {
    let events = r#"[{"object":{"open_id":"od_\udc00x","name":"n"},"update_fields":["name"]}]"#;
    let bodies = relay("department.v1.update", events).unwrap();
    let message: Message = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(message.entity_id, r"od_\udc00x");
}

#[test]
fn an_entry_that_is_an_array_is_malformed_though_its_items_line_up_with_the_fields() {
    let detail = malformed_detail(relay(
        "department.v1.update",
        r#"[[{"open_id":"od_1"},null,["name"]]]"#,
    ));
    assert!(
        detail.starts_with("`data.events` must be a list of"),
        "{detail}"
    );
}

#[test]
fn an_empty_id_is_malformed_in_any_entry_and_nothing_of_the_event_is_relayed() {
    let detail = malformed_detail(relay(
        "department.v1.update",
        r#"[{"object":{"open_id":"od_1"}},{"object":{"open_id":""},"old_object":{"open_id":"od_2"}}]"#,
    ));
    assert!(detail.contains("is empty"), "{detail}");
}

#[test]
fn an_entry_without_an_open_id_is_malformed_and_names_the_event() {
    let refused = relay("department.v1.update", r#"[{"object":{"name":"\ud83d"}}]"#);
    assert_eq!(
        refused,
        Err(Rejection::MalformedEvent {
            event_type: "department.v1.update".into(),
            event_id: "e09288e2-a1b3-4b38-84a8-3c6737251234".into(),
            detail: "data.events[] has no object.open_id",
        })
    );
}

#[test]
fn an_open_id_of_the_wrong_type_is_malformed_and_never_replaced_by_the_other() {
    let cases = [
        (
            r#"[{"object":{"open_id":7},"old_object":{"open_id":"od_old"}}]"#,
            "data.events[].object.open_id must be a string, given once",
        ),
        (
            r#"[{"object":{"name":"n"},"old_object":{"open_id":false}}]"#,
            "data.events[].old_object.open_id must be a string, given once",
        ),
        (
            r#"[{"old_object":{"open_id":["od_1"]}}]"#,
            "data.events[].old_object.open_id must be a string, given once",
        ),
    ];
    for (events, detail) in cases {
        assert_eq!(
            malformed_detail(relay("department.v1.delete", events)),
            detail,
            "{events}"
        );
    }
    // Given twice is not one string either.
    assert_eq!(
        malformed_detail(relay(
            "department.v1.update",
            r#"[{"object":{"open_id":"a","open_id":"b"},"old_object":{"open_id":"od_old"}}]"#,
        )),
        "data.events[].object.open_id must be a string, given once"
    );
    // A lone surrogate elsewhere in `object`, a key included, changes nothing.
    let bodies = relay(
            "department.v1.update",
            r#"[{"object":{"open_id":"od_new","\ud83d":"x"},"old_object":{"open_id":"od_old","name":"a"}}]"#,
        )
        .unwrap();
    let message: Message = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(message.entity_id, "od_new");
    // Without an id in `object`, the one in `old_object` names the department.
    let bodies = relay(
        "department.v1.delete",
        r#"[{"object":{"delete_time":1},"old_object":{"open_id":"od_old"}}]"#,
    )
    .unwrap();
    let message: Message = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(message.entity_id, "od_old");
}
