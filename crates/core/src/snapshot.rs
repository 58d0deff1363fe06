//! Before/after snapshots (`old_object` / `object`) as the platforms send them, and
//! the JSON strings of a payload, read without requiring valid Unicode.
//!
//! JSON text may spell a string that is not valid Unicode: a lone UTF-16 surrogate
//! escape such as `"Growth \ud83d"` (an emoji cut in half) is legal JSON (RFC 8259,
//! section 8.2) but cannot be a Rust `String`, so `serde_json` refuses to read it
//! into a `String` or a `serde_json::Value`. The relay must not refuse a verified
//! event for the content of a field it passes through, so nothing here decodes JSON
//! into Rust strings:
//!
//! - [`changed_keys`] compares snapshots as JSON values parsed from their raw text
//!   (a [`Node`] tree whose strings stay raw escaped text and compare as UTF-16 code
//!   units after decoding their escapes);
//! - [`Text`] reads a JSON string that the message needs (an id, a field name) and
//!   keeps a lone surrogate as the six characters of its escape (`\ud83d`).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Unexpected,
    Visitor,
};
use serde_json::value::RawValue;

use crate::Action;

/// What an `old_object` holds (`docs/protocol.md`, "Changed fields").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OldObject {
    /// The whole previous record (Feilian). A record omits a field without a value,
    /// so a field set for the first time is a key only in `object`.
    Full,
    /// Only the previous values of the fields that changed (Lark's page for
    /// `contact.department.updated_v3`), unless it carries one of these keys. They
    /// are the record's own ids, which never change, so only a full record has them
    /// (Feishu's own sample is one).
    PartialUnlessItHas(&'static [&'static str]),
}

/// The `changed_fields` of a message:
///
/// - `listed`, the list the platform sent (Feishu People `field_changes`, Feilian
///   `update_fields` / `updated_fields`), is taken as received, whatever the action;
/// - otherwise, for [`Action::Updated`] with both snapshots, the keys whose value
///   differs ([`changed_keys`]);
/// - otherwise `[]`: for a creation or a deletion the action itself is the change
///   (a Feilian deletion's partial `object` must not turn every missing key into a
///   "changed" field).
///
/// # Errors
///
/// [`SnapshotError`] when an update's snapshots are not both JSON objects.
pub(crate) fn changed_fields<'a>(
    action: Action,
    listed: Option<Vec<Cow<'a, str>>>,
    before: Option<&'a RawValue>,
    after: Option<&'a RawValue>,
    old_object: OldObject,
) -> Result<Vec<Cow<'a, str>>, SnapshotError> {
    match (listed, action, before, after) {
        (Some(listed), ..) => Ok(listed),
        (None, Action::Updated, Some(before), Some(after)) => {
            changed_keys(before, after, old_object)
        }
        _ => Ok(Vec::new()),
    }
}

/// A snapshot that is not a JSON object, or (which a [`RawValue`] rules out) not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a snapshot is not a JSON object")]
pub(crate) struct SnapshotError;

/// The top-level keys whose value differs between `before` and `after`, an absent key
/// differing from a present one, sorted by code point (the order of Rust's `str`), as
/// [`Text`] renders them. A full `before` lists keys of either snapshot; a partial one
/// only its own, since a key only in `after` says nothing about a change there.
///
/// Values are compared as JSON values, not as text: key order inside objects and
/// whitespace do not matter, strings are equal when their UTF-16 code units are
/// equal after decoding escapes (`"\u0041"` equals `"A"`; `"\ud83d\ude00"` equals
/// `"😀"`; a lone surrogate equals only the same lone surrogate), and numbers compare
/// as `serde_json::Number` does, which is how this function compared them when it
/// read snapshots into `serde_json::Value`: integers by value, numbers with a
/// fraction or an exponent as `f64`, and an integer never equals a float (`1` and
/// `1.0` differ, `1.0` and `1.00` do not; a platform changing its spelling shows as a
/// change rather than hiding one). A number `serde_json` cannot represent (`1e400`)
/// compares by its text, and so does an integer beyond 64 bits, which `serde_json`
/// would read as an `f64` (where 18446744073709551616 and 18446744073709551617 are
/// the same): JSON spells an integer one way only, so its text is its value. Of
/// duplicate keys the last one counts, as in `serde_json`.
///
/// # Errors
///
/// [`SnapshotError`] when either snapshot is not a JSON object.
pub(crate) fn changed_keys<'a>(
    before: &'a RawValue,
    after: &'a RawValue,
    old_object: OldObject,
) -> Result<Vec<Cow<'a, str>>, SnapshotError> {
    let (Node::Object(before), Node::Object(after)) = (Node::parse(before)?, Node::parse(after)?)
    else {
        return Err(SnapshotError);
    };
    let full = match old_object {
        OldObject::Full => true,
        OldObject::PartialUnlessItHas(ids) => ids.iter().any(|id| before.contains_key(&RawStr(id))),
    };
    let only_after = after.keys().filter(|key| full && !before.contains_key(key));
    let mut keys: Vec<Cow<'a, str>> = before
        .iter()
        .filter(|(key, value)| after.get(key) != Some(value))
        .map(|(key, _)| key)
        .chain(only_after)
        .map(|key| key.text())
        .collect();
    keys.sort_unstable();
    Ok(keys)
}

/// The entity id of a change: the string member `field` of `after` (`object`), else
/// of `before` (`old_object`), read by [`string_member`]. A snapshot that is absent,
/// or has no such member (or a `null` one), passes on to the next; one whose member
/// is not one string stops there, `Err` with its `not_one_string` detail (a wrong id
/// is never replaced by the other snapshot's). `Ok(None)`: neither has one.
pub(crate) fn entity_id<'a>(
    [after, before]: [Option<&'a RawValue>; 2],
    field: &str,
    not_one_string: [&'static str; 2],
) -> Result<Option<Text<'a>>, &'static str> {
    for (snapshot, not_one_string) in [after, before].into_iter().zip(not_one_string) {
        let Some(snapshot) = snapshot else { continue };
        if let Some(id) = string_member(snapshot, field).map_err(|NotOneString| not_one_string)? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// A member that [`string_member`] cannot read as one string.
#[derive(Debug, PartialEq)]
pub(crate) struct NotOneString;

/// The member `field` of the JSON object `object`, as [`Text`]: `Ok(None)` when it is
/// absent or `null`; `Err` when it is another JSON type or is given twice, or when
/// `object` is not an object. No other key or value is decoded, so a lone surrogate
/// elsewhere in the object (a key included, which `serde_json` cannot read into a
/// `str`) changes nothing: the relay does not refuse an event for what it only
/// passes through.
pub(crate) fn string_member<'a>(
    object: &'a RawValue,
    field: &str,
) -> Result<Option<Text<'a>>, NotOneString> {
    serde_json::Deserializer::from_str(object.get())
        .deserialize_map(Member(field.as_bytes()))
        .map_err(|_| NotOneString)
}

/// Reads one member of a JSON object, found by its key's bytes, as an optional
/// [`Text`], and fails if the key comes twice.
struct Member<'f>(&'f [u8]);

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<Text<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut member, mut seen) = (None, false);
        while let Some(is_field) = map.next_key_seed(KeyIs(self.0))? {
            if !is_field {
                map.next_value::<IgnoredAny>()?;
            } else if std::mem::replace(&mut seen, true) {
                return Err(A::Error::custom("given twice"));
            } else {
                member = map.next_value()?;
            }
        }
        Ok(member)
    }
}

/// Whether a key is the one sought: read as bytes, which `serde_json` decodes without
/// refusing a lone surrogate, and compared, never kept.
struct KeyIs<'f>(&'f [u8]);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_bytes(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_bytes<E>(self, key: &[u8]) -> Result<bool, E> {
        Ok(key == self.0)
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key.as_bytes() == self.0)
    }
}

/// Whether a raw value is a JSON object, as every snapshot must be.
pub(crate) fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

/// A JSON value parsed from validated JSON text, its strings left as raw escaped
/// text ([`RawStr`]). Equality is JSON equality as [`changed_keys`] describes it.
#[derive(Debug, PartialEq)]
enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number<'a>),
    String(RawStr<'a>),
    Array(Vec<Node<'a>>),
    Object(BTreeMap<RawStr<'a>, Node<'a>>),
    /// A value nested deeper than [`MAX_DEPTH`], kept as its text and compared as text
    /// (whitespace and spelling included): at worst a change is reported that JSON
    /// equality would not see, never one hidden.
    Deep(&'a str),
}

/// A JSON number: as `serde_json` reads it, or its text when `serde_json` cannot.
#[derive(Debug, PartialEq)]
enum Number<'a> {
    Read(serde_json::Number),
    Text(&'a str),
}

/// How deep [`Parser::value`] builds [`Node`]s; a value deeper still is a
/// [`Node::Deep`]. A [`RawValue`] may be nested any depth (`serde_json` skips its
/// content without recursion), and the parser, which recurses, must not run out of
/// stack on one.
const MAX_DEPTH: usize = 256;

impl<'a> Node<'a> {
    fn parse(raw: &'a RawValue) -> Result<Self, SnapshotError> {
        let mut parser = Parser {
            text: raw.get(),
            at: 0,
        };
        let node = parser.value(0)?;
        parser.whitespace();
        if parser.at == parser.text.len() {
            Ok(node)
        } else {
            Err(SnapshotError)
        }
    }
}

/// A recursive-descent reader of JSON text into [`Node`]s. Its input has already been
/// validated by `serde_json` (it is a [`RawValue`]), but it checks what it reads
/// anyway and fails with [`SnapshotError`] rather than panicking.
struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Result<(), SnapshotError> {
        self.whitespace();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(SnapshotError)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, SnapshotError> {
        if depth > MAX_DEPTH {
            return self.skip().map(Node::Deep);
        }
        self.whitespace();
        match self.peek().ok_or(SnapshotError)? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(Node::String),
            b't' => self.literal("true", Node::Bool(true)),
            b'f' => self.literal("false", Node::Bool(false)),
            b'n' => self.literal("null", Node::Null),
            _ => self.number(),
        }
    }

    /// Skips one value without building it, however deep (brackets are counted, not
    /// recursed into; strings are read by [`Self::string`], so a bracket inside one
    /// does not count), and returns its text.
    fn skip(&mut self) -> Result<&'a str, SnapshotError> {
        self.whitespace();
        let start = self.at;
        let mut open = 0_usize;
        loop {
            match self.peek().ok_or(SnapshotError)? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    open += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    open = open.checked_sub(1).ok_or(SnapshotError)?;
                    self.at += 1;
                }
                // Inside a container: separators, whitespace, numbers and literals.
                _ if open > 0 => self.at += 1,
                // A number or a literal on its own.
                _ => {
                    while matches!(
                        self.peek(),
                        Some(b'0'..=b'9' | b'a'..=b'z' | b'-' | b'+' | b'.' | b'E')
                    ) {
                        self.at += 1;
                    }
                }
            }
            if open == 0 {
                break;
            }
        }
        let text = &self.text[start..self.at];
        if text.is_empty() {
            return Err(SnapshotError);
        }
        Ok(text)
    }

    fn literal(&mut self, word: &str, node: Node<'a>) -> Result<Node<'a>, SnapshotError> {
        if self
            .text
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(word))
        {
            self.at += word.len();
            Ok(node)
        } else {
            Err(SnapshotError)
        }
    }

    fn number(&mut self) -> Result<Node<'a>, SnapshotError> {
        let start = self.at;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.at += 1;
        }
        let text = &self.text[start..self.at];
        if text.is_empty() {
            return Err(SnapshotError);
        }
        let integer = !text.contains(['.', 'e', 'E']);
        let number = match serde_json::from_str::<serde_json::Number>(text) {
            // Beyond 64 bits serde_json holds an integer as an f64.
            Ok(number) if integer && number.is_f64() => Number::Text(text),
            Ok(number) => Number::Read(number),
            Err(_) => Number::Text(text),
        };
        Ok(Node::Number(number))
    }

    /// A string, from its opening quote: its content between the quotes, escapes
    /// checked (one of `"\/bfnrt`, or `u` and four hex digits) but not decoded.
    fn string(&mut self) -> Result<RawStr<'a>, SnapshotError> {
        self.eat(b'"')?;
        let start = self.at;
        loop {
            match self.peek().ok_or(SnapshotError)? {
                b'"' => break,
                b'\\' => {
                    let escape = self.text.as_bytes().get(self.at + 1).copied();
                    self.at += match escape {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                        Some(b'u') => {
                            let hex = self.text.get(self.at + 2..self.at + 6);
                            if !hex.is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit())) {
                                return Err(SnapshotError);
                            }
                            6
                        }
                        _ => return Err(SnapshotError),
                    };
                }
                0x00..=0x1f => return Err(SnapshotError),
                _ => self.at += 1,
            }
        }
        let content = self.text.get(start..self.at).ok_or(SnapshotError)?;
        self.at += 1;
        Ok(RawStr(content))
    }

    fn array(&mut self, depth: usize) -> Result<Node<'a>, SnapshotError> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        self.whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Node::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Node::Array(items));
                }
                _ => return Err(SnapshotError),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node<'a>, SnapshotError> {
        self.eat(b'{')?;
        let mut members = BTreeMap::new();
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Node::Object(members));
        }
        loop {
            self.whitespace();
            let key = self.string()?;
            self.eat(b':')?;
            // The last of duplicate keys counts, as in serde_json.
            members.insert(key, self.value(depth + 1)?);
            self.whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Node::Object(members));
                }
                _ => return Err(SnapshotError),
            }
        }
    }
}

/// The content of a JSON string between its quotes, escapes not decoded; made only
/// from text whose escapes were checked (by [`Parser::string`] or by `serde_json`).
/// Two are equal, and ordered, by their UTF-16 code units after decoding escapes
/// ([`RawStr::units`]): the one representation in which every JSON string, lone
/// surrogates included, has exactly one spelling.
#[derive(Debug, Clone, Copy)]
struct RawStr<'a>(&'a str);

impl<'a> RawStr<'a> {
    /// The string's UTF-16 code units, escapes decoded. A `\uXXXX` escape is one code
    /// unit whatever it holds, so a surrogate pair spelled as two escapes gives the
    /// same units as the character written out, and a lone surrogate stays one unit.
    fn units(self) -> Units<'a> {
        Units {
            chars: self.0.chars(),
            low: None,
        }
    }

    /// The string as Rust text ([`Text`]): borrowed when it has no escape; otherwise
    /// decoded, with each lone surrogate written as the six characters of its escape
    /// in lower case (`\ud83d`).
    fn text(self) -> Cow<'a, str> {
        if !self.0.contains('\\') {
            return Cow::Borrowed(self.0);
        }
        let mut text = String::with_capacity(self.0.len());
        for decoded in char::decode_utf16(self.units()) {
            match decoded {
                Ok(c) => text.push(c),
                Err(lone) => {
                    text.push_str(&format!("\\u{:04x}", lone.unpaired_surrogate()));
                }
            }
        }
        Cow::Owned(text)
    }
}

impl PartialEq for RawStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        // Without escapes the text is its own spelling: UTF-8 and UTF-16 encode the
        // same characters one to one.
        if !self.0.contains('\\') && !other.0.contains('\\') {
            return self.0 == other.0;
        }
        self.units().eq(other.units())
    }
}

impl Eq for RawStr<'_> {}

impl PartialOrd for RawStr<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RawStr<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.units().cmp(other.units())
    }
}

/// The UTF-16 code units of a [`RawStr`].
struct Units<'a> {
    chars: std::str::Chars<'a>,
    /// The second unit of a character outside the Basic Multilingual Plane.
    low: Option<u16>,
}

impl Iterator for Units<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        if let Some(low) = self.low.take() {
            return Some(low);
        }
        let c = self.chars.next()?;
        if c != '\\' {
            let mut buffer = [0; 2];
            let units = c.encode_utf16(&mut buffer);
            if let [high, low] = *units {
                self.low = Some(low);
                return Some(high);
            }
            return Some(buffer[0]);
        }
        Some(match self.chars.next() {
            Some('"') => 0x22,
            Some('\\') => 0x5c,
            Some('/') => 0x2f,
            Some('b') => 0x08,
            Some('f') => 0x0c,
            Some('n') => 0x0a,
            Some('r') => 0x0d,
            Some('t') => 0x09,
            Some('u') => {
                let hex = self.chars.as_str().get(..4).unwrap_or_default();
                let unit = u16::from_str_radix(hex, 16).unwrap_or(0xfffd);
                for _ in 0..4 {
                    self.chars.next();
                }
                unit
            }
            // A RawStr's escapes were checked when it was read: not reached.
            _ => 0xfffd,
        })
    }
}

/// A JSON string the message needs (an event or entity id, a field name, the tenant
/// key), read from the raw text so that no legal JSON string makes a verified event
/// unreadable: borrowed from the request when it has no escape; decoded otherwise,
/// with any lone UTF-16 surrogate (`"od-\ud83d"`, legal JSON but not Unicode text)
/// kept as the six characters of its escape in lower case (`od-\ud83d`, written to
/// the message as `"od-\\ud83d"`). That rendering is stable across retries, so the
/// message id, the FIFO group and the deduplication id stay the same; it could only
/// collide with an id that literally contains a backslash followed by `ud83d`.
///
/// Deserializing it needs `serde_json`'s deserializer reading from a `&str` (it goes
/// through [`RawValue`]); anything but a JSON string is an `invalid type` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    /// The text, for the message.
    pub(crate) fn into_cow(self) -> Cow<'a, str> {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?.get().trim();
        match raw
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
        {
            Some(content) => Ok(Text(RawStr(content).text())),
            None => Err(D::Error::invalid_type(
                Unexpected::Other(raw.get(..1).unwrap_or("nothing")),
                &"a JSON string",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    /// The ids a contact v3 `old_object` carries only when it is full.
    const CONTACT: OldObject =
        OldObject::PartialUnlessItHas(&["open_department_id", "department_id"]);

    /// The changed keys of a partial `old_object` (without the ids).
    fn changed(before: &str, after: &str) -> Vec<String> {
        changed_by(CONTACT, before, after)
    }

    fn changed_by(old_object: OldObject, before: &str, after: &str) -> Vec<String> {
        let (before, after) = (raw(before), raw(after));
        changed_keys(&before, &after, old_object)
            .unwrap()
            .into_iter()
            .map(Cow::into_owned)
            .collect()
    }

    #[test]
    fn values_deeper_than_the_parser_builds_are_compared_as_text() {
        let nested =
            |depth: usize, leaf: &str| format!("{}{leaf}{}", "[".repeat(depth), "]".repeat(depth));
        for depth in [MAX_DEPTH, MAX_DEPTH + 1, 10_000] {
            let deep = nested(depth, r#"{"a":"]\"}"}"#);
            let other = nested(depth, r#"{"a":"]\"!"}"#);
            let before = format!(r#"{{"id":"x","deep":{deep},"same":{deep}}}"#);
            let after = format!(r#"{{"id":"y","deep":{other},"same":{deep}}}"#);
            assert_eq!(changed(&before, &after), ["deep", "id"], "depth {depth}");
        }
        // Past the depth, a scalar on its own is read to its end as well.
        let before = format!(r#"{{"n":{},"t":1}}"#, nested(MAX_DEPTH, "12.5e3"));
        let after = format!(r#"{{"n":{},"t":2}}"#, nested(MAX_DEPTH, "12.5e3"));
        assert_eq!(changed(&before, &after), ["t"]);
    }

    #[test]
    fn a_string_member_is_read_whatever_else_the_object_holds() {
        let member = |object: &str| {
            string_member(&raw(object), "open_id").map(|text| text.map(|t| t.0.into_owned()))
        };
        for (object, expected) in [
            (r#"{"open_id":"od_1"}"#, Ok(Some("od_1"))),
            (
                r#"{"name":"n","open_id":"od_1","x":[1,{"y":null}]}"#,
                Ok(Some("od_1")),
            ),
            // A lone surrogate in another key or value, or in the id itself.
            (
                r#"{"\ud83d":"x","open_id":"od_1","n":"\udc00"}"#,
                Ok(Some("od_1")),
            ),
            (r#"{"open_id":"od_\ud83d"}"#, Ok(Some(r"od_\ud83d"))),
            // The key is compared decoded.
            (r#"{"open\u005fid":"od_1"}"#, Ok(Some("od_1"))),
            (r#"{"name":"n"}"#, Ok(None)),
            (r#"{"open_id":null}"#, Ok(None)),
            (r#"{"open_ids":"od_1","open_i":"x"}"#, Ok(None)),
            (r#"{"open_id":7}"#, Err(NotOneString)),
            (r#"{"open_id":["od_1"]}"#, Err(NotOneString)),
            (r#"{"open_id":"a","open_id":"b"}"#, Err(NotOneString)),
            (r#"{"open_id":null,"open_id":"b"}"#, Err(NotOneString)),
            (r#"["open_id","od_1"]"#, Err(NotOneString)),
        ] {
            assert_eq!(
                member(object),
                expected.map(|id| id.map(str::to_owned)),
                "{object}"
            );
        }
    }

    #[test]
    fn lists_the_keys_of_before_that_differ_or_are_gone_sorted_not_keys_only_in_after() {
        assert_eq!(
            changed(
                r#"{"name":"A","seq":0,"parent_id":"p1","gone":1}"#,
                r#"{"seq":0,"name":"B","parent_id":"p2","new":true}"#
            ),
            ["gone", "name", "parent_id"]
        );
    }

    #[test]
    fn a_full_old_object_lists_a_field_set_for_the_first_time() {
        // Feilian omits a field without a value: `update_time` appears, `name` changes.
        assert_eq!(
            changed_by(
                OldObject::Full,
                r#"{"open_id":"od_1","name":"A","seq":1}"#,
                r#"{"open_id":"od_1","name":"B","seq":1,"update_time":1740385174}"#
            ),
            ["name", "update_time"]
        );
        // A contact v3 old_object with the department's own id is full: a first chat.
        let before = r#"{"open_department_id":"od-1","name":"Platform"}"#;
        let after = r#"{"open_department_id":"od-1","name":"Platform","chat_id":"oc_1"}"#;
        assert_eq!(changed(before, after), ["chat_id"]);
        let before = r#"{"department_id":"D1","name":"Platform"}"#;
        let after = r#"{"department_id":"D1","name":"Platform","chat_id":"oc_1"}"#;
        assert_eq!(changed(before, after), ["chat_id"]);
        // The id's key is compared decoded, like every key.
        let before = r#"{"open\u005fdepartment_id":"od-1"}"#;
        assert_eq!(
            changed(before, r#"{"open_department_id":"od-1","x":1}"#),
            ["x"]
        );
    }

    #[test]
    fn a_partial_old_object_lists_only_its_own_changed_keys() {
        // contact.department.updated_v3: `old_object` holds only the previous values.
        let after = r#"{"name":"Platform Engineering","open_department_id":"od-1","order":"100","status":{"is_deleted":false}}"#;
        assert_eq!(changed(r#"{"name":"Platform"}"#, after), ["name"]);
        // A key whose previous value equals the current one did not change.
        assert_eq!(
            changed(r#"{"name":"Platform","order":"100"}"#, after),
            ["name"]
        );
        assert!(changed("{}", after).is_empty());
    }

    #[test]
    fn compares_values_not_spelling() {
        assert!(
            changed(
                r#"{"a": {"x": 1, "y": [1, 2]}, "b": "A", "c": "😀", "d": 1.0, "e": "\/"}"#,
                r#"{"a":{"y":[1,2],"x":1},"b":"\u0041","c":"\ud83d\ude00","d":1.00,"e":"/"}"#
            )
            .is_empty()
        );
        // As serde_json::Number compares: an integer is not a float.
        assert_eq!(changed(r#"{"n": 1}"#, r#"{"n": 1.0}"#), ["n"]);
        assert!(changed(r#"{"n": 1e2}"#, r#"{"n": 100.0}"#).is_empty());
        assert_eq!(changed(r#"{"n": 1e400}"#, r#"{"n": 1e401}"#), ["n"]);
        assert!(changed(r#"{"n": 1e400}"#, r#"{"n": 1e400}"#).is_empty());
        // Integers beyond 64 bits, which an f64 cannot tell apart.
        let (big, next) = ("18446744073709551616", "18446744073709551617");
        assert_eq!(
            changed(
                &format!(r#"{{"n": {big}}}"#),
                &format!(r#"{{"n": {next}}}"#)
            ),
            ["n"]
        );
        assert_eq!(
            changed(
                r#"{"n": -9223372036854775809}"#,
                r#"{"n": -9223372036854775810}"#
            ),
            ["n"]
        );
        assert!(changed(&format!(r#"{{"n": {big}}}"#), &format!(r#"{{"n":{big}}}"#)).is_empty());
        assert_eq!(
            changed(
                &format!(r#"{{"n": {big}}}"#),
                r#"{"n": 18446744073709551616.0}"#
            ),
            ["n"]
        );
        // The largest integers serde_json holds exactly are still compared by value.
        assert_eq!(
            changed(
                r#"{"n": 18446744073709551615}"#,
                r#"{"n": 18446744073709551614}"#
            ),
            ["n"]
        );
        assert!(
            changed(
                r#"{"n": -9223372036854775808}"#,
                r#"{"n":-9223372036854775808}"#
            )
            .is_empty()
        );
        // Of duplicate keys the last counts.
        assert!(changed(r#"{"k": 1, "k": 2}"#, r#"{"k": 2}"#).is_empty());
        // null is a value: a key holding null is not an absent key.
        assert_eq!(changed(r#"{"k": null}"#, r#"{}"#), ["k"]);
        assert!(changed(r#"{"k": null}"#, r#"{"k": null}"#).is_empty());
    }

    #[test]
    fn lone_surrogates_compare_as_code_units() {
        let cut = r#"{"name":"Growth \ud83d","seq":1}"#;
        assert!(changed(cut, r#"{"seq":1,"name":"Growth \uD83D"}"#).is_empty());
        assert_eq!(changed(cut, r#"{"name":"Growth 😀","seq":1}"#), ["name"]);
        assert_eq!(changed(r#"{"name":"Growth"}"#, cut), ["name"]);
        // A lone high surrogate followed by a character is not a pair.
        assert_eq!(
            changed(r#"{"a":"\ud83dx"}"#, r#"{"a":"\ud83d\u0078 "}"#),
            ["a"]
        );
        // A key with a lone surrogate is listed as its escape.
        assert_eq!(changed(r#"{"k\udc00":1}"#, r#"{}"#), [r"k\udc00"]);
    }

    #[test]
    fn rejects_snapshots_that_are_not_objects() {
        for old_object in [OldObject::Full, CONTACT] {
            assert_eq!(
                changed_keys(&raw("[1]"), &raw("{}"), old_object),
                Err(SnapshotError)
            );
            assert_eq!(
                changed_keys(&raw("{}"), &raw("\"x\""), old_object),
                Err(SnapshotError)
            );
        }
        assert!(!is_object(&raw("[1]")) && is_object(&raw("{}")));
    }

    #[test]
    fn the_rule_per_action() {
        let before = raw(r#"{"open_id":"od_1","name":"Old","seq":3}"#);
        let after = raw(r#"{"open_id":"od_1","delete_time":1740471574}"#);
        let fields = |action, listed: Option<Vec<Cow<'static, str>>>| {
            changed_fields(action, listed, Some(&before), Some(&after), OldObject::Full).unwrap()
        };
        assert_eq!(
            fields(Action::Updated, None),
            ["delete_time", "name", "seq"]
        );
        assert!(fields(Action::Created, None).is_empty());
        assert!(fields(Action::Deleted, None).is_empty());
        // A list the platform sends is taken as received, unsorted, for every action.
        let listed = || Some(vec![Cow::Borrowed("seq"), Cow::Borrowed("name")]);
        assert_eq!(fields(Action::Deleted, listed()), ["seq", "name"]);
        assert_eq!(fields(Action::Updated, listed()), ["seq", "name"]);
        // An update with one snapshot only: nothing to compare.
        assert!(
            changed_fields(Action::Updated, None, None, Some(&after), OldObject::Full)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            changed_fields(
                Action::Updated,
                None,
                Some(&raw("[]")),
                Some(&after),
                OldObject::Full
            ),
            Err(SnapshotError)
        );
    }

    #[test]
    fn text_keeps_lone_surrogates_as_their_escape() {
        fn text(json: &str) -> Cow<'_, str> {
            serde_json::from_str::<Text<'_>>(json).unwrap().into_cow()
        }
        assert!(matches!(text(r#""od-1""#), Cow::Borrowed("od-1")));
        assert_eq!(text(r#""\u0041\n\"""#), "A\n\"");
        assert_eq!(text(r#""\ud83d\ude00""#), "😀");
        assert_eq!(text(r#""od-\uD83D""#), r"od-\ud83d");
        assert_eq!(text(r#""\ude00\ud83d""#), r"\ude00\ud83d");
        // Inside a struct, as an option, in a list.
        #[derive(serde::Deserialize)]
        struct Body<'a> {
            #[serde(borrow)]
            id: Option<Text<'a>>,
            #[serde(borrow)]
            fields: Vec<Text<'a>>,
        }
        let body: Body =
            serde_json::from_str(r#"{"id": "a\udc00", "fields": ["x", "\ud800"]}"#).unwrap();
        assert_eq!(body.id, Some(Text(Cow::Borrowed(r"a\udc00"))));
        assert_eq!(body.fields[1].0, r"\ud800");
        let null: Body = serde_json::from_str(r#"{"id": null, "fields": []}"#).unwrap();
        assert_eq!(null.id, None);
        assert!(serde_json::from_str::<Body>(r#"{"id": 7, "fields": []}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"id": "x", "fields": [{}]}"#).is_err());
    }
}
