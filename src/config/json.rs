//! Configuration JSON, read strictly: an object that gives one name twice is refused.
//!
//! serde_json keeps the last of two equal names. In `ENDPOINTS` or the secret,
//! `"encrypt_key": "K", "encrypt_key": ""` would then mean no key, and the endpoint would
//! take plaintext. So every configuration object is read here, one level at a time.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{MapAccess, Visitor};
use serde_json::error::Category;
use serde_json::value::RawValue;

/// Why a configuration text is not a JSON object with unique names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON: where the parser stopped. Its own message may quote the text.
    Syntax { line: usize, column: usize },
    /// JSON, but not an object.
    NotAnObject,
    /// The second of two equal names.
    Repeated(String),
}

/// An object's members by name, each value as its JSON text.
pub type Object = BTreeMap<String, Box<RawValue>>;

/// The object `text`, or why it is not one with unique names.
pub fn object(text: &str) -> Result<Object, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let (object, repeated) = deserializer
        .deserialize_map(Members)
        .and_then(|members| deserializer.end().map(|()| members))
        .map_err(|err| match err.classify() {
            Category::Data => JsonError::NotAnObject,
            _ => JsonError::Syntax {
                line: err.line(),
                column: err.column(),
            },
        })?;
    repeated.map_or(Ok(object), |name| Err(JsonError::Repeated(name)))
}

/// Reads an object's members, and the first name given twice.
struct Members;

impl<'de> Visitor<'de> for Members {
    type Value = (Object, Option<String>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut object, mut repeated) = (Object::new(), None);
        while let Some((name, value)) = map.next_entry::<String, _>()? {
            if object.insert(name.clone(), value).is_some() {
                repeated.get_or_insert(name);
            }
        }
        Ok((object, repeated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        object(text).unwrap().into_keys().collect()
    }

    #[test]
    fn an_object_with_unique_names_keeps_each_value_as_written() {
        let read = object(r#"{"b": {"c": "d"}, "a": [1, -2, 3.5, true, null, "s"]}"#).unwrap();
        assert_eq!(names(r#"{"b": 1, "a": 2}"#), ["a", "b"]);
        assert_eq!(read["a"].get(), r#"[1, -2, 3.5, true, null, "s"]"#);
        assert_eq!(read["b"].get(), r#"{"c": "d"}"#);
    }

    #[test]
    fn a_name_given_twice_is_refused_naming_it() {
        assert_eq!(
            object(r#"{"K": "v", "K": ""}"#).err(),
            Some(JsonError::Repeated("K".into()))
        );
        // A deeper object is read, and checked, when its own level is.
        assert!(object(r#"{"a": {"k": "1", "k": "2"}, "b": {"k": "1"}}"#).is_ok());
    }

    #[test]
    fn a_syntax_error_gives_its_position_only_and_another_value_is_no_object() {
        assert_eq!(
            object("{\n \"a\": s3cr3t}").err(),
            Some(JsonError::Syntax { line: 2, column: 7 })
        );
        assert!(matches!(
            object(r#"{"a": 1} x"#),
            Err(JsonError::Syntax { .. })
        ));
        for text in [r#"["s3cr3t"]"#, r#""s3cr3t""#, "12345678", "null"] {
            assert_eq!(object(text).err(), Some(JsonError::NotAnObject), "{text}");
        }
    }
}
