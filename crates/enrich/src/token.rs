//! The app's `tenant_access_token`: fetched from `auth/v3/tenant_access_token/internal`,
//! kept for the `expire` it came with minus a margin (`docs/current-object.md`, "Token").

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::transport::Transport;

/// Renew this long before the token expires. The SDKs use 3 to 10 minutes; this covers
/// one call's duration and clock skew with room to spare.
pub(crate) const MARGIN: Duration = Duration::from_secs(5 * 60);

/// One app's token, if it holds one still valid. No `Debug`: it holds the token.
#[derive(Default)]
pub(crate) struct TokenCache {
    token: Option<(String, SystemTime)>,
}

impl TokenCache {
    /// The token, if it is still good at `now`.
    pub(crate) fn get(&self, now: SystemTime) -> Option<&str> {
        let (token, until) = self.token.as_ref()?;
        (now < *until).then_some(token.as_str())
    }

    /// Keeps `token`, valid for `expire` seconds from `now`, until the margin before that.
    /// A cold start can be handed a token with little left, hence `expire`, not 7200 s.
    pub(crate) fn put(&mut self, token: String, expire: u64, now: SystemTime) {
        let left = Duration::from_secs(expire).saturating_sub(MARGIN);
        self.token = Some((token, now + left));
    }

    /// Forgets the token, after the platform refused it.
    pub(crate) fn clear(&mut self) {
        self.token = None;
    }
}

/// The token endpoint's request body.
#[derive(Serialize)]
struct TokenRequest<'a> {
    app_id: &'a str,
    app_secret: &'a str,
}

/// The token endpoint's answer; the token and `expire` sit at the top level.
#[derive(Deserialize)]
struct TokenAnswer {
    code: Option<i64>,
    #[serde(default)]
    msg: String,
    tenant_access_token: Option<String>,
    expire: Option<u64>,
}

/// Asks the platform for `app`'s token: the token and its `expire` in seconds, or why not.
/// The reason names the call and the code, never the secret nor a token.
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
        Ok(TokenAnswer { code, msg, .. }) => Err(format!(
            "HTTP {status}, code {}: {}",
            code.map_or("none".to_owned(), |c| c.to_string()),
            crate::answer::short(&msg)
        )),
        Err(_) => Err(format!("HTTP {status}, not the token's JSON")),
    }
}
