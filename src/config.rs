//! The function's configuration, read once at start from the environment and, in
//! production, one Secrets Manager secret. It is validated completely, so a bad setting
//! stops the function before its first request, naming the variable.

pub mod endpoints;
pub mod json;
pub mod open_app;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use lambda_http::http::Uri;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::queue::sqs::{MAX_PAYLOAD_BYTES, QueueConfig};
use org_change_core::window::DEFAULT_MAX_AGE;
use org_change_core::{
    EncryptKey, Endpoint, EndpointId, GroupBy, ReplayWindow, Setting, Source, VerificationToken,
};

use endpoints::Endpoints;
pub use endpoints::{ENDPOINTS_VAR, MAX_PREVIOUS_VALIDITY, setting_place};
use open_app::{API_HOST_VAR, APP_ID_VAR, APP_SECRET_VAR, OpenApp};

/// The request size limit when `MAX_BODY_BYTES` is not set.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// The CloudWatch namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_METRICS_NAMESPACE: &str = "OrgChangeRelay";
/// The replay window's default maximum age (`docs/protocol.md`, "Replay window").
pub const DEFAULT_MAX_REQUEST_AGE: Duration = DEFAULT_MAX_AGE;
/// SQS's limit on `DelaySeconds`.
pub const MAX_QUEUE_DELAY_SECONDS: u32 = 900;
/// The variable naming the Secrets Manager secret that holds the tokens and keys.
pub const SECRET_ID_VAR: &str = "SECRET_ID";
/// The variable, or secret key, holding a default endpoint's setting.
pub fn secret_var(source: Source, setting: Setting) -> &'static str {
    match (source, setting) {
        (Source::Feilian, Setting::VerificationToken) => "FEILIAN_VERIFICATION_TOKEN",
        (Source::Feilian, Setting::EncryptKey) => "FEILIAN_ENCRYPT_KEY",
        (_, Setting::VerificationToken) => "FEISHU_VERIFICATION_TOKEN",
        (_, Setting::EncryptKey) => "FEISHU_ENCRYPT_KEY",
    }
}

/// The settings that are secrets, besides [`ENDPOINTS_VAR`]. With `SECRET_ID` set they come
/// from the secret, and the environment must not carry them.
pub const SECRET_VARS: [&str; 6] = [
    "FEISHU_VERIFICATION_TOKEN",
    "FEISHU_ENCRYPT_KEY",
    "FEILIAN_VERIFICATION_TOKEN",
    "FEILIAN_ENCRYPT_KEY",
    APP_ID_VAR,
    APP_SECRET_VAR,
];

#[derive(Debug, Clone)]
pub struct Config {
    pub queue: QueueConfig,
    /// Where verified events that cannot become messages go (`docs/operations.md`,
    /// "Quarantine").
    pub quarantine: Option<QueueConfig>,
    /// Every enabled endpoint by id (`feishu`, `feishu/lark-global`): the default ones and
    /// those of `ENDPOINTS` ([`endpoints`]).
    pub endpoints: BTreeMap<String, Endpoint>,
    /// The Feishu endpoints' apps by endpoint id ([`open_app`]), for the enricher.
    pub open_apps: BTreeMap<String, OpenApp>,
    pub feilian_challenge_reply: ChallengeReply,
    pub max_body_bytes: usize,
    /// How old a signed Feishu or encrypted Feilian request may be. Every endpoint already
    /// applies it.
    pub max_request_age: Duration,
    /// Where each secret setting is configured, with its [`fingerprint`], for the start-up
    /// log.
    pub fingerprints: Vec<(String, String)>,
    /// Expired previous pairs, ignored and warned about at start.
    pub warnings: Vec<String>,
    pub metrics_namespace: String,
}

/// How Feilian's URL verification is answered. Its documentation is ambiguous
/// (`docs/protocol.md`, "Challenge replies").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeReply {
    /// The decrypted challenge object, as `application/json`, as the one public Feilian
    /// receiver answers (n8n-nodes-feilian). It also satisfies a checker that reads only
    /// `challenge`.
    Echo,
    /// `{"challenge": "..."}` as `application/json`, like Feishu.
    Json,
    /// The bare value as `text/plain`.
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is required: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
    #[error(
        "no source is enabled: set FEISHU_VERIFICATION_TOKEN, FEILIAN_VERIFICATION_TOKEN, a named endpoint in ENDPOINTS, or several"
    )]
    NoSource,
    /// A setting of `ENDPOINTS`. The reason never quotes a secret.
    #[error("{place} is invalid: {reason}")]
    Endpoint { place: String, reason: String },
    /// The secret's text is not what [`SECRET_VARS`] describes. The reason never quotes it.
    #[error("the secret named by SECRET_ID {reason}")]
    Secret { reason: String },
    /// A name given twice. A reader would keep one silently, so a key given twice, once
    /// empty, could vanish.
    #[error(
        "{place} is given more than once{within}; give each name once (a repeated name silently replaces the one before it)"
    )]
    Repeated {
        /// `FEISHU_ENCRYPT_KEY`, `ENDPOINTS["feishu/x"]`, `ENDPOINTS["feishu/x"].encrypt_key`.
        place: String,
        /// [`IN_ENVIRONMENT`], [`IN_SECRET`], or empty when the place says it.
        within: &'static str,
    },
}

/// [`ConfigError::Repeated`] in the process environment.
pub const IN_ENVIRONMENT: &str = " in the environment";
/// [`ConfigError::Repeated`] in the text of the secret.
pub const IN_SECRET: &str = " in the secret named by SECRET_ID";

impl Config {
    /// Reads the environment through `env` and the secrets from the secret's text.
    pub fn from_env_and_secret(
        env: impl Fn(&str) -> Option<String>,
        secret: &str,
    ) -> Result<Self, ConfigError> {
        Self::from_env_and_secret_at(env, secret, SystemTime::now())
    }

    /// [`from_env_and_secret`](Self::from_env_and_secret) at start time `now`.
    pub fn from_env_and_secret_at(
        env: impl Fn(&str) -> Option<String>,
        secret: &str,
        now: SystemTime,
    ) -> Result<Self, ConfigError> {
        Self::from_lookup_at(secret_lookup(env, secret)?, now)
    }

    /// Reads the configuration through `lookup`. An empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_at(lookup, SystemTime::now())
    }

    /// [`from_lookup`](Self::from_lookup) at start time `now`. A previous pair that has
    /// expired is ignored with a warning. One valid more than [`MAX_PREVIOUS_VALIDITY`]
    /// ahead is refused.
    pub fn from_lookup_at(
        lookup: impl Fn(&str) -> Option<String>,
        now: SystemTime,
    ) -> Result<Self, ConfigError> {
        check_pasted(&lookup)?;
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let queue = queue(&get)?;
        let max_request_age = positive(&get, "MAX_REQUEST_AGE_SECONDS", "seconds")?
            .map_or(DEFAULT_MAX_REQUEST_AGE, Duration::from_secs);
        let Endpoints {
            endpoints,
            fingerprints,
            warnings,
            apps: open_apps,
        } = enabled_endpoints(&get, now)?;
        let window = ReplayWindow::new(max_request_age);
        let endpoints = endpoints
            .into_iter()
            .map(|(id, endpoint)| {
                let endpoint = endpoint
                    .with_replay_window(window)
                    .with_message_limit(MAX_PAYLOAD_BYTES);
                (id, endpoint)
            })
            .collect();
        let feilian_challenge_reply = choice(
            &get,
            "FEILIAN_CHALLENGE_REPLY",
            &[
                ("echo", ChallengeReply::Echo),
                ("json", ChallengeReply::Json),
                ("plain", ChallengeReply::Plain),
            ],
        )?;
        let quarantine = get("QUARANTINE_QUEUE_URL")
            .map(|url| {
                let fifo = queue_name("QUARANTINE_QUEUE_URL", &url)?.ends_with(".fifo");
                Ok::<_, ConfigError>(QueueConfig {
                    url,
                    fifo,
                    group_by: GroupBy::Unit,
                    delay: None,
                })
            })
            .transpose()?;
        Ok(Self {
            queue,
            quarantine,
            endpoints,
            open_apps,
            feilian_challenge_reply,
            max_body_bytes: positive(&get, "MAX_BODY_BYTES", "bytes")?
                .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            max_request_age,
            fingerprints,
            warnings,
            metrics_namespace: metrics_namespace(&get)?,
        })
    }

    /// The endpoint `id`, if it is enabled.
    pub fn endpoint(&self, id: &EndpointId) -> Option<&Endpoint> {
        self.endpoints.get(id.as_str())
    }
}

/// `QUEUE_URL`, `QUEUE_DELAY_SECONDS` and `FIFO_GROUP_BY`.
fn queue(get: &impl Fn(&str) -> Option<String>) -> Result<QueueConfig, ConfigError> {
    let url = get("QUEUE_URL").ok_or(ConfigError::Missing {
        var: "QUEUE_URL",
        hint: "the URL of the SQS queue to publish to, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/org-changes",
    })?;
    let fifo = queue_name("QUEUE_URL", &url)?.ends_with(".fifo");
    let delay = get("QUEUE_DELAY_SECONDS")
        .map(|value| parse_delay(&value, fifo))
        .transpose()?;
    let group_by = choice(
        get,
        "FIFO_GROUP_BY",
        &[("tenant", GroupBy::Tenant), ("unit", GroupBy::Unit)],
    )?;
    Ok(QueueConfig {
        url,
        fifo,
        group_by,
        delay,
    })
}

/// The lookup of the relay's settings when `SECRET_ID` is set: each key of the secret's
/// text, else the environment through `env`. The enricher reads the same secret with it.
pub fn secret_lookup(
    env: impl Fn(&str) -> Option<String>,
    secret: &str,
) -> Result<impl Fn(&str) -> Option<String>, ConfigError> {
    let secrets = parse_secret(secret)?;
    // So that the error names the secret's key.
    for key in SECRET_VARS {
        if let Some(problem) = secrets.get(key).and_then(|value| pasted_wrong(value)) {
            return Err(ConfigError::Secret {
                reason: format!("has a value for {key} that {problem}; {PASTE_HINT}"),
            });
        }
    }
    secrets_beside_secret_id(&env)?;
    Ok(move |name: &str| match secrets.get(name) {
        Some(value) => Some(value.clone()),
        None => env(name),
    })
}

/// The enabled endpoints, their apps and their secrets' fingerprints, read through `lookup`
/// and validated as [`Config`] validates them, without the relay's queue: for the enricher.
pub fn enabled(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Endpoints, ConfigError> {
    check_pasted(lookup)?;
    let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    enabled_endpoints(&get, SystemTime::now())
}

/// Whitespace or quotes around a pasted secret would make every delivery fail for hours, so
/// they stop the function now.
fn check_pasted(lookup: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    for var in SECRET_VARS {
        if let Some(problem) = lookup(var).and_then(|value| pasted_wrong(&value)) {
            return Err(ConfigError::Invalid {
                var,
                reason: format!("it {problem}; {PASTE_HINT}"),
            });
        }
    }
    Ok(())
}

/// The enabled endpoints, their apps, their secrets' fingerprints, and the start-up
/// warnings.
fn enabled_endpoints(
    get: &impl Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<Endpoints, ConfigError> {
    // An App ID is no secret: every event carries it.
    let mut fingerprints: Vec<(String, String)> = SECRET_VARS
        .into_iter()
        .filter(|var| *var != APP_ID_VAR)
        .filter_map(|var| get(var).map(|value| (var.to_owned(), fingerprint(&value))))
        .collect();
    let defaults = [
        endpoint(Source::Feishu, get)?,
        endpoint(Source::Feilian, get)?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut read = endpoints::read(get(ENDPOINTS_VAR).as_deref(), defaults, now)?;
    fingerprints.append(&mut read.fingerprints);
    read.fingerprints = fingerprints;
    let feishu = Source::Feishu.as_str();
    if let Some(app) = open_app::from_vars(get, read.endpoints.contains_key(feishu))? {
        read.apps.insert(feishu.to_owned(), app);
    }
    if read.endpoints.is_empty() {
        return Err(ConfigError::NoSource);
    }
    Ok(read)
}

/// One of `choices` by name, the first when `var` is unset.
fn choice<T: Copy>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    choices: &[(&str, T)],
) -> Result<T, ConfigError> {
    let Some(value) = get(var) else {
        return Ok(choices[0].1);
    };
    let value = value.trim();
    if let Some((_, chosen)) = choices.iter().find(|(name, _)| *name == value) {
        return Ok(*chosen);
    }
    let names: Vec<String> = choices
        .iter()
        .map(|(name, _)| format!("{name:?}"))
        .collect();
    let listed = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    };
    Err(ConfigError::Invalid {
        var,
        reason: format!("{value:?} is not {listed}"),
    })
}

/// A positive whole number of `unit`, or `None` when `var` is unset.
fn positive<T: std::str::FromStr + PartialOrd + Default>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    unit: &str,
) -> Result<Option<T>, ConfigError> {
    let Some(value) = get(var) else {
        return Ok(None);
    };
    match value.trim().parse::<T>() {
        Ok(number) if number > T::default() => Ok(Some(number)),
        _ => Err(ConfigError::Invalid {
            var,
            reason: format!("{value:?} is not a positive whole number of {unit}"),
        }),
    }
}

/// `METRICS_NAMESPACE`, as CloudWatch accepts a namespace.
fn metrics_namespace(get: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let Some(value) = get("METRICS_NAMESPACE") else {
        return Ok(DEFAULT_METRICS_NAMESPACE.to_owned());
    };
    let value = value.trim();
    let valid = value.len() <= 255
        && !value.starts_with("AWS/")
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" .-_/#:".contains(&b));
    if !valid {
        return Err(ConfigError::Invalid {
            var: "METRICS_NAMESPACE",
            reason: format!(
                "{value:?} is not a CloudWatch namespace: up to 255 letters, digits, spaces and . - _ / # :, not starting with AWS/"
            ),
        });
    }
    Ok(value.to_owned())
}

/// Every variable the relay reads besides the SDK's own. A start checks that the
/// environment gives each once.
pub const VARS: [&str; 18] = [
    "FEISHU_VERIFICATION_TOKEN",
    "FEISHU_ENCRYPT_KEY",
    "FEILIAN_VERIFICATION_TOKEN",
    "FEILIAN_ENCRYPT_KEY",
    APP_ID_VAR,
    APP_SECRET_VAR,
    API_HOST_VAR,
    ENDPOINTS_VAR,
    SECRET_ID_VAR,
    "QUEUE_URL",
    "QUEUE_DELAY_SECONDS",
    "FIFO_GROUP_BY",
    "QUARANTINE_QUEUE_URL",
    "MAX_REQUEST_AGE_SECONDS",
    "MAX_BODY_BYTES",
    "FEILIAN_CHALLENGE_REPLY",
    "METRICS_NAMESPACE",
    REGION_VAR,
];

/// The region of the queue and the secret. The SDK also reads `AWS_DEFAULT_REGION`.
pub const REGION_VAR: &str = "AWS_REGION";

/// Checks made before the SDK or the secret is read: each variable given once, the region,
/// and no secret in the environment beside `SECRET_ID`. `names` lists every name of the
/// environment, repeats included.
pub fn check_environment<N: AsRef<std::ffi::OsStr>>(
    env: impl Fn(&str) -> Option<String>,
    names: impl IntoIterator<Item = N>,
) -> Result<(), ConfigError> {
    let names: Vec<N> = names.into_iter().collect();
    for var in VARS {
        if names.iter().filter(|name| name.as_ref() == var).count() > 1 {
            return Err(ConfigError::Repeated {
                place: var.to_owned(),
                within: IN_ENVIRONMENT,
            });
        }
    }
    // Without a region the SDK asks the EC2 metadata service, and every event is answered
    // 503. Lambda always sets it.
    let set = |var: &str| env(var).is_some_and(|value| !value.trim().is_empty());
    if !set(REGION_VAR) && !set("AWS_DEFAULT_REGION") {
        return Err(ConfigError::Missing {
            var: REGION_VAR,
            hint: "the AWS region of the queue; Lambda sets it, a relay run by hand needs it (e.g. AWS_REGION=us-east-1)",
        });
    }
    if set(SECRET_ID_VAR) {
        secrets_beside_secret_id(&env)?;
    }
    Ok(())
}

/// With `SECRET_ID` set, the environment must not carry the secrets too.
pub fn secrets_beside_secret_id(env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    match SECRET_VARS
        .into_iter()
        .chain([ENDPOINTS_VAR])
        .find(|var| env(var).is_some_and(|value| !value.trim().is_empty()))
    {
        Some(var) => Err(ConfigError::Invalid {
            var,
            reason: format!(
                "it is set in the environment although {SECRET_ID_VAR} is; keep secrets in the secret only"
            ),
        }),
        None => Ok(()),
    }
}

/// The fix for a secret pasted with something around it.
pub(crate) const PASTE_HINT: &str = "store exactly the characters the console shows (printf '%s', not echo, when writing it to a file)";

/// What is wrong with a secret's value as pasted: whitespace or quotes around it, or
/// control characters in it. Console values have none, but a terminal copy or `echo` adds
/// them. The relay would then refuse every genuine delivery. The answer never quotes the
/// value.
pub fn pasted_wrong(value: &str) -> Option<&'static str> {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if value.ends_with("\r\n") {
        Some("has a trailing carriage return and newline (\\r\\n)")
    } else if value.ends_with('\n') {
        Some("has a trailing newline")
    } else if value.ends_with('\r') {
        Some("has a trailing carriage return")
    } else if value.starts_with(char::is_whitespace) {
        Some("has leading whitespace")
    } else if value.ends_with(char::is_whitespace) {
        Some("has trailing whitespace")
    } else if quoted('"') || quoted('\'') {
        Some("is wrapped in quotes")
    } else if value.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

/// Hashed before the value. Without it an Encrypt Key's fingerprint would be the start of
/// its AES key, which is the key's SHA-256 too (`docs/protocol.md`, "Encryption").
pub const FINGERPRINT_PREFIX: &str = "org-change-relay/fingerprint/v1:";

/// A secret's fingerprint for the start-up log: 8 hex digits telling whether two values are
/// equal without revealing either. It equals `printf 'org-change-relay/fingerprint/v1:%s'
/// 'VALUE' | sha256sum | cut -c1-8`.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::new()
        .chain_update(FINGERPRINT_PREFIX.as_bytes())
        .chain_update(value.as_bytes())
        .finalize();
    hex::encode(&digest[..4])
}

/// The secret's text: a JSON object of [`SECRET_VARS`] keys with string values, and
/// [`ENDPOINTS_VAR`], returned as its JSON text.
fn parse_secret(text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let not_strings = |detail: String| ConfigError::Secret {
        reason: format!(
            "is not a JSON object of strings{detail}; expected keys: {}, and {ENDPOINTS_VAR} (an object)",
            SECRET_VARS.join(", ")
        ),
    };
    let values = match json::parse(text) {
        Ok(Value::Object(values)) => values,
        Ok(_) => return Err(not_strings(String::new())),
        // serde's message may quote a value, so only the position is given.
        Err(json::JsonError::Syntax { line, column }) => {
            return Err(not_strings(format!(" (line {line}, column {column})")));
        }
        Err(json::JsonError::Repeated(path)) => return Err(repeated_in_secret(&path)),
    };
    let mut secrets = BTreeMap::new();
    for (key, value) in values {
        match value {
            Value::String(value) if SECRET_VARS.contains(&key.as_str()) => {
                secrets.insert(key, value);
            }
            Value::Object(_) if key == ENDPOINTS_VAR => {
                secrets.insert(key, value.to_string());
            }
            _ if SECRET_VARS.contains(&key.as_str()) => {
                return Err(not_strings(format!(" ({key} is not a string)")));
            }
            _ if key == ENDPOINTS_VAR => {
                return Err(ConfigError::Endpoint {
                    place: ENDPOINTS_VAR.to_owned(),
                    reason: "in the secret it must be a JSON object keyed by endpoint (feishu/<name>, ...), not text".into(),
                });
            }
            _ => {
                return Err(ConfigError::Secret {
                    reason: format!(
                        "has an unknown key {key:?}; expected keys: {}, {ENDPOINTS_VAR}",
                        SECRET_VARS.join(", ")
                    ),
                });
            }
        }
    }
    Ok(secrets)
}

/// The error for a key, an endpoint or a field the secret's text gives twice.
fn repeated_in_secret(path: &[json::Segment]) -> ConfigError {
    let place = match path.split_first() {
        Some((json::Segment::Name(key), rest)) => json::place(key, rest),
        _ => json::place("", path),
    };
    ConfigError::Repeated {
        place,
        within: IN_SECRET,
    }
}

/// A source is enabled when its token is set; a key without a token is a mistake.
fn endpoint(
    source: Source,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<Endpoint>, ConfigError> {
    let (token_var, key_var) = (
        secret_var(source, Setting::VerificationToken),
        secret_var(source, Setting::EncryptKey),
    );
    let key = get(key_var).map(|key| EncryptKey::new(&key));
    match get(token_var) {
        Some(token) => Ok(Some(Endpoint::new(
            source,
            VerificationToken::new(&token),
            key,
        ))),
        None if key.is_some() => Err(ConfigError::Invalid {
            var: key_var,
            reason: format!("it is set but {token_var} is not; set both from the console"),
        }),
        None => Ok(None),
    }
}

/// The queue name at the end of the SQS queue URL in `var`.
pub(crate) fn queue_name<'a>(var: &'static str, url: &'a str) -> Result<&'a str, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        var,
        reason: format!("{url:?} {reason}"),
    };
    let uri: Uri = url.parse().map_err(|_| invalid("is not a URL"))?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none_or(str::is_empty) {
        return Err(invalid("must be an http(s) URL with a host"));
    }
    if uri.query().is_some() {
        return Err(invalid("must not have a query string"));
    }
    let name = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let path_segments = uri.path().split('/').filter(|s| !s.is_empty()).count();
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    let valid_name = !stem.is_empty()
        && name.len() <= 80
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if path_segments < 2 || !valid_name {
        return Err(invalid(
            "must end in /<account-id>/<queue-name>, the name being 1-80 letters, digits, - or _ (plus .fifo)",
        ));
    }
    Ok(name)
}

fn parse_delay(value: &str, fifo: bool) -> Result<Duration, ConfigError> {
    let var = "QUEUE_DELAY_SECONDS";
    if fifo {
        return Err(ConfigError::Invalid {
            var,
            reason:
                "FIFO queues do not support a per-message delay; set the delay on the queue instead"
                    .into(),
        });
    }
    match value.trim().parse::<u32>() {
        Ok(seconds) if seconds <= MAX_QUEUE_DELAY_SECONDS => {
            Ok(Duration::from_secs(seconds.into()))
        }
        _ => Err(ConfigError::Invalid {
            var,
            reason: format!(
                "{value:?} is not a whole number of seconds from 0 to {MAX_QUEUE_DELAY_SECONDS}"
            ),
        }),
    }
}

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
