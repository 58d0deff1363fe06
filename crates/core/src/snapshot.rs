//! Before/after snapshots (`old_object` / `object`) as the platforms send them.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The top-level keys whose values differ between two JSON objects (a key present
/// in only one of them differs), sorted. Used when a platform sends both snapshots
/// but no list of changed fields (contact v3; Feilian when the list is missing).
pub fn changed_keys(
    before: &RawValue,
    after: &RawValue,
) -> Result<Vec<Cow<'static, str>>, serde_json::Error> {
    let before: Map<String, Value> = serde_json::from_str(before.get())?;
    let after: Map<String, Value> = serde_json::from_str(after.get())?;
    let mut keys: Vec<Cow<'static, str>> = before
        .iter()
        .filter(|(key, value)| after.get(key.as_str()) != Some(value))
        .map(|(key, _)| key)
        .chain(
            after
                .keys()
                .filter(|key| !before.contains_key(key.as_str())),
        )
        .map(|key| Cow::Owned(key.clone()))
        .collect();
    keys.sort_unstable();
    Ok(keys)
}

/// Whether a raw value is a JSON object, as every snapshot must be.
pub fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn lists_changed_added_and_removed_keys_sorted() {
        let before = raw(r#"{"name":"A","seq":0,"parent_id":"p1","gone":1}"#);
        let after = raw(r#"{"seq":0,"name":"B","parent_id":"p2","new":true}"#);
        assert_eq!(
            changed_keys(&before, &after).unwrap(),
            ["gone", "name", "new", "parent_id"]
        );
    }

    #[test]
    fn compares_values_not_spelling() {
        let before = raw(r#"{"a": {"x": 1, "y": [1, 2]}}"#);
        let after = raw(r#"{"a":{"y":[1,2],"x":1}}"#);
        assert!(changed_keys(&before, &after).unwrap().is_empty());
    }

    #[test]
    fn rejects_snapshots_that_are_not_objects() {
        assert!(changed_keys(&raw("[1]"), &raw("{}")).is_err());
        assert!(!is_object(&raw("[1]")) && is_object(&raw("{}")));
    }
}
