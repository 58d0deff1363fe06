//! `schema/message.schema.json`, the message contract for consumers: it must be the
//! schema the `Message` type generates (`REGENERATE_SCHEMA=1 cargo test --test schema`
//! rewrites it), and the validator every integration test runs on the queue's
//! messages (`common::drain`) must tell a good message from a bad one.

mod common;

use std::borrow::Cow;
use std::collections::BTreeSet;

use common::{message_validator, schema_violations};
use org_change_contract::{Action, Entity, Message, SCHEMA_VERSION, Source, schema};
use serde_json::value::RawValue;
use serde_json::{Value, json};

#[test]
fn the_committed_schema_is_the_one_the_message_type_generates() {
    let file = format!("{}/{}", env!("CARGO_MANIFEST_DIR"), schema::PATH);
    let generated =
        serde_json::to_string_pretty(&schema::message_schema()).expect("the schema is JSON") + "\n";
    if std::env::var("REGENERATE_SCHEMA").is_ok() {
        std::fs::write(&file, &generated).expect("schema/ is writable");
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert_eq!(
        committed,
        generated,
        "{} is out of date with crates/contract/src/lib.rs: run `REGENERATE_SCHEMA=1 cargo test --test schema` and commit the file",
        schema::PATH
    );
}

#[test]
fn the_schema_names_itself_and_requires_every_field() {
    let generated = schema::message_schema();
    assert_eq!(
        generated["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(generated["$id"], json!(schema::id()));
    assert_eq!(generated["title"], "org-change-relay message");
    let required: BTreeSet<&str> = generated["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let fields: BTreeSet<&str> = generated["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        fields.contains("id") && fields.contains("after"),
        "{fields:?}"
    );
    let enriched = BTreeSet::from(["current", "current_at", "current_missing"]);
    assert!(enriched.is_subset(&fields), "{fields:?}");
    assert_eq!(
        required,
        &fields - &enriched,
        "the relay writes every field, null or not; only the enricher adds its three"
    );
}

/// A Feilian department update as the relay writes it.
fn feilian_update() -> Value {
    let snapshot = |name: &str| {
        let json = format!(r#"{{"open_id":"od_6M95Q3J3xxxx","name":"{name}","type":2}}"#);
        Some(Cow::Owned(
            RawValue::from_string(json).expect("a JSON snapshot"),
        ))
    };
    let message = Message {
        schema_version: SCHEMA_VERSION,
        id: "feilian:e09288e2-a1b3-4b38-84a8-3c673725xxxx:0".into(),
        source: Source::Feilian,
        endpoint: Some("feilian/subsidiary".into()),
        event_type: "department.v1.update".into(),
        event_id: "e09288e2-a1b3-4b38-84a8-3c673725xxxx".into(),
        entity: Entity::Department,
        action: Action::Updated,
        entity_id: "od_6M95Q3J3xxxx".into(),
        object_api_name: None,
        changed_fields: vec!["name".into()],
        occurred_at: Some("2025-02-24T08:19:34.957Z".into()),
        tenant_key: None,
        app_id: Some("897957767eda448e9e3c53c6a51dxxxx".into()),
        before: snapshot("部门名称2"),
        after: snapshot("部门名称1"),
        current: None,
        current_at: None,
        current_missing: None,
    };
    serde_json::to_value(&message).expect("a message serializes")
}

#[test]
fn a_message_the_relay_writes_is_valid() {
    let validator = message_validator();
    let message = feilian_update();
    assert_eq!(
        schema_violations(&validator, &message),
        Vec::<String>::new()
    );
    let mut corehr = message.clone();
    corehr["source"] = json!("feishu");
    corehr["id"] = json!("feishu:5e3702a84e847582be8db7fb73283c02");
    corehr["entity"] = json!("custom_org");
    corehr["object_api_name"] = json!("custom_org_01");
    corehr["before"] = Value::Null;
    corehr["after"] = Value::Null;
    corehr["occurred_at"] = Value::Null;
    corehr["endpoint"] = json!("feishu");
    assert_eq!(schema_violations(&validator, &corehr), Vec::<String>::new());
    corehr["endpoint"] = json!("feishu/lark-global");
    assert_eq!(schema_violations(&validator, &corehr), Vec::<String>::new());
    // The enricher's queue: the same message with its three fields.
    corehr["current"] = json!({"org_id": "6862995757234914824", "active": true});
    corehr["current_at"] = json!("2026-12-06T08:00:00.123Z");
    corehr["current_missing"] = Value::Null;
    assert_eq!(schema_violations(&validator, &corehr), Vec::<String>::new());
    corehr["current"] = Value::Null;
    corehr["current_at"] = Value::Null;
    corehr["current_missing"] = json!({"reason": "forbidden", "code": 1160103});
    assert_eq!(schema_violations(&validator, &corehr), Vec::<String>::new());
}

/// Where the schema must find a violation, and how to make one in a valid message.
type Breakage = (&'static str, fn(&mut Value));

#[test]
fn the_validator_rejects_messages_that_break_the_contract() {
    let validator = message_validator();
    let cases: [Breakage; 15] = [
        ("", |m| m["current"] = json!({"id": "1"})),
        ("/current_missing", |m| {
            m["current"] = Value::Null;
            m["current_at"] = Value::Null;
            m["current_missing"] = json!({"reason": "gone", "code": null});
        }),
        ("/current_at", |m| {
            m["current"] = json!({"id": "1"});
            m["current_at"] = json!("2026-12-06 08:00:00");
            m["current_missing"] = Value::Null;
        }),
        ("", |m| {
            m.as_object_mut().expect("an object").remove("endpoint");
        }),
        ("/endpoint", |m| m["endpoint"] = Value::Null),
        ("/endpoint", |m| m["endpoint"] = json!("feishu/Lark")),
        ("/endpoint", |m| m["endpoint"] = json!("dingtalk")),
        ("/entity", |m| m["entity"] = json!("team")),
        ("/action", |m| m["action"] = json!("moved")),
        ("", |m| {
            m.as_object_mut().expect("an object").remove("id");
        }),
        ("", |m| {
            m.as_object_mut().expect("an object").remove("before");
        }),
        ("/schema_version", |m| m["schema_version"] = json!(2)),
        ("/id", |m| {
            m["id"] = json!("e09288e2-a1b3-4b38-84a8-3c673725xxxx")
        }),
        ("/occurred_at", |m| {
            m["occurred_at"] = json!("1740385174957")
        }),
        ("/after", |m| m["after"] = json!("部门名称1")),
    ];
    for (path, break_it) in cases {
        let mut message = feilian_update();
        break_it(&mut message);
        let violations = schema_violations(&validator, &message);
        assert!(
            violations
                .iter()
                .any(|v| v.starts_with(&format!("at {path:?}:"))),
            "expected a violation at {path:?}, got {violations:?} for {message:#}"
        );
    }
}
