//! Before/after snapshots (`old_object` / `object`) as the platforms send them, and
//! the JSON strings of a payload, read without requiring valid Unicode.
//!
//! JSON text may spell a string that is not valid Unicode: a lone UTF-16 surrogate
//! escape such as `"Growth \ud83d"` (an emoji cut in half) is legal JSON (RFC 8259,
//! section 8.2) but cannot be a Rust `String`. The relay must not refuse a verified
//! event for the content of a field it passes through. So keys and the strings a
//! message needs are read as bytes, where `serde_json` keeps a lone surrogate (as
//! WTF-8), and a value `serde_json` cannot read is compared by its raw text.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor,
};
use serde_json::Value;
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
/// differing from a present one, sorted by code point, as [`Text`] renders them. A
/// full `before` lists keys of either snapshot; a partial one only its own, since a
/// key only in `after` says nothing about a change there. Values compare as [`same`]
/// says. Of a repeated key the last one counts, as in `serde_json`.
///
/// # Errors
///
/// [`SnapshotError`] when either snapshot is not a JSON object.
pub(crate) fn changed_keys<'a>(
    before: &'a RawValue,
    after: &'a RawValue,
    old_object: OldObject,
) -> Result<Vec<Cow<'a, str>>, SnapshotError> {
    let (before, after) = (members(before)?, members(after)?);
    let full = match old_object {
        OldObject::Full => true,
        OldObject::PartialUnlessItHas(ids) => {
            ids.iter().any(|id| before.contains_key(id.as_bytes()))
        }
    };
    let changed = before
        .iter()
        .filter(|(key, value)| !after.get(*key).is_some_and(|other| same(value, other)))
        .map(|(key, _)| key);
    let only_after = after
        .keys()
        .filter(|key| full && !before.contains_key(*key));
    let mut keys: Vec<Cow<'a, str>> = changed
        .chain(only_after)
        .map(|key| wtf8_text(key.clone()))
        .collect();
    keys.sort_unstable();
    Ok(keys)
}

/// Whether two raw JSON values are equal as JSON: as `serde_json::Value`s, where key
/// order, whitespace and escapes do not matter, and `1` differs from `1.0`. A value
/// `serde_json` cannot read (a lone surrogate, `1e400`, nesting past its limit), or
/// holds only roughly (an integer beyond 64 bits, read as an `f64`), is compared by
/// its text. At worst a change is reported that JSON equality would not see; none is
/// hidden.
fn same(before: &RawValue, after: &RawValue) -> bool {
    if before.get() == after.get() {
        return true;
    }
    let read = |raw: &RawValue| {
        serde_json::from_str::<Value>(raw.get())
            .ok()
            .filter(|value| !rough(value))
    };
    matches!((read(before), read(after)), (Some(before), Some(after)) if before == after)
}

/// Whether `value` holds a number `serde_json` keeps only roughly: a whole `f64` of at
/// least 2^63, which is how it reads an integer beyond 64 bits.
fn rough(value: &Value) -> bool {
    match value {
        Value::Number(number) => number
            .as_f64()
            .is_some_and(|float| number.is_f64() && float.fract() == 0.0 && float.abs() >= 9.2e18),
        Value::Array(items) => items.iter().any(rough),
        Value::Object(members) => members.values().any(rough),
        _ => false,
    }
}

/// The members of a JSON object by key, keys as [`Key`] bytes.
fn members(object: &RawValue) -> Result<BTreeMap<Cow<'_, [u8]>, &RawValue>, SnapshotError> {
    serde_json::Deserializer::from_str(object.get())
        .deserialize_map(Members)
        .map_err(|_| SnapshotError)
}

/// Reads the members of a JSON object, the last of a repeated key counting.
struct Members;

impl<'de> Visitor<'de> for Members {
    type Value = BTreeMap<Cow<'de, [u8]>, &'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = BTreeMap::new();
        while let Some(Key(key)) = map.next_key()? {
            members.insert(key, map.next_value()?);
        }
        Ok(members)
    }
}

/// A JSON string as `serde_json` decodes it into bytes: its escapes decoded, a lone
/// surrogate kept as WTF-8, borrowed from the input when it has no escape.
struct Key<'de>(Cow<'de, [u8]>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(KeyBytes)
    }
}

struct KeyBytes;

impl<'de> Visitor<'de> for KeyBytes {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON string")
    }

    fn visit_borrowed_bytes<E>(self, bytes: &'de [u8]) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(bytes)))
    }

    fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(bytes.to_vec())))
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(text.as_bytes())))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(text.as_bytes().to_vec())))
    }
}

/// WTF-8 `bytes` as text, each lone surrogate written as the six characters of its
/// escape in lower case (`\ud83d`); borrowed when they are UTF-8.
fn wtf8_text(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    let bytes = match bytes {
        Cow::Borrowed(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => return Cow::Borrowed(text),
            Err(_) => bytes.to_vec(),
        },
        Cow::Owned(bytes) => match String::from_utf8(bytes) {
            Ok(text) => return Cow::Owned(text),
            Err(err) => err.into_bytes(),
        },
    };
    let mut text = String::with_capacity(bytes.len() + 6);
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let valid = match std::str::from_utf8(rest) {
            Ok(valid) => valid,
            Err(err) => std::str::from_utf8(&rest[..err.valid_up_to()]).unwrap_or_default(),
        };
        text.push_str(valid);
        rest = &rest[valid.len()..];
        // A surrogate is `ED A0..BF xx` in WTF-8; nothing else invalid comes from
        // serde_json, but a byte is skipped as U+FFFD rather than loop.
        match rest {
            [0xed, high, low, tail @ ..] => {
                let unit = 0xd000 | (u32::from(high & 0x3f) << 6) | u32::from(low & 0x3f);
                let _ = write!(text, "\\u{unit:04x}");
                rest = tail;
            }
            [] => {}
            [_, tail @ ..] => {
                text.push('\u{fffd}');
                rest = tail;
            }
        }
    }
    Cow::Owned(text)
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

/// A JSON string the message needs (an event or entity id, a field name, the tenant
/// key), read so that no legal JSON string makes a verified event unreadable:
/// borrowed from the request when it has no escape; decoded otherwise, with any lone
/// UTF-16 surrogate (`"od-\ud83d"`) kept as the six characters of its escape in lower
/// case (`od-\ud83d`). That rendering is stable across retries, so the message id and
/// the FIFO ids stay the same; it could only collide with an id that literally
/// contains a backslash followed by `ud83d`. Anything but a JSON string is an
/// `invalid type` error.
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
        let Key(bytes) = Key::deserialize(deserializer)?;
        Ok(Text(wtf8_text(bytes)))
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
    fn values_deeper_than_serde_json_reads_are_compared_as_text() {
        let nested =
            |depth: usize, leaf: &str| format!("{}{leaf}{}", "[".repeat(depth), "]".repeat(depth));
        // serde_json reads 128 levels; past that a value is compared by its text.
        for depth in [127, 128, 129, 10_000] {
            let deep = nested(depth, r#"{"a":"]\"}"}"#);
            let other = nested(depth, r#"{"a":"]\"!"}"#);
            let before = format!(r#"{{"id":"x","deep":{deep},"same":{deep}}}"#);
            let after = format!(r#"{{"id":"y","deep":{other},"same":{deep}}}"#);
            assert_eq!(changed(&before, &after), ["deep", "id"], "depth {depth}");
        }
        let before = format!(r#"{{"n":{},"t":1}}"#, nested(200, "12.5e3"));
        let after = format!(r#"{{"n":{},"t":2}}"#, nested(200, "12.5e3"));
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
    fn a_value_with_a_lone_surrogate_is_compared_by_its_text() {
        let cut = r#"{"name":"Growth \ud83d","seq":1}"#;
        assert!(changed(cut, r#"{"seq":1,"name":"Growth \ud83d"}"#).is_empty());
        // Another spelling of the same code unit: reported, never hidden.
        assert_eq!(
            changed(cut, r#"{"seq":1,"name":"Growth \uD83D"}"#),
            ["name"]
        );
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
