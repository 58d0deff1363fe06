//! The enriched body: the relay's bytes, with the added fields inserted before the final
//! `}`, so that every other field stays byte for byte, a lone surrogate escape included.

use std::time::SystemTime;

use org_change_contract::{CurrentMissing, MissingReason};
use serde_json::value::RawValue;

/// What the enricher adds to one message.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Current<'a> {
    /// The object as the API returned it, and when the answer came.
    Found { item: &'a RawValue, at: SystemTime },
    /// No object, and why.
    Missing(CurrentMissing),
}

impl Current<'_> {
    /// No object because of `reason`, with the platform's `code` if it gave one.
    pub(crate) fn missing(reason: MissingReason, code: Option<i64>) -> Current<'static> {
        Current::Missing(CurrentMissing { reason, code })
    }
}

/// `body` with `current`, `current_at` and `current_missing` added; `None` if `body` is
/// not a JSON object's text (a relay message always is).
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
                item.get(),
                serde_json::to_string(&at).ok()?,
                "null".to_owned(),
            )
        }
        Current::Missing(missing) => (
            "null",
            "null".to_owned(),
            serde_json::to_string(&missing).ok()?,
        ),
    };
    Some(format!(
        "{head},\"current\":{item},\"current_at\":{at},\"current_missing\":{missing}}}{tail}"
    ))
}
