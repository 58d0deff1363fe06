//! The app credentials of Feishu endpoints, for the optional enricher that reads the current
//! object from the platform's API (`docs/current-object.md`). The relay only validates them.
//!
//! The default endpoint's are `FEISHU_APP_ID` and `FEISHU_APP_SECRET` (secrets) and
//! `FEISHU_API_HOST`. A named endpoint's are the fields `app_id`, `app_secret` and `api_host`
//! of its `ENDPOINTS` entry.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use lambda_http::http::Uri;
use org_change_core::{EndpointId, Source};

use super::ConfigError;

/// The default Feishu endpoint's App ID.
pub const APP_ID_VAR: &str = "FEISHU_APP_ID";
/// The default Feishu endpoint's App Secret.
pub const APP_SECRET_VAR: &str = "FEISHU_APP_SECRET";
/// The default Feishu endpoint's API host. No secret, so always a plain variable.
pub const API_HOST_VAR: &str = "FEISHU_API_HOST";

/// The fields of an `ENDPOINTS` entry that configure an app.
pub const FIELDS: [&str; 3] = [APP_ID, APP_SECRET, API_HOST];
pub(crate) const APP_ID: &str = "app_id";
const APP_SECRET: &str = "app_secret";
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

/// The apps by endpoint id, read through `lookup` (the environment and the secret, as the
/// relay reads them) and validated as the relay validates them. It needs no `QUEUE_URL`.
pub fn from_lookup(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, OpenApp>, ConfigError> {
    super::check_pasted(lookup)?;
    let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    Ok(super::enabled_endpoints(&get, SystemTime::now())?.apps)
}

/// The default Feishu endpoint's app, from its variables. They need the endpoint enabled.
pub(crate) fn from_vars(
    get: &impl Fn(&str) -> Option<String>,
    enabled: bool,
) -> Result<Option<OpenApp>, ConfigError> {
    let var = |field: &str| match field {
        APP_ID => APP_ID_VAR,
        APP_SECRET => APP_SECRET_VAR,
        _ => API_HOST_VAR,
    };
    if !enabled && let Some(field) = FIELDS.into_iter().find(|field| get(var(field)).is_some()) {
        return Err(ConfigError::Invalid {
            var: var(field),
            reason: "it is set but FEISHU_VERIFICATION_TOKEN is not; an app belongs to an enabled endpoint".into(),
        });
    }
    app(
        |field| get(var(field)),
        |field| var(field).to_owned(),
        |field, reason| ConfigError::Invalid {
            var: var(field),
            reason,
        },
    )
}

/// A named Feishu endpoint's app, from its `ENDPOINTS` entry. Feilian endpoints have none,
/// and a default endpoint's app has its variables.
pub(crate) fn from_entry(
    id: &EndpointId,
    entry: &BTreeMap<String, String>,
    invalid: impl Fn(&str, String) -> ConfigError,
) -> Result<Option<OpenApp>, ConfigError> {
    let Some(field) = FIELDS.into_iter().find(|field| entry.contains_key(*field)) else {
        return Ok(None);
    };
    let refused = if id.source() == Source::Feilian {
        "a Feilian endpoint has no app; app credentials are for a Feishu or Lark app's API"
    } else if id.is_default() {
        "the default endpoint's app has one home, FEISHU_APP_ID, FEISHU_APP_SECRET and FEISHU_API_HOST: set it there"
    } else {
        return app(|field| entry.get(field).cloned(), str::to_owned, invalid);
    };
    Err(invalid(field, refused.into()))
}

/// An app from its three settings: `get` reads a field, `name` says where it lives and
/// `invalid` is the error for a field. Both the ID and the secret, or neither.
fn app(
    get: impl Fn(&'static str) -> Option<String>,
    name: impl Fn(&'static str) -> String,
    invalid: impl Fn(&'static str, String) -> ConfigError,
) -> Result<Option<OpenApp>, ConfigError> {
    let host = get(API_HOST);
    let half = |set, unset| {
        invalid(
            set,
            format!(
                "it is set but {} is not; an app needs its App ID and App Secret, from the developer console",
                name(unset)
            ),
        )
    };
    let (app_id, app_secret) = match (get(APP_ID), get(APP_SECRET), &host) {
        (Some(app_id), Some(app_secret), _) => (app_id, app_secret),
        (None, None, None) => return Ok(None),
        (Some(_), None, _) => return Err(half(APP_ID, APP_SECRET)),
        (None, Some(_), _) => return Err(half(APP_SECRET, APP_ID)),
        (None, None, Some(_)) => return Err(half(API_HOST, APP_ID)),
    };
    let api_base = api_base(host.as_deref()).map_err(|reason| invalid(API_HOST, reason))?;
    Ok(Some(OpenApp {
        app_id,
        app_secret: AppSecret(app_secret),
        api_base,
    }))
}

/// `feishu` (the default), `lark`, or an absolute http(s) URL such as a proxy's.
fn api_base(host: Option<&str>) -> Result<String, String> {
    let url = match host.map(str::trim) {
        None | Some("feishu") => return Ok(FEISHU_API.to_owned()),
        Some("lark") => return Ok(LARK_API.to_owned()),
        Some(url) => url,
    };
    let absolute = url.parse::<Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("https" | "http"))
            && uri.host().is_some_and(|host| !host.is_empty())
            && uri.query().is_none()
    });
    if !absolute {
        return Err(format!(
            "{url:?} is not feishu, lark or an absolute http(s) URL without a query"
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}
