//! `schema/message.schema.json`, the message contract for consumers: it must be the
//! schema the `Message` type generates (`REGENERATE_SCHEMA=1 cargo test --test schema`
//! rewrites it).

use std::collections::BTreeSet;

use org_change_relay::protocol::schema;
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
        "{} is out of date with src/protocol/message.rs: run `REGENERATE_SCHEMA=1 cargo test --test schema` and commit the file",
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
    assert_eq!(
        required, fields,
        "the relay writes every field, null or not"
    );
}
