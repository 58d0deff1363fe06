//! Configuration JSON, read strictly: an object that gives one name twice is refused.
//!
//! serde_json keeps the last of two equal names. In `ENDPOINTS` or the secret,
//! `"encrypt_key": "K", "encrypt_key": ""` would then mean no key, and the endpoint would
//! take plaintext. So every configuration text is read here.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a configuration text was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON: where the parser stopped. Its own message may quote the text.
    Syntax { line: usize, column: usize },
    /// The path to the second of two equal names, outermost first.
    Repeated(Vec<Segment>),
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Name(String),
    Index(usize),
}

/// The JSON value of `text`, or why it is not one with unique names.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let node: Node = serde_json::from_str(text).map_err(|err| JsonError::Syntax {
        line: err.line(),
        column: err.column(),
    })?;
    node.into_value().map_err(JsonError::Repeated)
}

/// A path as the errors name it: `ENDPOINTS["feishu/x"].encrypt_key`.
pub fn place(variable: &str, path: &[Segment]) -> String {
    let mut place = variable.to_owned();
    for (depth, segment) in path.iter().enumerate() {
        match segment {
            Segment::Name(name) if depth == 0 => place.push_str(&format!("[{name:?}]")),
            Segment::Name(name) => place.push_str(&format!(".{name}")),
            Segment::Index(index) => place.push_str(&format!("[{index}]")),
        }
    }
    place
}

/// A JSON value whose objects keep every name as written, repeats included.
enum Node {
    Leaf(Value),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    /// The value, or the path to the first name given twice.
    fn into_value(self) -> Result<Value, Vec<Segment>> {
        let within = |segment: Segment| {
            move |mut path: Vec<Segment>| {
                path.insert(0, segment);
                path
            }
        };
        match self {
            Node::Leaf(value) => Ok(value),
            Node::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| item.into_value().map_err(within(Segment::Index(index))))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Node::Object(entries) => {
                let mut object = Map::new();
                for (name, node) in entries {
                    if object.contains_key(&name) {
                        return Err(vec![Segment::Name(name)]);
                    }
                    let value = node
                        .into_value()
                        .map_err(within(Segment::Name(name.clone())))?;
                    object.insert(name, value);
                }
                Ok(Value::Object(object))
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Null))
    }
    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Bool(value)))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::from(value)))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::from(value)))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::from(value)))
    }
    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Leaf(Value::String(value.to_owned())))
    }
    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::Leaf(Value::String(value)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Node>()? {
            entries.push(entry);
        }
        Ok(Node::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Segment {
        Segment::Name(text.to_owned())
    }

    #[test]
    fn a_text_with_unique_names_reads_as_serde_json_reads_it() {
        let text = r#"{"a": [1, -2, 3.5, true, null, "s"], "b": {"c": "d"}, "e": {}}"#;
        let strict = parse(text).unwrap();
        let lenient: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, lenient);
    }

    #[test]
    fn a_name_given_twice_is_found_at_any_depth() {
        for (text, path) in [
            (r#"{"K": "v", "K": ""}"#, vec![name("K")]),
            (
                r#"{"feishu/x": {"t": "v"}, "feishu/x": {}}"#,
                vec![name("feishu/x")],
            ),
            (
                r#"{"feishu/x": {"encrypt_key": "v", "encrypt_key": ""}}"#,
                vec![name("feishu/x"), name("encrypt_key")],
            ),
            (
                r#"{"ENDPOINTS": {"feishu/x": {"k": "v", "k": ""}}}"#,
                vec![name("ENDPOINTS"), name("feishu/x"), name("k")],
            ),
            (
                r#"[{"a": 1}, {"a": 1, "a": 2}]"#,
                vec![Segment::Index(1), name("a")],
            ),
        ] {
            assert_eq!(parse(text), Err(JsonError::Repeated(path)), "{text}");
        }
    }

    #[test]
    fn equal_names_in_different_objects_are_not_repeats() {
        assert!(parse(r#"{"a": {"k": "1"}, "b": {"k": "1"}}"#).is_ok());
    }

    #[test]
    fn a_syntax_error_gives_its_position_only() {
        assert_eq!(
            parse("{\n \"a\": s3cr3t}"),
            Err(JsonError::Syntax { line: 2, column: 7 })
        );
    }

    #[test]
    fn a_place_reads_as_the_errors_write_it() {
        assert_eq!(
            place("ENDPOINTS", &[name("feishu/x"), name("encrypt_key")]),
            r#"ENDPOINTS["feishu/x"].encrypt_key"#
        );
        assert_eq!(
            place("ENDPOINTS", &[name("feishu/x")]),
            r#"ENDPOINTS["feishu/x"]"#
        );
        assert_eq!(place("ENDPOINTS", &[]), "ENDPOINTS");
    }
}
