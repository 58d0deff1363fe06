//! Snapshots and the strings a message needs, read without requiring valid Unicode.
//!
//! A lone UTF-16 surrogate escape is legal JSON (RFC 8259, section 8.2) but no Rust `String`.
//! The relay must not refuse a verified event for a field it only passes through.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Action;

/// What an `old_object` holds (`docs/protocol.md`, "Changed fields").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OldObject {
    /// The whole previous record (Feilian), so a key only in `object` was set.
    Full,
    /// Only the changed fields' previous values (`contact.department.updated_v3`).
    /// Holding one of these never-changing ids marks a full record instead.
    PartialUnlessItHas(&'static [&'static str]),
}

/// The `changed_fields` of a message: the platform's list, if it sent one.
/// Else an update lists the keys whose value differs, and a creation or deletion none.
pub(crate) fn changed_fields<'a>(
    action: Action,
    listed: Option<Vec<Cow<'a, str>>>,
    before: Option<&'a RawValue>,
    after: Option<&'a RawValue>,
    old_object: OldObject,
) -> Vec<Cow<'a, str>> {
    match (listed, action, before, after) {
        (Some(listed), ..) => listed,
        (None, Action::Updated, Some(before), Some(after)) => {
            changed_keys(before, after, old_object)
        }
        _ => Vec::new(),
    }
}

/// The top-level keys whose value differs between `before` and `after`, sorted.
/// A partial `before` lists only its own keys, as one only in `after` proves no change.
pub(crate) fn changed_keys<'a>(
    before: &'a RawValue,
    after: &'a RawValue,
    old_object: OldObject,
) -> Vec<Cow<'a, str>> {
    // The last of a repeated key counts, as in `serde_json::Value`.
    let object = |raw| BTreeMap::from_iter(members(raw).unwrap_or_default());
    let (before, after) = (object(before), object(after));
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
    keys
}

/// Whether two raw JSON values are equal as `serde_json::Value`s, else as text.
/// At worst a change is reported that JSON equality would not see, but none is hidden.
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

/// Whether `value` holds an integer beyond 64 bits, which `serde_json` reads as an `f64`.
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

/// The members of a JSON object in the order written.
pub(crate) fn members(object: &RawValue) -> Option<Members<'_>> {
    serde_json::Deserializer::from_str(object.get())
        .deserialize_map(ReadMembers)
        .ok()
}

/// Each key decoded to bytes, a lone surrogate kept as WTF-8; each value raw.
pub(crate) type Members<'a> = Vec<(Cow<'a, [u8]>, &'a RawValue)>;

struct ReadMembers;

impl<'de> Visitor<'de> for ReadMembers {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some((Key(key), value)) = map.next_entry()? {
            members.push((key, value));
        }
        Ok(members)
    }
}

/// A JSON string decoded into bytes, a lone surrogate kept as WTF-8.
/// `serde_json` hands a string asked for as bytes to `visit_bytes`, never to `visit_str`.
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
}

/// WTF-8 `bytes` as text, each lone surrogate written as its escape in lower case.
fn wtf8_text(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    if let Cow::Borrowed(bytes) = bytes
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        return Cow::Borrowed(text);
    }
    let mut text = String::with_capacity(bytes.len() + 6);
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let valid = match std::str::from_utf8(rest) {
            Ok(valid) => valid,
            Err(err) => std::str::from_utf8(&rest[..err.valid_up_to()]).unwrap_or_default(),
        };
        text.push_str(valid);
        rest = &rest[valid.len()..];
        // A surrogate is `ED A0..BF xx` in WTF-8; nothing else invalid comes from serde_json.
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

/// The entity id of a change: the string member `field` of `after`, else of `before`.
/// A member that is not one string is an error, never replaced by the other's.
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

/// The member `field` of `object`: `None` when absent or `null`, an error when not one string.
/// No other member is decoded, so a lone surrogate elsewhere changes nothing.
pub(crate) fn string_member<'a>(
    object: &'a RawValue,
    field: &str,
) -> Result<Option<Text<'a>>, NotOneString> {
    let members = members(object).ok_or(NotOneString)?;
    let mut found = members
        .into_iter()
        .filter(|(key, _)| **key == *field.as_bytes());
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some((_, value)), None) => serde_json::from_str(value.get()).map_err(|_| NotOneString),
        (Some(_), Some(_)) => Err(NotOneString),
    }
}

/// Whether a raw value is a JSON object, as every snapshot must be.
pub(crate) fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

/// A JSON string the message needs, a lone surrogate kept as its escape in lower case.
/// That rendering is stable across retries, so the message and FIFO ids stay the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
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
#[path = "tests/snapshot.rs"]
mod tests;
