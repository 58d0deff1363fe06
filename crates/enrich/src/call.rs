//! One batch read for one app: within its rate limit, with its token, renewed once if refused.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::answer::{self, Answer};
use crate::api::Api;
use crate::app::App;
use crate::limit::RateLimit;
use crate::token::{self, TokenCache};
use crate::transport::Transport;

/// Kept per app across invocations.
#[derive(Default)]
pub(crate) struct AppState {
    token: TokenCache,
    limits: HashMap<Api, RateLimit>,
}

/// An answer whose token was taken.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// The `current_at` of what it holds.
    pub(crate) at: SystemTime,
}

/// POSTs `request` to `api` for `app`. `Err` fails every record of the call; it names the
/// app, the call and the platform's code, never a secret.
pub(crate) async fn call<T: Transport>(
    transport: &T,
    app: &App,
    state: &mut AppState,
    share: f64,
    api: Api,
    request: &[u8],
) -> Result<Reply, String> {
    let url = api.url(&app.api_base);
    let fail = |what: String| format!("app {}, {}: {what}", app.app_id, api.name());
    let mut refused = None;
    for _ in 0..2 {
        let token = token(transport, app, &mut state.token).await?;
        let limit = state
            .limits
            .entry(api)
            .or_insert_with(|| RateLimit::new(api.caps(), share));
        within(transport, limit).await;
        let (status, body) = transport
            .post(&url, Some(&token), request)
            .await
            .map_err(|err| fail(format!("no answer: {err}")))?;
        let at = transport.now();
        if let Answer::TokenRefused(code) = answer::read(api, status, &body) {
            // The cached token may be the refused one: fetch a new one, once.
            state.token.clear();
            refused = Some(code);
            continue;
        }
        return Ok(Reply { status, body, at });
    }
    let code = refused.unwrap_or_default();
    Err(fail(format!(
        "token refused again after renewal, code {code}"
    )))
}

/// The cached token, or a new one.
async fn token<T: Transport>(
    transport: &T,
    app: &App,
    cache: &mut TokenCache,
) -> Result<String, String> {
    if let Some(token) = cache.get(transport.now()) {
        return Ok(token.to_owned());
    }
    let (token, expire) = token::fetch(transport, app).await.map_err(|why| {
        format!(
            "app {}, auth/v3/tenant_access_token/internal: {why}",
            app.app_id
        )
    })?;
    cache.put(token.clone(), expire, transport.now());
    Ok(token)
}

/// Waits until `limit` allows a call, then counts it.
async fn within<T: Transport>(transport: &T, limit: &mut RateLimit) {
    loop {
        let now = transport.now();
        let wait = limit.wait(now);
        if wait.is_zero() {
            limit.record(now);
            return;
        }
        transport.sleep(wait).await;
    }
}
