//! Reading a batch read's answer: its items by id, or what kind of failure it is
//! (`docs/current-object.md`, "Common error codes": the class split is ours).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::Api;

/// A tenant token the platform no longer takes: expired (99991663), invalid (99991665)
/// or malformed (99991671). A new token may fix them; nothing else does.
const TOKEN_CODES: [i64; 3] = [99991663, 99991665, 99991671];

/// The department is outside the app's data permission range: an answer about the
/// object, which no retry changes.
pub(crate) const FORBIDDEN: i64 = 1160103;

/// What an answer says.
#[derive(Debug)]
pub(crate) enum Answer<'a> {
    /// The objects found, by id, each as the raw text the API returned.
    Items(HashMap<String, &'a RawValue>),
    /// The token was refused: renew it and try once more.
    TokenRefused(i64),
    /// The objects are not the app's to read.
    Forbidden(i64),
    /// Anything else: transient, or a fault an operator must fix. Says what came back.
    Failed(String),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    code: Option<i64>,
    #[serde(default)]
    msg: String,
    #[serde(borrow, default)]
    data: Option<Data<'a>>,
}

#[derive(Deserialize)]
struct Data<'a> {
    /// Absent when empty: the SDK's model marks it `omitempty`.
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

/// The ids an item may carry; which one counts depends on the API.
#[derive(Deserialize)]
struct ItemIds {
    id: Option<String>,
    org_id: Option<String>,
}

/// Classifies the answer `status` / `body` of `api`: by `code` first, then by HTTP status,
/// since the pages give no status per common code.
pub(crate) fn read(api: Api, status: u16, body: &[u8]) -> Answer<'_> {
    let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(body) else {
        return Answer::Failed(format!("HTTP {status}, not the API's JSON"));
    };
    let msg = short(&envelope.msg);
    match envelope.code {
        Some(0) if (200..300).contains(&status) => {
            let items = envelope.data.and_then(|d| d.items).unwrap_or_default();
            Answer::Items(by_id(api, items))
        }
        Some(0) => Answer::Failed(format!("HTTP {status} with code 0")),
        Some(code) if TOKEN_CODES.contains(&code) => Answer::TokenRefused(code),
        Some(FORBIDDEN) => Answer::Forbidden(FORBIDDEN),
        Some(code) => Answer::Failed(format!("HTTP {status}, code {code}: {msg}")),
        None => Answer::Failed(format!("HTTP {status}, no code")),
    }
}

/// Each item under its own id, never its position; the first of two with one id wins.
fn by_id(api: Api, items: Vec<&RawValue>) -> HashMap<String, &RawValue> {
    let mut found = HashMap::new();
    for item in items {
        let Ok(ids) = serde_json::from_str::<ItemIds>(item.get()) else {
            continue;
        };
        let id = match api {
            Api::Departments => ids.id,
            Api::CustomOrgs => ids.org_id,
        };
        if let Some(id) = id {
            found.entry(id).or_insert(item);
        }
    }
    found
}

/// The platform's `msg`, cut to a log line's worth. It names scopes, never secrets.
pub(crate) fn short(msg: &str) -> String {
    const MAX: usize = 200;
    match msg.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &msg[..end]),
        None => msg.to_owned(),
    }
}
