//! Classifies a batch read's answer (`docs/current-object.md`, "Common error codes"; the
//! classes are ours).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::Api;

/// Expired (99991663), invalid (99991665) or malformed (99991671) tenant token. Only a new
/// token fixes these.
const TOKEN_CODES: [i64; 3] = [99991663, 99991665, 99991671];

/// Outside the app's data permission range: an answer about the object that no retry changes.
pub(crate) const FORBIDDEN: i64 = 1160103;

/// What an answer says.
#[derive(Debug)]
pub(crate) enum Answer<'a> {
    /// The objects found, by id, as raw text.
    Items(HashMap<String, &'a RawValue>),
    /// Renew the token and try once more.
    TokenRefused(i64),
    /// Not the app's to read.
    Forbidden(i64),
    /// Transient, or for an operator to fix. Says what came back.
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
    /// Absent when empty (`omitempty` in the SDK's model).
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

/// Which id counts depends on the API.
#[derive(Deserialize)]
struct ItemIds {
    id: Option<String>,
    org_id: Option<String>,
}

/// By `code` first, then by HTTP status: the pages give no status per common code.
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
        // Fails the records: SQS retries, then parks them in the dead-letter queue with an
        // alarm. 1160102 (bad parameter) is our bug, which `not_found` would hide. Scope codes
        // (99991672) are for an operator to fix before redriving.
        Some(code) => Answer::Failed(format!("HTTP {status}, code {code}: {msg}")),
        None => Answer::Failed(format!("HTTP {status}, no code")),
    }
}

/// Keyed by each item's own id, never its position. The first of a repeated id wins.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn items(answer: Answer<'_>) -> Vec<(String, String)> {
        let Answer::Items(items) = answer else {
            panic!("expected items, got {answer:?}");
        };
        let mut items: Vec<_> = items
            .into_iter()
            .map(|(id, item)| (id, item.get().to_owned()))
            .collect();
        items.sort();
        items
    }

    #[test]
    fn items_are_kept_by_their_own_id_as_raw_text() {
        let body = br#"{"code":0,"msg":"success","data":{"items":[{"id":"2", "n": 1.0},{"id":"1"},{"no_id":true},{"id":"2","n":2}]}}"#;
        assert_eq!(
            items(read(Api::Departments, 200, body)),
            [
                ("1".to_owned(), r#"{"id":"1"}"#.to_owned()),
                ("2".to_owned(), r#"{"id":"2", "n": 1.0}"#.to_owned())
            ]
        );
        let orgs = br#"{"code":0,"data":{"items":[{"id":"x","org_id":"7"}],"has_more":false}}"#;
        assert_eq!(items(read(Api::CustomOrgs, 200, orgs))[0].0, "7");
    }

    #[test]
    fn an_empty_answer_may_lack_items_or_data() {
        for body in [
            &br#"{"code":0,"data":{"items":[]}}"#[..],
            br#"{"code":0,"data":{}}"#,
            br#"{"code":0,"msg":"ok"}"#,
        ] {
            assert_eq!(items(read(Api::Departments, 200, body)), []);
        }
    }

    #[test]
    fn codes_decide_before_statuses() {
        let class = |status, body: &str| match read(Api::Departments, status, body.as_bytes()) {
            Answer::Items(_) => "items".to_owned(),
            Answer::TokenRefused(code) => format!("token {code}"),
            Answer::Forbidden(code) => format!("forbidden {code}"),
            Answer::Failed(what) => what,
        };
        assert_eq!(
            class(200, r#"{"code":99991663,"msg":"Invalid access token"}"#),
            "token 99991663"
        );
        assert_eq!(class(401, r#"{"code":99991665}"#), "token 99991665");
        assert_eq!(class(400, r#"{"code":99991671}"#), "token 99991671");
        assert_eq!(
            class(403, r#"{"code":1160103,"msg":"鉴权失败"}"#),
            "forbidden 1160103"
        );
        assert_eq!(
            class(
                429,
                r#"{"code":99991400,"msg":"request trigger frequency limit"}"#
            ),
            "HTTP 429, code 99991400: request trigger frequency limit"
        );
        assert_eq!(
            class(400, r#"{"code":99991400,"msg":"x"}"#),
            "HTTP 400, code 99991400: x"
        );
        assert_eq!(
            class(400, r#"{"code":1160102,"msg":"参数错误"}"#),
            "HTTP 400, code 1160102: 参数错误"
        );
        assert_eq!(
            class(400, r#"{"code":99991661,"msg":"Need a token"}"#),
            "HTTP 400, code 99991661: Need a token"
        );
        assert_eq!(
            class(502, "<html>Bad Gateway</html>"),
            "HTTP 502, not the API's JSON"
        );
        assert_eq!(class(200, "{}"), "HTTP 200, no code");
        assert_eq!(class(503, r#"{"code":0}"#), "HTTP 503 with code 0");
        assert_eq!(
            class(200, r#"{"code":0,"data":{"items":{}}}"#),
            "HTTP 200, not the API's JSON"
        );
    }

    #[test]
    fn a_long_msg_is_cut() {
        let long = "é".repeat(500);
        assert_eq!(short(&long).chars().count(), 201);
        assert_eq!(short("ok"), "ok");
    }
}
