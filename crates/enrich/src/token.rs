//! The app's `tenant_access_token`, kept for its `expire` minus a margin
//! (`docs/current-object.md`, "Token").

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::transport::Transport;

/// The SDKs renew 3 to 10 minutes early. This covers one call's duration and clock skew
/// with room to spare.
pub(crate) const MARGIN: Duration = Duration::from_secs(5 * 60);

/// No `Debug`: it holds the token.
#[derive(Default)]
pub(crate) struct TokenCache {
    token: Option<(String, SystemTime)>,
}

impl TokenCache {
    /// The token, if still good at `now`.
    pub(crate) fn get(&self, now: SystemTime) -> Option<&str> {
        let (token, until) = self.token.as_ref()?;
        (now < *until).then_some(token.as_str())
    }

    /// Keeps `token` until [`MARGIN`] before its `expire` seconds run out. A cold start can
    /// be handed a token with little left, hence `expire`, not 7200 s.
    pub(crate) fn put(&mut self, token: String, expire: u64, now: SystemTime) {
        let left = Duration::from_secs(expire).saturating_sub(MARGIN);
        self.token = Some((token, now + left));
    }

    /// Forgets the token, after the platform refused it.
    pub(crate) fn clear(&mut self) {
        self.token = None;
    }
}

#[derive(Serialize)]
struct TokenRequest<'a> {
    app_id: &'a str,
    app_secret: &'a str,
}

/// The token and `expire` sit at the top level.
#[derive(Deserialize)]
struct TokenAnswer {
    code: Option<i64>,
    #[serde(default)]
    msg: String,
    tenant_access_token: Option<String>,
    expire: Option<u64>,
}

/// `app`'s token and its `expire` in seconds. The error names the call and the code, never
/// the secret nor a token.
pub(crate) async fn fetch<T: Transport>(transport: &T, app: &App) -> Result<(String, u64), String> {
    let url = format!(
        "{}/open-apis/auth/v3/tenant_access_token/internal",
        app.api_base
    );
    let request = TokenRequest {
        app_id: &app.app_id,
        app_secret: &app.app_secret,
    };
    let body = serde_json::to_vec(&request).unwrap_or_default();
    let (status, answer) = transport
        .post(&url, None, &body)
        .await
        .map_err(|err| format!("no answer: {err}"))?;
    // Any non-zero code means no token; the HTTP status is not documented per code.
    match serde_json::from_slice::<TokenAnswer>(&answer) {
        Ok(TokenAnswer {
            code: Some(0),
            tenant_access_token: Some(token),
            expire: Some(expire),
            ..
        }) if !token.is_empty() => Ok((token, expire)),
        Ok(TokenAnswer { code: Some(0), .. }) => {
            Err(format!("HTTP {status}, code 0 without a token"))
        }
        Ok(TokenAnswer {
            code: Some(code),
            msg,
            ..
        }) => Err(format!(
            "HTTP {status}, code {code}: {}",
            crate::answer::short(&msg)
        )),
        Ok(TokenAnswer { code: None, .. }) => Err(format!("HTTP {status}, no code")),
        Err(_) => Err(format!("HTTP {status}, not the token's JSON")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, SECRET, app, run, start};

    #[test]
    fn a_token_is_kept_for_its_expire_minus_the_margin() {
        let mut cache = TokenCache::default();
        assert_eq!(cache.get(start()), None);
        cache.put("t-1".to_owned(), 7200, start());
        let kept = Duration::from_secs(7200) - MARGIN;
        assert_eq!(
            cache.get(start() + kept - Duration::from_millis(1)),
            Some("t-1")
        );
        assert_eq!(cache.get(start() + kept), None);
        cache.clear();
        assert_eq!(cache.get(start()), None);
    }

    #[test]
    fn a_token_with_less_than_the_margin_left_is_not_kept() {
        let mut cache = TokenCache::default();
        cache.put("t-1".to_owned(), 120, start());
        assert_eq!(cache.get(start()), None);
    }

    #[test]
    fn the_token_call_sends_the_credentials_and_reads_the_top_level_token() {
        let fake = Fake::default();
        let got = run(fetch(&fake, &app("feishu", "cli_a")));
        assert_eq!(got, Ok(("t-1".to_owned(), 7200)));
        let posts = fake.posts("");
        assert_eq!(
            posts[0].url,
            "http://api.test/open-apis/auth/v3/tenant_access_token/internal"
        );
        assert_eq!(posts[0].bearer, None);
        assert_eq!(
            posts[0].body,
            serde_json::json!({"app_id": "cli_a", "app_secret": SECRET})
        );
    }

    #[test]
    fn no_token_says_why_without_the_secret() {
        let fake = Fake::default();
        fake.tokens_answer([
            Ok((200, r#"{"code":10015,"msg":"wrong app secret"}"#.to_owned())),
            Ok((200, r#"{"code":0,"msg":"ok"}"#.to_owned())),
            Ok((502, "bad gateway".to_owned())),
            Err("connection refused".to_owned()),
        ]);
        let app = app("feishu", "cli_a");
        let reasons: Vec<String> = (0..4)
            .map(|_| run(fetch(&fake, &app)).expect_err("no token"))
            .collect();
        assert_eq!(
            reasons,
            [
                "HTTP 200, code 10015: wrong app secret",
                "HTTP 200, code 0 without a token",
                "HTTP 502, not the token's JSON",
                "no answer: connection refused",
            ]
        );
        assert!(reasons.iter().all(|r| !r.contains(SECRET)));
    }
}
