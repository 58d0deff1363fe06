//! The message contract as a JSON Schema (draft 2020-12), generated from
//! [`Message`](crate::Message) so that it cannot drift.
//! `tests/schema.rs` keeps `schema/message.schema.json` equal to it.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::{Message, SCHEMA_VERSION};

/// Where the schema lives in this repository.
pub const PATH: &str = "schema/message.schema.json";

/// The schema's `$id`: a name, not a download address. It changes with [`SCHEMA_VERSION`].
pub fn id() -> String {
    format!("urn:org-change-relay:message:v{SCHEMA_VERSION}")
}

/// The JSON Schema of a message body. Every field the relay writes is required; the
/// enricher's three are not, as the relay's own messages lack them.
pub fn message_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<Message<'static>>();
    // `endpoint` has a serde default for Rust consumers only: the relay always writes it.
    if let Some(endpoint) = schema
        .get_mut("properties")
        .and_then(|properties| properties.get_mut("endpoint"))
        .and_then(Value::as_object_mut)
    {
        endpoint.remove("default");
    }
    // The enricher writes its three fields together, or none of them.
    let enriched = ["current", "current_at", "current_missing"];
    let together: serde_json::Map<String, Value> = enriched
        .iter()
        .map(|field| {
            let others: Vec<&str> = enriched.iter().copied().filter(|f| f != field).collect();
            ((*field).to_owned(), json!(others))
        })
        .collect();
    schema.insert("dependentRequired".to_owned(), Value::Object(together));
    // The type's own doc comment speaks to Rust readers; the root speaks to consumers.
    schema.insert("$id".to_owned(), json!(id()));
    schema.insert("title".to_owned(), json!("org-change-relay message"));
    schema.insert(
        "description".to_owned(),
        json!(
            "One change to one organization unit (a department, or a Feishu People custom \
             organization) in Feishu or Feilian, as org-change-relay puts it on Amazon SQS: \
             the body of each SQS message, as JSON. Every field is always present; the \
             optional ones are null. The optional enricher's queue adds current, \
             current_at and current_missing: all three or none. Fields, and values of source, entity and action, may \
             be added without a new schema_version: ignore the ones you do not know. Messages are delivered at least once: \
             deduplicate on `id`."
        ),
    );
    schema.to_value()
}
