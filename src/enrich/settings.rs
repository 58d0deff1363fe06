//! The enricher's configuration, read once at start. The endpoints' apps are read and
//! validated exactly as the relay reads them.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::time::SystemTime;

use aws_config::SdkConfig;

use super::forward::EnrichedQueueConfig;
use crate::config::open_app::OpenApp;
use crate::config::{ConfigError, IN_ENVIRONMENT, check_environment, queue_at, read_endpoints};
use crate::secrets::{StartError, load_lookup};

/// The queue the enriched messages go to.
pub const ENRICHED_QUEUE_URL_VAR: &str = "ENRICHED_QUEUE_URL";
/// The part of each rate limit one instance may use.
pub const SHARE_VAR: &str = "ENRICH_SHARE";
/// The enricher's own variables, besides the relay's that it reads too.
pub const VARS: [&str; 2] = [ENRICHED_QUEUE_URL_VAR, SHARE_VAR];

/// What the enricher runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub queue: EnrichedQueueConfig,
    /// 1 unless `ENRICH_SHARE` says otherwise.
    pub share: f64,
    /// Every endpoint the relay enables.
    pub endpoints: Vec<String>,
    /// By endpoint, for the endpoints that enrich.
    pub apps: BTreeMap<String, OpenApp>,
    /// Where each secret is configured, with its fingerprint, as the relay logs them.
    pub fingerprints: Vec<(String, String)>,
}

impl Settings {
    /// Reads the configuration through `lookup`: the environment, and the secret's keys
    /// when there is one. An empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let url = get(ENRICHED_QUEUE_URL_VAR).ok_or(ConfigError::Missing {
            var: ENRICHED_QUEUE_URL_VAR,
            hint: "the URL of the SQS queue the enriched messages go to, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/org-changes-enriched",
        })?;
        let queue = queue_at(ENRICHED_QUEUE_URL_VAR, url)?;
        let share = get(SHARE_VAR).map_or(Ok(1.0), |value| share(&value))?;
        let enabled = read_endpoints(&lookup, SystemTime::now())?;
        Ok(Self {
            queue: EnrichedQueueConfig {
                url: queue.url,
                fifo: queue.fifo,
            },
            share,
            endpoints: enabled.endpoints.into_keys().collect(),
            apps: enabled.apps,
            fingerprints: enabled.fingerprints,
        })
    }

    /// The apps as the logic takes them.
    pub fn logic_apps(&self) -> BTreeMap<String, org_change_enrich::App> {
        self.apps
            .iter()
            .map(|(endpoint, app)| {
                let app = org_change_enrich::App {
                    endpoint: endpoint.clone(),
                    app_id: app.app_id.clone(),
                    app_secret: app.app_secret.expose().to_owned(),
                    api_base: app.api_base.clone(),
                };
                (endpoint.clone(), app)
            })
            .collect()
    }
}

/// `ENRICH_SHARE`, checked as the logic checks a share.
fn share(value: &str) -> Result<f64, ConfigError> {
    match value.trim().parse::<f64>().map(org_change_enrich::share) {
        Ok(Ok(share)) => Ok(share),
        _ => Err(ConfigError::Invalid {
            place: SHARE_VAR.to_owned(),
            reason: format!(
                "{value:?} is not a number above 0 and at most 1; give each of N concurrent instances 1/N, e.g. 0.5 for 2"
            ),
        }),
    }
}

/// The relay's checks made before the SDK or the secret is read, and no enricher variable
/// given twice.
pub fn check(
    env: impl Fn(&str) -> Option<String>,
    names: Vec<impl AsRef<OsStr>>,
) -> Result<(), ConfigError> {
    for var in VARS {
        if names.iter().filter(|name| name.as_ref() == var).count() > 1 {
            return Err(ConfigError::Repeated {
                place: var.to_owned(),
                within: IN_ENVIRONMENT,
            });
        }
    }
    check_environment(env, names)
}

/// The settings from `env`, with secrets from the relay's own secret if `SECRET_ID` names one.
pub async fn load(
    sdk: &SdkConfig,
    env: impl Fn(&str) -> Option<String> + 'static,
) -> Result<Settings, StartError> {
    Ok(Settings::from_lookup(load_lookup(sdk, env).await?)?)
}

#[cfg(test)]
#[path = "../tests/enrich_settings.rs"]
mod tests;
