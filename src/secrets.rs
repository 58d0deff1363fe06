//! The webhook secrets from AWS Secrets Manager, read once, before the first request.
//!
//! The tokens and keys never sit in the template or the function's configuration. The
//! function knows only where the secret is (`SECRET_ID`) and may read only that secret. No
//! request waits on Secrets Manager, so a URL verification still answers within 1 s
//! (`docs/protocol.md`, "Challenge replies").

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use crate::config::{Config, ConfigError, SECRET_ID_VAR, secrets_beside_secret_id};

/// Why the function cannot start.
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
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, StartError> {
    match env(SECRET_ID_VAR).filter(|id| !id.trim().is_empty()) {
        None => Ok(Config::from_lookup(env)?),
        Some(id) => {
            // A secret beside SECRET_ID is a mistake whether or not the secret can be read.
            secrets_beside_secret_id(&env)?;
            let secret = read_secret(sdk, id.trim()).await?;
            Ok(Config::from_env_and_secret(env, &secret)?)
        }
    }
}

/// The `SecretString` of the secret `id`. The enricher reads the relay's secret with it too.
pub async fn read_secret(sdk: &SdkConfig, id: &str) -> Result<String, StartError> {
    let client = Client::new(sdk);
    let failed = |reason: String| StartError::Secret {
        id: id.to_owned(),
        reason,
    };
    let output = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|err| failed(DisplayErrorContext(&err).to_string()))?;
    output
        .secret_string()
        .map(str::to_owned)
        .ok_or_else(|| failed("it has no SecretString (binary secrets are not supported)".into()))
}
