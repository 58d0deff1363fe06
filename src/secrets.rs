//! The webhook secrets from AWS Secrets Manager, read once, before the first request.
//!
//! The tokens and keys never sit in the template or the function's configuration. The
//! function knows only where the secret is (`SECRET_ID`) and may read only that secret. No
//! request waits on Secrets Manager, so a URL verification still answers within 1 s
//! (`docs/protocol.md`, "Challenge replies").

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use crate::config::{Config, ConfigError, SECRET_ID_VAR, secrets_beside_secret_id, with_secret};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The error names the secret and the reason, never what it holds.
    #[error("{SECRET_ID_VAR}: cannot read secret {id}: {reason}")]
    Secret { id: String, reason: String },
}

/// The configuration from the environment through `env`, with the secrets from the secret
/// `SECRET_ID` names, if set.
pub async fn load_config(
    sdk: &SdkConfig,
    env: impl Fn(&str) -> Option<String> + 'static,
) -> Result<Config, StartError> {
    Ok(Config::from_lookup(load_lookup(sdk, env).await?)?)
}

/// The settings through `env`, with those of the secret `SECRET_ID` names over them. The
/// enricher reads its apps through it too ([`crate::config::open_app::from_lookup`]).
pub async fn load_lookup(
    sdk: &SdkConfig,
    env: impl Fn(&str) -> Option<String> + 'static,
) -> Result<Box<dyn Fn(&str) -> Option<String>>, StartError> {
    let Some(id) = env(SECRET_ID_VAR).filter(|id| !id.trim().is_empty()) else {
        return Ok(Box::new(env));
    };
    // A secret beside SECRET_ID is a mistake whether or not the secret can be read.
    secrets_beside_secret_id(&env)?;
    let id = id.trim();
    let failed = |reason: String| StartError::Secret {
        id: id.to_owned(),
        reason,
    };
    let output = Client::new(sdk)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|err| failed(DisplayErrorContext(&err).to_string()))?;
    let secret = output.secret_string().ok_or_else(|| {
        failed("it has no SecretString (binary secrets are not supported)".into())
    })?;
    Ok(Box::new(with_secret(env, secret)?))
}
