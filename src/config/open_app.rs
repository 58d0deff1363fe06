//! The app credentials of Feishu endpoints, for the optional enricher that reads the current
//! object from the platform's API (`docs/current-object.md`). The relay only validates them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use super::{ConfigError, http_url, invalid};

/// The fields of an `ENDPOINTS` entry that configure an app. The default endpoint's
/// variables are `FEISHU_` and the field's name in capitals.
pub const FIELDS: [&str; 3] = [APP_ID, APP_SECRET, API_HOST];
pub(crate) const APP_ID: &str = "app_id";
pub(crate) const APP_SECRET: &str = "app_secret";
pub(crate) const API_HOST: &str = "api_host";

/// The API hosts (`docs/current-object.md`, "Hosts").
pub const FEISHU_API: &str = "https://open.feishu.cn";
pub const LARK_API: &str = "https://open.larksuite.com";

/// An internal app of one endpoint, as its developer console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApp {
    pub app_id: String,
    pub app_secret: AppSecret,
    /// The API's base URL, without a trailing slash.
    pub api_base: String,
}

/// An App Secret. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret(String);

impl AppSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(..)")
    }
}

/// The apps by endpoint id, read and checked as the relay does, through its lookup
/// ([`crate::secrets::load_lookup`]). It needs no `QUEUE_URL`.
pub fn from_lookup(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, OpenApp>, ConfigError> {
    Ok(super::read_endpoints(lookup, SystemTime::now())?.apps)
}

/// An app from its three settings: `get` reads a field, `place` says where it lives. Both
/// the ID and the secret, or neither.
pub(crate) fn read(
    get: impl Fn(&str) -> Option<String>,
    place: impl Fn(&str) -> String,
) -> Result<Option<OpenApp>, ConfigError> {
    let half = |set, unset| {
        let reason = format!(
            "it is set but {} is not; an app needs its App ID and App Secret, from the developer console",
            place(unset)
        );
        Err(invalid(place(set), reason))
    };
    let host = get(API_HOST);
    let (app_id, app_secret) = match (get(APP_ID), get(APP_SECRET), &host) {
        (Some(app_id), Some(app_secret), _) => (app_id, app_secret),
        (None, None, None) => return Ok(None),
        (Some(_), None, _) => return half(APP_ID, APP_SECRET),
        (None, Some(_), _) => return half(APP_SECRET, APP_ID),
        (None, None, Some(_)) => return half(API_HOST, APP_ID),
    };
    let api_base = api_base(host.as_deref()).map_err(|reason| invalid(place(API_HOST), reason))?;
    Ok(Some(OpenApp {
        app_id,
        app_secret: AppSecret(app_secret),
        api_base,
    }))
}

/// `feishu` (the default), `lark`, or an absolute https URL such as a proxy's. Plain http
/// would carry the App Secret in clear, so it is only for a server on this machine.
fn api_base(host: Option<&str>) -> Result<String, String> {
    let url = match host.map(str::trim) {
        None | Some("feishu") => return Ok(FEISHU_API.to_owned()),
        Some("lark") => return Ok(LARK_API.to_owned()),
        Some(url) => url,
    };
    // A query or user info may hold a credential, so such a value is not quoted back.
    let shown = if url.contains(['@', '?']) {
        "the value".to_owned()
    } else {
        format!("{url:?}")
    };
    let Some(uri) = http_url(url) else {
        return Err(format!(
            "{shown} is not feishu, lark or an absolute https URL without a query"
        ));
    };
    if uri
        .authority()
        .is_some_and(|authority| authority.as_str().contains('@'))
    {
        return Err(
            "it holds user info, which the start-up line would show: use a proxy that needs no credentials in its URL"
                .to_owned(),
        );
    }
    let loopback = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if uri.scheme_str() == Some("http") && !loopback {
        return Err(format!(
            "{shown} is plain http, which would send the App Secret unencrypted: use https (http only reaches a server on this machine)"
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}
