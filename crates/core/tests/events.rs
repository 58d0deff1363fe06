//! Every sample in the repository's `events/` through the core, in every way its
//! platform sends it: the messages it becomes, field by field.
//!
//! The folders are read at run time, so a new sample fails these tests until it is
//! listed below in [`RELAYED`] with the changes it must become (every sample is of a
//! relayed type; `an_unknown_event_type_is_ignored_in_every_mode` covers the others).

mod common;

use common::*;
use org_change_core::{Action, Delivery, Entity, GroupBy, Message, Source, event_types};
use serde_json::{Value, json};

/// What one sample must become.
struct Relayed {
    source: Source,
    /// The file's stem in `events/<source>/`, which is its event type.
    event_type: &'static str,
    entity: Entity,
    action: Action,
    /// `object_api_name` of every message.
    object_api_name: Option<&'static str>,
    /// `occurred_at` of every message.
    occurred_at: Option<&'static str>,
    /// One (entity_id, changed_fields) per message, in order.
    changes: &'static [(&'static str, &'static [&'static str])],
}

const FEISHU_TIME: Option<&str> = Some("2020-12-23T12:19:49.000Z");
const FEILIAN_TIME: Option<&str> = Some("2025-02-24T08:19:34.957Z");

const RELAYED: &[Relayed] = {
    use Action::*;
    use Entity::*;
    use Source::*;
    &[
        Relayed {
            source: Feishu,
            event_type: "contact.department.created_v3",
            entity: Department,
            action: Created,
            object_api_name: None,
            occurred_at: FEISHU_TIME,
            changes: &[("od-5b1f0c7e9a2d4c3b8e6f1a2b3c4d5e6f", &[])],
        },
        Relayed {
            source: Feishu,
            event_type: "contact.department.deleted_v3",
            entity: Department,
            action: Deleted,
            object_api_name: None,
            occurred_at: FEISHU_TIME,
            changes: &[("od-8c3e2f1a0b9d4e7c6a5b4c3d2e1f0a9b", &[])],
        },
        Relayed {
            source: Feishu,
            event_type: "contact.department.updated_v3",
            entity: Department,
            action: Updated,
            object_api_name: None,
            occurred_at: FEISHU_TIME,
            // `old_object` holds only the previous values of what changed.
            changes: &[("od-64242a18099d3a31acd24d8fce8dxxxx", &["name"])],
        },
        Relayed {
            source: Feishu,
            event_type: "corehr.custom_org.created_v2",
            entity: CustomOrg,
            action: Created,
            object_api_name: Some("custom_org_01"),
            occurred_at: FEISHU_TIME,
            changes: &[("7436668377630295597", &[])],
        },
        Relayed {
            source: Feishu,
            event_type: "corehr.custom_org.deleted_v2",
            entity: CustomOrg,
            action: Deleted,
            object_api_name: Some("custom_org_01"),
            occurred_at: FEISHU_TIME,
            changes: &[("7436668377630295598", &[])],
        },
        Relayed {
            source: Feishu,
            event_type: "corehr.custom_org.updated_v2",
            entity: CustomOrg,
            action: Updated,
            object_api_name: Some("custom_org_01"),
            occurred_at: FEISHU_TIME,
            changes: &[("7436668377630295596", &["name"])],
        },
        Relayed {
            source: Feishu,
            event_type: "corehr.department.created_v1",
            entity: Department,
            action: Created,
            object_api_name: None,
            occurred_at: FEISHU_TIME,
            changes: &[("7043711774159341102", &[])],
        },
        Relayed {
            source: Feishu,
            event_type: "corehr.department.created_v2",
            entity: Department,
            action: Created,
            object_api_name: None,
            occurred_at: FEISHU_TIME,
            changes: &[("7043711774159341103", &[])],
        },
        Relayed {
            source: Feishu,
            event_type: "corehr.department.deleted_v1",
            entity: Department,
            action: Deleted,
            object_api_name: None,
            occurred_at: FEISHU_TIME,
            changes: &[("7043711774159341104", &[])],
        },
        Relayed {
            source: Feishu,
            event_type: "corehr.department.updated_v1",
            entity: Department,
            action: Updated,
            object_api_name: None,
            occurred_at: FEISHU_TIME,
            changes: &[("7043711774159341101", &["name", "code"])],
        },
        Relayed {
            source: Feishu,
            event_type: "corehr.department.updated_v2",
            entity: Department,
            action: Updated,
            object_api_name: None,
            occurred_at: FEISHU_TIME,
            changes: &[("7043711774159341101", &["manager"])],
        },
        Relayed {
            source: Feilian,
            event_type: "department.v1.create",
            entity: Department,
            action: Created,
            object_api_name: None,
            occurred_at: FEILIAN_TIME,
            changes: &[("od_Ab12Cd34xxxx", &[]), ("od_Ef56Gh78xxxx", &[])],
        },
        // No list is sent for a deletion: the keys that differ between the snapshots.
        Relayed {
            source: Feilian,
            event_type: "department.v1.delete",
            entity: Department,
            action: Deleted,
            object_api_name: None,
            occurred_at: FEILIAN_TIME,
            changes: &[("od_Ij90Kl12xxxx", &[])],
        },
        Relayed {
            source: Feilian,
            event_type: "department.v1.update",
            entity: Department,
            action: Updated,
            object_api_name: None,
            occurred_at: FEILIAN_TIME,
            changes: &[("od_6M95Q3J3xxxx", &["name"])],
        },
    ]
};

const SOURCES: [Source; 2] = [Source::Feishu, Source::Feilian];

#[test]
fn every_sample_is_listed_as_relayed() {
    for source in SOURCES {
        let on_disk: Vec<String> = samples(source).into_iter().map(|(stem, _)| stem).collect();
        let mut listed: Vec<String> = RELAYED
            .iter()
            .filter(|row| row.source == source)
            .map(|row| row.event_type.to_owned())
            .collect();
        listed.sort();
        assert_eq!(
            on_disk,
            listed,
            "events/{}/ and the tables of this file",
            source.as_str()
        );
    }
}

#[test]
fn every_relayed_event_type_has_a_sample_with_the_core_s_entity_and_action() {
    for source in SOURCES {
        let mut from_core: Vec<(&str, Entity, Action)> = event_types(source).to_vec();
        from_core.sort_by_key(|(event_type, ..)| *event_type);
        let mut from_samples: Vec<(&str, Entity, Action)> = RELAYED
            .iter()
            .filter(|row| row.source == source)
            .map(|row| (row.event_type, row.entity, row.action))
            .collect();
        from_samples.sort_by_key(|(event_type, ..)| *event_type);
        assert_eq!(from_core, from_samples, "{}", source.as_str());
    }
}

#[test]
fn every_sample_becomes_its_messages_in_every_mode() {
    for row in RELAYED {
        let plaintext = sample(row.source, row.event_type);
        let envelope: Value = serde_json::from_str(&plaintext).expect("a JSON sample");
        let event_id = envelope["header"]["event_id"]
            .as_str()
            .expect("an event id");
        for mode in Mode::of(row.source) {
            let what = format!("{} {mode:?}", row.event_type);
            let (endpoint, request) = mode.prepare(row.source, &plaintext);
            let delivery = run(&endpoint, &request).unwrap_or_else(|err| panic!("{what}: {err}"));
            let Delivery::Changes(batch) = &delivery else {
                panic!("{what}: expected changes, got {delivery:?}");
            };
            assert_eq!(batch.event().event_type, row.event_type, "{what}");
            assert_eq!(batch.event().event_id, event_id, "{what}");
            assert_eq!(batch.messages().len(), row.changes.len(), "{what}");

            for (index, (message, body)) in
                batch.messages().iter().zip(bodies(&delivery)).enumerate()
            {
                let what = format!("{what} message {index}");
                let (entity_id, changed_fields) = row.changes[index];
                let id = match row.source {
                    Source::Feishu => format!("feishu:{event_id}"),
                    _ => format!("feilian:{event_id}:{index}"),
                };
                let (before, after) = snapshots(row, &envelope, index);
                assert_eq!(
                    body,
                    json!({
                        "schema_version": 1,
                        "id": id,
                        "source": row.source.as_str(),
                        "endpoint": row.source.as_str(),
                        "event_type": row.event_type,
                        "event_id": event_id,
                        "entity": row.entity.as_str(),
                        "action": row.action.as_str(),
                        "entity_id": entity_id,
                        "object_api_name": row.object_api_name,
                        "changed_fields": changed_fields,
                        "occurred_at": row.occurred_at,
                        "tenant_key": envelope["header"]["tenant_key"],
                        "app_id": envelope["header"]["app_id"],
                        "before": before,
                        "after": after,
                    }),
                    "{what}"
                );
                // Byte for byte what serde_json writes for the message it holds.
                let typed: Message = serde_json::from_str(message.body()).expect("a Message");
                assert_eq!(
                    message.body(),
                    serde_json::to_string(&typed).unwrap(),
                    "{what}"
                );

                // What a queue reads next to the body says the same.
                let tenant = envelope["header"]["tenant_key"]
                    .as_str()
                    .filter(|tenant| !tenant.is_empty())
                    .or(envelope["header"]["app_id"].as_str())
                    .unwrap_or_default();
                assert_eq!(message.id(), id, "{what}");
                assert_eq!(
                    message.attributes(),
                    [
                        ("source", row.source.as_str()),
                        ("event_type", row.event_type),
                        ("entity", row.entity.as_str()),
                        ("action", row.action.as_str()),
                    ],
                    "{what}"
                );
                assert_eq!(
                    message.ordering_key(GroupBy::Unit),
                    format!(
                        "{}:{tenant}:{}:{entity_id}",
                        row.source.as_str(),
                        row.entity.as_str()
                    ),
                    "{what}"
                );
                assert_eq!(
                    message.ordering_key(GroupBy::Tenant),
                    format!("{}:{tenant}", row.source.as_str()),
                    "{what}"
                );
            }
        }
    }
}

/// `before` and `after` of message `index`: the snapshots exactly as received where
/// the platform sends them (Feilian entries, contact v3), else null.
fn snapshots(row: &Relayed, envelope: &Value, index: usize) -> (Value, Value) {
    let snapshot = |parent: &Value, name: &str| parent.get(name).cloned().unwrap_or(Value::Null);
    match row.source {
        Source::Feilian => {
            let entry = &envelope["data"]["events"][index];
            (snapshot(entry, "old_object"), snapshot(entry, "object"))
        }
        _ if row.event_type.starts_with("contact.") => {
            let event = &envelope["event"];
            (snapshot(event, "old_object"), snapshot(event, "object"))
        }
        _ => (Value::Null, Value::Null),
    }
}

#[test]
fn an_unknown_event_type_is_ignored_in_every_mode() {
    // (source, plaintext, event type, event id)
    let rows = [
        (
            Source::Feishu,
            sample(Source::Feishu, "corehr.department.updated_v2")
                .replace("corehr.department.updated_v2", "im.message.receive_v1"),
            "im.message.receive_v1",
            "5e3702a84e847582be8db7fb73283c02",
        ),
        // A relayed platform's type name from the other platform is unknown too.
        (
            Source::Feishu,
            sample(Source::Feishu, "corehr.department.updated_v2")
                .replace("corehr.department.updated_v2", "department.v1.update"),
            "department.v1.update",
            "5e3702a84e847582be8db7fb73283c02",
        ),
        // Feishu schema 1.0: the type inside `event`, the id in `uuid`.
        (
            Source::Feishu,
            json!({
                "uuid": "41b5f371157e3d5341b38b20396e77a3",
                "token": FEISHU_TOKEN,
                "ts": "1550038209.428520",
                "type": "event_callback",
                "event": {"type": "approval", "app_id": "cli_xxx", "tenant_key": "t"},
            })
            .to_string(),
            "approval",
            "41b5f371157e3d5341b38b20396e77a3",
        ),
        (
            Source::Feilian,
            sample(Source::Feilian, "department.v1.update")
                .replace("department.v1.update", "user.v1.update"),
            "user.v1.update",
            "e09288e2-a1b3-4b38-84a8-3c673725xxxx",
        ),
    ];
    for (source, plaintext, event_type, event_id) in rows {
        for mode in Mode::of(source) {
            let (endpoint, request) = mode.prepare(source, &plaintext);
            match run(&endpoint, &request) {
                Ok(Delivery::Ignored(event)) => {
                    assert_eq!(
                        (event.event_type.as_str(), event.event_id.as_str()),
                        (event_type, event_id),
                        "{event_type} {mode:?}"
                    );
                }
                other => panic!("{event_type} {mode:?}: expected Ignored, got {other:?}"),
            }
        }
    }
}

#[test]
fn a_feilian_request_with_several_entries_becomes_one_message_each_in_order() {
    let entries: Vec<Value> = (0..13)
        .map(|i| json!({"object": {"open_id": format!("od_{i}")}, "update_fields": ["name"]}))
        .collect();
    let body = json!({
        "schema": "1.0",
        "header": {"event_id": "many-1", "token": FEILIAN_TOKEN, "create_time": "1740385174957", "event_type": "department.v1.update", "app_id": "cfg"},
        "data": {"events": entries},
    })
    .to_string();
    for mode in Mode::of(Source::Feilian) {
        let (endpoint, request) = mode.prepare(Source::Feilian, &body);
        let delivery = run(&endpoint, &request).expect("relayed");
        let ids: Vec<(String, String)> = bodies(&delivery)
            .iter()
            .map(|m| {
                (
                    m["id"].as_str().unwrap().to_owned(),
                    m["entity_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = (0..13)
            .map(|i| (format!("feilian:many-1:{i}"), format!("od_{i}")))
            .collect();
        assert_eq!(ids, expected, "{mode:?}");
    }
}
