//! A message's JSON text, written field by field: the same text `serde_json::to_string`
//! writes for a [`Message`] (compact, fields in declaration order, `null` for `None`,
//! the snapshots as received), without escaping the field names and with one scan per
//! string instead of serde_json's escape lookup per byte. Writing the message is most
//! of what the core adds to the floor of decrypting and parsing a request (README,
//! "Benchmarks"); `tests::the_text_is_serde_jsons_for_every_kind_of_string` holds the
//! two writers to the same bytes.

use serde_json::value::RawValue;

use crate::Message;

/// Appends the JSON of `message` to `out`.
///
/// # Errors
///
/// Whatever `serde_json` reports while escaping a string that needs it (nothing: it
/// writes into a `Vec`).
pub(crate) fn write_message(out: &mut Vec<u8>, message: &Message<'_>) -> serde_json::Result<()> {
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
    let mut object = Object::begin(out);
    object.number("schema_version", *schema_version);
    object.string("id", id)?;
    object.string("source", source.as_str())?;
    object.optional_string("endpoint", endpoint.as_deref())?;
    object.string("event_type", event_type)?;
    object.string("event_id", event_id)?;
    object.string("entity", entity.as_str())?;
    object.string("action", action.as_str())?;
    object.string("entity_id", entity_id)?;
    object.optional_string("object_api_name", object_api_name.as_deref())?;
    object.strings("changed_fields", changed_fields)?;
    object.optional_string("occurred_at", occurred_at.as_deref())?;
    object.optional_string("tenant_key", tenant_key.as_deref())?;
    object.optional_string("app_id", app_id.as_deref())?;
    object.raw("before", before.as_deref());
    object.raw("after", after.as_deref());
    object.end();
    Ok(())
}

/// A JSON object being written: `{`, then each `"key":value`, comma-separated.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    fn begin(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// `"key":`; every key here is a plain identifier, which JSON writes as it is.
    fn key(&mut self, key: &'static str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn number(&mut self, key: &'static str, value: u32) {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn string(&mut self, key: &'static str, value: &str) -> serde_json::Result<()> {
        self.key(key);
        write_string(self.out, value)
    }

    fn optional_string(
        &mut self,
        key: &'static str,
        value: Option<&str>,
    ) -> serde_json::Result<()> {
        match value {
            Some(value) => self.string(key, value),
            None => {
                self.key(key);
                self.out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    fn strings<S: AsRef<str>>(
        &mut self,
        key: &'static str,
        values: &[S],
    ) -> serde_json::Result<()> {
        self.key(key);
        self.out.push(b'[');
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            write_string(self.out, value.as_ref())?;
        }
        self.out.push(b']');
        Ok(())
    }

    /// A raw JSON value as received (`serde_json` writes a [`RawValue`] unchanged).
    fn raw(&mut self, key: &'static str, value: Option<&RawValue>) {
        self.key(key);
        let text = value.map_or("null", RawValue::get);
        self.out.extend_from_slice(text.as_bytes());
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

/// `value` as a JSON string. JSON requires an escape only for `"`, `\` and the
/// characters below U+0020, and `serde_json` escapes nothing else: a string without
/// any (nearly every id and name) is copied between quotes after one branch-free scan
/// (which the compiler vectorizes); one with any is written by `serde_json` itself.
fn write_string(out: &mut Vec<u8>, value: &str) -> serde_json::Result<()> {
    let needs_escape = value.bytes().fold(false, |needs, byte| {
        needs | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    });
    if needs_escape {
        return serde_json::to_writer(out, value);
    }
    out.reserve(value.len() + 2);
    out.push(b'"');
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
    Ok(())
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
            r"a lone surrogate kept as its escape: od-\ud83d",
            // Each character that must be escaped, alone in its string.
            r#"a "quoted" name"#,
            r"C:\dir",
            "tab\there",
        ];
        for text in texts {
            for optional in [None, Some(text)] {
                for raw in [None, Some(&*snapshot)] {
                    let message = message(text, optional, raw, raw);
                    let mut written = Vec::new();
                    write_message(&mut written, &message).unwrap();
                    assert_eq!(
                        String::from_utf8(written).unwrap(),
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
        let mut written = Vec::new();
        write_message(&mut written, &message).unwrap();
        let written = String::from_utf8(written).unwrap();
        assert!(written.contains(r#""changed_fields":[],"#), "{written}");
        assert_eq!(written, serde_json::to_string(&message).unwrap());
    }
}
