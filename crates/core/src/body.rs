//! A message's JSON text, written field by field: the same text `serde_json::to_string`
//! writes for a [`Message`] (compact, fields in declaration order, `null` for `None`,
//! the snapshots as received), without escaping the field names and with one scan per
//! string instead of serde_json's escape lookup per byte; it cannot fail.
//! `tests::the_text_is_serde_jsons_for_every_kind_of_string` holds the two writers to
//! the same bytes.

use serde_json::value::RawValue;

use crate::Message;

/// `"name":`, the key of a field; every key here is a plain identifier, which JSON
/// writes as it is.
macro_rules! key {
    ($name:literal) => {
        concat!("\"", $name, "\":")
    };
}

/// `,"name":`, what comes before the value of every field but the first: one
/// fragment, copied at once.
macro_rules! next {
    ($name:literal) => {
        concat!(",", key!($name))
    };
}

/// Appends the JSON of `message` to `out`.
pub(crate) fn write_message(out: &mut String, message: &Message<'_>) {
    // Every field, by name and without `..`: a field added to `Message` does not
    // compile here until it is written too.
    let Message {
        schema_version,
        id,
        source,
        endpoint,
        event_type,
        event_id,
        entity,
        action,
        entity_id,
        object_api_name,
        changed_fields,
        occurred_at,
        tenant_key,
        app_id,
        before,
        after,
    } = message;
    out.push_str(concat!("{", key!("schema_version")));
    out.push_str(itoa::Buffer::new().format(*schema_version));
    let mut out = Fields(out);
    out.string(next!("id"), id);
    out.string(next!("source"), source.as_str());
    out.optional_string(next!("endpoint"), endpoint.as_deref());
    out.string(next!("event_type"), event_type);
    out.string(next!("event_id"), event_id);
    out.string(next!("entity"), entity.as_str());
    out.string(next!("action"), action.as_str());
    out.string(next!("entity_id"), entity_id);
    out.optional_string(next!("object_api_name"), object_api_name.as_deref());
    out.strings(next!("changed_fields"), changed_fields);
    out.optional_string(next!("occurred_at"), occurred_at.as_deref());
    out.optional_string(next!("tenant_key"), tenant_key.as_deref());
    out.optional_string(next!("app_id"), app_id.as_deref());
    out.raw(next!("before"), before.as_deref());
    out.raw(next!("after"), after.as_deref());
    out.0.push('}');
}

/// The fields of a JSON object being written; each method takes the fragment before
/// the value (`next!("name")`) and writes the value after it.
struct Fields<'o>(&'o mut String);

impl Fields<'_> {
    fn string(&mut self, key: &'static str, value: &str) {
        self.0.push_str(key);
        write_string(self.0, value);
    }

    fn optional_string(&mut self, key: &'static str, value: Option<&str>) {
        match value {
            Some(value) => self.string(key, value),
            None => {
                self.0.push_str(key);
                self.0.push_str("null");
            }
        }
    }

    fn strings<S: AsRef<str>>(&mut self, key: &'static str, values: &[S]) {
        self.0.push_str(key);
        self.0.push('[');
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.0.push(',');
            }
            write_string(self.0, value.as_ref());
        }
        self.0.push(']');
    }

    /// A raw JSON value as received (`serde_json` writes a [`RawValue`] unchanged).
    fn raw(&mut self, key: &'static str, value: Option<&RawValue>) {
        self.0.push_str(key);
        self.0.push_str(value.map_or("null", RawValue::get));
    }
}

/// `value` as a JSON string. JSON requires an escape only for `"`, `\` and the
/// characters below U+0020, and `serde_json` escapes nothing else: a string without
/// any (nearly every id and name) is copied between quotes after one branch-free scan
/// (which the compiler vectorizes); one with any is written by `serde_json` itself
/// (through `Value`, whose text cannot fail to be written).
fn write_string(out: &mut String, value: &str) {
    let needs_escape = value.bytes().fold(false, |needs, byte| {
        needs | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    });
    if needs_escape {
        out.push_str(&serde_json::Value::from(value).to_string());
        return;
    }
    out.reserve(value.len() + 2);
    out.push('"');
    out.push_str(value);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::message;

    #[test]
    fn the_text_is_serde_jsons_for_every_kind_of_string() {
        let snapshot = RawValue::from_string(
            "{ \"name\" : \"部门\\n\\u0041\",\n\t\"seq\": [1, 2.50, null] }".to_owned(),
        )
        .unwrap();
        // Every character below U+0080 (the escaped ones among them), and what
        // serde_json leaves alone above it.
        let ascii: String = (0u8..0x80).map(char::from).collect();
        let texts = [
            "",
            "od-64242a18099d3a31acd24d8fce8d1a2b",
            ascii.as_str(),
            "部门（研发）\u{2028}\u{2029}\u{fffe}\u{ffff}😀",
            // What a lone surrogate the platform sent is in a `Message`: its escape as
            // text, a backslash and five characters (`snapshot::Text`).
            r"od-\ud83d",
            // Each character that must be escaped, alone in its string.
            r#"a "quoted" name"#,
            r"C:\dir",
            "tab\there",
        ];
        for text in texts {
            for optional in [None, Some(text)] {
                for raw in [None, Some(&*snapshot)] {
                    let message = message(text, optional, raw, raw);
                    let mut written = String::new();
                    write_message(&mut written, &message);
                    assert_eq!(
                        written,
                        serde_json::to_string(&message).unwrap(),
                        "{text:?} {optional:?} {raw:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_empty_list_of_changed_fields_is_an_empty_array() {
        let mut message = message("x", None, None, None);
        message.changed_fields.clear();
        let mut written = String::new();
        write_message(&mut written, &message);
        assert!(written.contains(r#""changed_fields":[],"#), "{written}");
        assert_eq!(written, serde_json::to_string(&message).unwrap());
    }
}
