//! Inserts the added fields before the body's final `}`, so every other field stays byte for
//! byte, lone surrogate escapes included.

use std::borrow::Cow;
use std::time::SystemTime;

use org_change_contract::{CurrentMissing, MissingReason};
use serde_json::value::RawValue;

/// What the enricher adds to one message.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Current<'a> {
    /// The object as returned, and when the answer came.
    Found { item: &'a RawValue, at: SystemTime },
    /// No object, and why.
    Missing(CurrentMissing),
}

impl Current<'_> {
    /// With the platform's `code` if it gave one.
    pub(crate) fn missing(reason: MissingReason, code: Option<i64>) -> Current<'static> {
        Current::Missing(CurrentMissing { reason, code })
    }
}

/// `None` if `body` is not a JSON object (a relay message always is).
pub(crate) fn merge(body: &str, current: Current<'_>) -> Option<String> {
    let end = body.trim_end().len();
    let (head, tail) = body.split_at(end);
    let head = head.strip_suffix('}')?;
    if head.trim_end().ends_with('{') {
        return None;
    }
    let (item, at, missing) = match current {
        Current::Found { item, at } => {
            let at = humantime::format_rfc3339_millis(at).to_string();
            (
                sqs_text(item.get()),
                serde_json::to_string(&at).ok()?,
                "null".to_owned(),
            )
        }
        Current::Missing(missing) => (
            Cow::Borrowed("null"),
            "null".to_owned(),
            serde_json::to_string(&missing).ok()?,
        ),
    };
    Some(format!(
        "{head},\"current\":{item},\"current_at\":{at},\"current_missing\":{missing}}}{tail}"
    ))
}

/// Escapes U+FFFE and U+FFFF, which Amazon SQS refuses (`docs/protocol.md`, "Amazon SQS
/// limits"). Valid JSON holds them only inside strings, where the escape means the same. It
/// holds no other character SQS refuses.
fn sqs_text(text: &str) -> Cow<'_, str> {
    if !text.contains(['\u{fffe}', '\u{ffff}']) {
        return Cow::Borrowed(text);
    }
    let escaped = text
        .replace('\u{fffe}', "\\ufffe")
        .replace('\u{ffff}', "\\uffff");
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const BODY: &str = r#"{"id":"feishu:e","tenant_key":"t\ud83d","after":null}"#;

    #[test]
    fn the_fields_go_before_the_final_brace_and_nothing_else_moves() {
        let item = RawValue::from_string(r#"{"id": "1",  "a": [1.0]}"#.to_owned()).expect("JSON");
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_608_725_989_007);
        let merged = merge(BODY, Current::Found { item: &item, at });
        assert_eq!(
            merged.as_deref(),
            Some(
                r#"{"id":"feishu:e","tenant_key":"t\ud83d","after":null,"current":{"id": "1",  "a": [1.0]},"current_at":"2020-12-23T12:19:49.007Z","current_missing":null}"#
            )
        );
    }

    #[test]
    fn a_missing_object_says_why_and_trailing_space_stays() {
        let body = format!("{BODY}\n");
        let merged = merge(
            &body,
            Current::missing(MissingReason::Forbidden, Some(1160103)),
        );
        assert_eq!(
            merged.as_deref(),
            Some(
                "{\"id\":\"feishu:e\",\"tenant_key\":\"t\\ud83d\",\"after\":null,\"current\":null,\"current_at\":null,\"current_missing\":{\"reason\":\"forbidden\",\"code\":1160103}}\n"
            )
        );
        let deleted = merge("{\"a\":1}", Current::missing(MissingReason::Deleted, None));
        assert_eq!(
            deleted.as_deref(),
            Some(
                r#"{"a":1,"current":null,"current_at":null,"current_missing":{"reason":"deleted","code":null}}"#
            )
        );
    }

    #[test]
    fn text_that_is_no_object_is_not_merged() {
        let missing = Current::missing(MissingReason::NotFound, None);
        for body in ["[1]", "{ }", "", "\"}\""] {
            assert_eq!(merge(body, missing), None, "{body}");
        }
    }

    #[test]
    fn characters_sqs_refuses_in_the_item_are_escaped() {
        let item =
            RawValue::from_string("{\"name\":\"a\u{ffff}b\u{fffe}\"}".to_owned()).expect("JSON");
        let merged = merge(
            "{\"a\":1}",
            Current::Found {
                item: &item,
                at: SystemTime::UNIX_EPOCH,
            },
        );
        let merged = merged.expect("merged");
        assert!(
            merged.contains(r#""current":{"name":"a\uffffb\ufffe"}"#),
            "{merged}"
        );
        let value: serde_json::Value = serde_json::from_str(&merged).expect("JSON");
        assert_eq!(value["current"]["name"], "a\u{ffff}b\u{fffe}");
    }
}
