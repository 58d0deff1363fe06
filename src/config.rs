//! The function's configuration: read from the environment (and, in production,
//! the secrets from one Secrets Manager secret) once, at start, and validated
//! completely so that a bad setting stops the function before it takes a request,
//! with one line that names the variable.

pub mod endpoints;
pub mod json;

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

pub use endpoints::{ENDPOINTS_VAR, MAX_PREVIOUS_VALIDITY, setting_place};

/// The request size limit when `MAX_BODY_BYTES` is not set.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// The CloudWatch namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_METRICS_NAMESPACE: &str = "OrgChangeRelay";
/// The replay window's maximum age when `MAX_REQUEST_AGE_SECONDS` is not set: 24 h
/// (`docs/protocol.md`, "Replay window").
pub const DEFAULT_MAX_REQUEST_AGE: Duration = DEFAULT_MAX_AGE;
/// SQS's limit on `DelaySeconds` (15 minutes).
pub const MAX_QUEUE_DELAY_SECONDS: u32 = 900;
/// The variable naming the Secrets Manager secret (its ARN or name) that holds the
/// tokens and keys.
pub const SECRET_ID_VAR: &str = "SECRET_ID";
/// The environment variable (or secret key) holding a default endpoint's setting.
pub fn secret_var(source: Source, setting: Setting) -> &'static str {
    match (source, setting) {
        (Source::Feilian, Setting::VerificationToken) => "FEILIAN_VERIFICATION_TOKEN",
        (Source::Feilian, Setting::EncryptKey) => "FEILIAN_ENCRYPT_KEY",
        (_, Setting::VerificationToken) => "FEISHU_VERIFICATION_TOKEN",
        (_, Setting::EncryptKey) => "FEISHU_ENCRYPT_KEY",
    }
}

/// The settings that are secrets, besides [`ENDPOINTS_VAR`]. With `SECRET_ID` set they
/// come from the secret, a JSON object with these keys and `ENDPOINTS` (any may be
/// left out or empty), and the environment must not carry them.
pub const SECRET_VARS: [&str; 4] = [
    "FEISHU_VERIFICATION_TOKEN",
    "FEISHU_ENCRYPT_KEY",
    "FEILIAN_VERIFICATION_TOKEN",
    "FEILIAN_ENCRYPT_KEY",
];

#[derive(Debug, Clone)]
pub struct Config {
    pub queue: QueueConfig,
    /// `QUARANTINE_QUEUE_URL`: where verified events that cannot become messages go
    /// (`docs/operations.md`, "Quarantine"); without it they are refused as before.
    pub quarantine: Option<QueueConfig>,
    /// Every enabled endpoint by id (`feishu`, `feishu/lark-global`, ...): the default
    /// ones from `FEISHU_VERIFICATION_TOKEN`, ..., the named ones and every previous
    /// pair from `ENDPOINTS` ([`endpoints`]).
    pub endpoints: BTreeMap<String, Endpoint>,
    pub feilian_challenge_reply: ChallengeReply,
    pub max_body_bytes: usize,
    /// How old a signed Feishu or encrypted Feilian request may be
    /// (`MAX_REQUEST_AGE_SECONDS`); already applied to every endpoint.
    pub max_request_age: Duration,
    /// A fingerprint of each secret setting that is set, for the start-up log: where
    /// it is configured (the variable or secret key, in [`SECRET_VARS`] order, then
    /// `ENDPOINTS["<id>"].<field>`) and [`fingerprint`].
    pub fingerprints: Vec<(String, String)>,
    /// What the start-up log warns about: a previous pair already expired, ignored.
    pub warnings: Vec<String>,
    /// The CloudWatch namespace of the metrics lines (`http::metrics`).
    pub metrics_namespace: String,
}

/// How Feilian's URL verification is answered (`FEILIAN_CHALLENGE_REPLY`); its doc
/// is ambiguous (`docs/protocol.md`, "Challenge replies").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeReply {
    /// The decrypted challenge object, `{"challenge": "...", "token": "...", "type":
    /// "url_verification"}`, as `application/json`: what the one public Feilian
    /// receiver answers (n8n-nodes-feilian). The default: it also satisfies a checker
    /// that reads only `challenge`.
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
    /// A setting of `ENDPOINTS`: `place` is `ENDPOINTS["<id>"].<field>` (or the entry,
    /// or `ENDPOINTS` itself); the reason never quotes a secret.
    #[error("{place} is invalid: {reason}")]
    Endpoint { place: String, reason: String },
    /// The secret's text is not what [`SECRET_VARS`] describes. The reason never
    /// quotes the secret's content.
    #[error("the secret named by SECRET_ID {reason}")]
    Secret { reason: String },
    /// A name given twice: a variable, a secret key, an endpoint or a field. A reader
    /// would keep one silently, so a key given twice, once empty, could vanish.
    #[error(
        "{place} is given more than once{within}; give each name once (a repeated name silently replaces the one before it)"
    )]
    Repeated {
        /// `FEISHU_ENCRYPT_KEY`, `ENDPOINTS["feishu/x"]`, `ENDPOINTS["feishu/x"].encrypt_key`.
        place: String,
        /// Where the text is: [`IN_ENVIRONMENT`], [`IN_SECRET`], or empty when the
        /// place says it.
        within: &'static str,
    },
}

/// [`ConfigError::Repeated`] in the process environment.
pub const IN_ENVIRONMENT: &str = " in the environment";
/// [`ConfigError::Repeated`] in the text of the secret.
pub const IN_SECRET: &str = " in the secret named by SECRET_ID";

impl Config {
    /// Reads the environment through `env` and the secrets from `secret`, the text of
    /// the Secrets Manager secret; each secret setting has exactly one home.
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
        let secrets = parse_secret(secret)?;
        // Checked here first so that the error names the secret's key.
        for key in SECRET_VARS {
            if let Some(problem) = secrets.get(key).and_then(|value| pasted_wrong(value)) {
                return Err(ConfigError::Secret {
                    reason: format!("has a value for {key} that {problem}; {PASTE_HINT}"),
                });
            }
        }
        secrets_beside_secret_id(&env)?;
        Self::from_lookup_at(
            |name| match secrets.get(name) {
                Some(value) => Some(value.clone()),
                None => env(name),
            },
            now,
        )
    }

    /// Reads the configuration through `lookup`; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_at(lookup, SystemTime::now())
    }

    /// [`from_lookup`](Self::from_lookup) at start time `now`: a previous pair is
    /// checked against it (expired: ignored with a warning; more than
    /// [`MAX_PREVIOUS_VALIDITY`] ahead: refused).
    pub fn from_lookup_at(
        lookup: impl Fn(&str) -> Option<String>,
        now: SystemTime,
    ) -> Result<Self, ConfigError> {
        // A secret as pasted: whitespace or quotes around it make every delivery fail
        // for hours, so they stop the function now, before they can.
        for var in SECRET_VARS {
            if let Some(problem) = lookup(var).and_then(|value| pasted_wrong(&value)) {
                return Err(ConfigError::Invalid {
                    var,
                    reason: format!("it {problem}; {PASTE_HINT}"),
                });
            }
        }
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let queue = queue(&get)?;
        let max_request_age = positive(&get, "MAX_REQUEST_AGE_SECONDS", "seconds")?
            .map_or(DEFAULT_MAX_REQUEST_AGE, Duration::from_secs);
        let (endpoints, fingerprints, warnings) =
            enabled_endpoints(&get, ReplayWindow::new(max_request_age), now)?;
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

/// The default endpoints and those of `ENDPOINTS`, each with the replay window and
/// SQS's message limit; their secrets' fingerprints; and the start-up warnings.
type Enabled = (
    BTreeMap<String, Endpoint>,
    Vec<(String, String)>,
    Vec<String>,
);

fn enabled_endpoints(
    get: &impl Fn(&str) -> Option<String>,
    window: ReplayWindow,
    now: SystemTime,
) -> Result<Enabled, ConfigError> {
    let mut fingerprints: Vec<(String, String)> = SECRET_VARS
        .into_iter()
        .filter_map(|var| get(var).map(|value| (var.to_owned(), fingerprint(&value))))
        .collect();
    let defaults = [
        endpoint(Source::Feishu, get)?,
        endpoint(Source::Feilian, get)?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let read = endpoints::read(get(ENDPOINTS_VAR).as_deref(), defaults, now)?;
    fingerprints.extend(read.fingerprints);
    let endpoints: BTreeMap<String, Endpoint> = read
        .endpoints
        .into_iter()
        .map(|(id, endpoint)| {
            let endpoint = endpoint
                .with_replay_window(window)
                .with_message_limit(MAX_PAYLOAD_BYTES);
            (id, endpoint)
        })
        .collect();
    if endpoints.is_empty() {
        return Err(ConfigError::NoSource);
    }
    Ok((endpoints, fingerprints, read.warnings))
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

/// Every variable the relay reads besides the SDK's own, in the order a start checks
/// that the environment gives each once.
pub const VARS: [&str; 15] = [
    "FEISHU_VERIFICATION_TOKEN",
    "FEISHU_ENCRYPT_KEY",
    "FEILIAN_VERIFICATION_TOKEN",
    "FEILIAN_ENCRYPT_KEY",
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

/// The region of the queue (and of the secret). The SDK also reads `AWS_DEFAULT_REGION`.
pub const REGION_VAR: &str = "AWS_REGION";

/// What is checked before the SDK or the secret is read: each variable given once
/// (`names`: every name of the environment, repeats included), the region, and no
/// secret in the environment when `SECRET_ID` names the secret.
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
    // Without a region the SDK asks the EC2 metadata service, warns twice, and every
    // event is then answered 503. Lambda always sets it.
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

/// With `SECRET_ID` set, the secrets have one home, the secret: the environment must
/// not carry them too.
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

/// What is wrong with a secret's value as pasted, if anything: whitespace or quotes
/// around it, or control characters in it. Console tokens and keys have none of
/// these; a copy from a terminal, `echo` into a file or a quoted value in a `.env`
/// file adds them, and the relay would then refuse every genuine delivery. An empty
/// value is fine (unset). The answer never quotes the value.
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

/// What every fingerprint hashes before the value. Without it the fingerprint of an
/// Encrypt Key would be the first bytes of its AES key, which is SHA-256 of the key too
/// (`docs/protocol.md`, "Encryption").
pub const FINGERPRINT_PREFIX: &str = "org-change-relay/fingerprint/v1:";

/// A secret's fingerprint for the start-up log: the first 8 hex digits of the SHA-256
/// of [`FINGERPRINT_PREFIX`] then the value's UTF-8 bytes, the same as
/// `printf 'org-change-relay/fingerprint/v1:%s' 'VALUE' | sha256sum | cut -c1-8`.
/// It tells whether two values are the same without revealing either.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::new()
        .chain_update(FINGERPRINT_PREFIX.as_bytes())
        .chain_update(value.as_bytes())
        .finalize();
    hex::encode(&digest[..4])
}

/// The secret's text: a JSON object whose keys are among [`SECRET_VARS`], with
/// string values, and [`ENDPOINTS_VAR`], an object (returned as its JSON text, as
/// the environment variable holds it).
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
        // serde's message may quote a value; the position is enough to find it.
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

/// The error for a name the secret's text gives twice: a key of its own, an endpoint
/// or a field of `ENDPOINTS`.
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

/// The queue name at the end of the SQS queue URL in `var` (`https://host/<account>/<name>`).
fn queue_name<'a>(var: &'static str, url: &'a str) -> Result<&'a str, ConfigError> {
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
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn feishu() -> EndpointId {
        EndpointId::default_of(Source::Feishu)
    }

    fn feilian() -> EndpointId {
        EndpointId::default_of(Source::Feilian)
    }

    const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/org-changes";

    /// `vars` as the environment.
    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(lookup(vars))
    }

    fn invalid_var(result: Result<Config, ConfigError>) -> &'static str {
        match result {
            Err(ConfigError::Invalid { var, .. } | ConfigError::Missing { var, .. }) => var,
            other => panic!("expected an invalid variable, got {other:?}"),
        }
    }

    #[test]
    fn minimal_feishu_configuration_has_the_defaults() {
        let config = config(&[("QUEUE_URL", QUEUE), ("FEISHU_VERIFICATION_TOKEN", "t")]).unwrap();
        assert!(config.endpoint(&feishu()).is_some() && config.endpoint(&feilian()).is_none());
        assert_eq!(
            config.queue,
            QueueConfig {
                url: QUEUE.into(),
                fifo: false,
                group_by: GroupBy::Tenant,
                delay: None
            }
        );
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(config.feilian_challenge_reply, ChallengeReply::Echo);
        assert_eq!(config.metrics_namespace, DEFAULT_METRICS_NAMESPACE);
        assert_eq!(config.max_request_age, Duration::from_secs(86_400));
        let feishu = config.endpoint(&feishu()).unwrap();
        assert_eq!(
            feishu.replay_window(),
            ReplayWindow::new(Duration::from_secs(86_400))
        );
        assert_eq!(config.quarantine, None);
    }

    #[test]
    fn the_quarantine_queue_is_optional_and_validated_like_the_queue() {
        let with = |url| {
            config(&[
                ("QUEUE_URL", QUEUE),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("QUARANTINE_QUEUE_URL", url),
            ])
        };
        let quarantine = "https://sqs.us-east-1.amazonaws.com/123456789012/org-changes-quarantine";
        assert_eq!(
            with(quarantine).unwrap().quarantine,
            Some(QueueConfig {
                url: quarantine.into(),
                fifo: false,
                group_by: GroupBy::Unit,
                delay: None
            })
        );
        assert!(with("https://h/1/q.fifo").unwrap().quarantine.unwrap().fifo);
        for bad in ["quarantine", "https://host/q", "https://host/1/q?x=1"] {
            assert_eq!(invalid_var(with(bad)), "QUARANTINE_QUEUE_URL", "{bad}");
        }
    }

    #[test]
    fn full_configuration_is_read() {
        let config = config(&[
            (
                "QUEUE_URL",
                "http://127.0.0.1:5000/123456789012/changes.fifo",
            ),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            ("FEISHU_ENCRYPT_KEY", "k"),
            ("FEILIAN_VERIFICATION_TOKEN", "t2"),
            ("FEILIAN_CHALLENGE_REPLY", "plain"),
            ("MAX_BODY_BYTES", "4096"),
        ])
        .unwrap();
        assert!(config.queue.fifo);
        assert!(config.endpoint(&feishu()).is_some() && config.endpoint(&feilian()).is_some());
        assert_eq!(config.feilian_challenge_reply, ChallengeReply::Plain);
        assert_eq!(config.max_body_bytes, 4096);
    }

    #[test]
    fn queue_url_is_required_and_must_be_a_queue_url() {
        assert_eq!(
            invalid_var(config(&[("FEISHU_VERIFICATION_TOKEN", "t")])),
            "QUEUE_URL"
        );
        for bad in [
            "sqs-queue",
            "ftp://host/1/q",
            "https:///1/q",
            "https://host/q",
            "https://host/1/bad name",
            "https://host/1/q?x=1",
            "https://host/1/.fifo",
        ] {
            assert_eq!(
                invalid_var(config(&[
                    ("QUEUE_URL", bad),
                    ("FEISHU_VERIFICATION_TOKEN", "t")
                ])),
                "QUEUE_URL",
                "{bad}"
            );
        }
    }

    #[test]
    fn at_least_one_source_must_be_enabled() {
        assert_eq!(
            config(&[("QUEUE_URL", QUEUE)]).unwrap_err(),
            ConfigError::NoSource
        );
        assert_eq!(
            config(&[("QUEUE_URL", QUEUE), ("FEISHU_VERIFICATION_TOKEN", "")]).unwrap_err(),
            ConfigError::NoSource
        );
    }

    #[test]
    fn an_encrypt_key_without_its_token_is_refused() {
        let result = config(&[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            ("FEILIAN_ENCRYPT_KEY", "k"),
        ]);
        assert_eq!(invalid_var(result), "FEILIAN_ENCRYPT_KEY");
    }

    #[test]
    fn delay_must_be_0_to_900_and_only_on_standard_queues() {
        let with_delay = |queue: &str, delay: &str| {
            config(&[
                ("QUEUE_URL", queue),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("QUEUE_DELAY_SECONDS", delay),
            ])
        };
        assert_eq!(
            with_delay(QUEUE, "900").unwrap().queue.delay,
            Some(Duration::from_secs(900))
        );
        for bad in ["901", "-1", "1.5", "soon"] {
            assert_eq!(
                invalid_var(with_delay(QUEUE, bad)),
                "QUEUE_DELAY_SECONDS",
                "{bad}"
            );
        }
        assert_eq!(
            invalid_var(with_delay("https://h/1/q.fifo", "0")),
            "QUEUE_DELAY_SECONDS"
        );
    }

    #[test]
    fn numbers_and_choices_are_validated() {
        let with = |var, value| {
            config(&[
                ("QUEUE_URL", QUEUE),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                (var, value),
            ])
        };
        for bad in ["0", "-5", "1MB"] {
            assert_eq!(invalid_var(with("MAX_BODY_BYTES", bad)), "MAX_BODY_BYTES");
        }
        assert_eq!(
            invalid_var(with("FEILIAN_CHALLENGE_REPLY", "xml")),
            "FEILIAN_CHALLENGE_REPLY"
        );
        let too_long = "n".repeat(256);
        for bad in ["AWS/Lambda", "org{changes}", too_long.as_str()] {
            assert_eq!(
                invalid_var(with("METRICS_NAMESPACE", bad)),
                "METRICS_NAMESPACE"
            );
        }
        assert_eq!(
            with("METRICS_NAMESPACE", "Platform/OrgChanges")
                .unwrap()
                .metrics_namespace,
            "Platform/OrgChanges"
        );
    }

    #[test]
    fn the_challenge_reply_is_echo_json_or_plain() {
        for (value, expected) in [
            ("echo", ChallengeReply::Echo),
            ("json", ChallengeReply::Json),
            ("plain", ChallengeReply::Plain),
        ] {
            let config = config(&[
                ("QUEUE_URL", QUEUE),
                ("FEILIAN_VERIFICATION_TOKEN", "t"),
                ("FEILIAN_CHALLENGE_REPLY", value),
            ])
            .unwrap();
            assert_eq!(config.feilian_challenge_reply, expected);
        }
    }

    #[test]
    fn the_maximum_request_age_is_a_positive_number_of_seconds_applied_to_both_sources() {
        let with = |value| {
            config(&[
                ("QUEUE_URL", QUEUE),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("FEILIAN_VERIFICATION_TOKEN", "t"),
                ("MAX_REQUEST_AGE_SECONDS", value),
            ])
        };
        let config = with("3600").unwrap();
        assert_eq!(config.max_request_age, Duration::from_secs(3600));
        for source in [Source::Feishu, Source::Feilian] {
            assert_eq!(
                config
                    .endpoint(&EndpointId::default_of(source))
                    .unwrap()
                    .replay_window(),
                ReplayWindow::new(Duration::from_secs(3600))
            );
        }
        for bad in ["0", "-1", "1.5", "1h", "99999999999999999999999"] {
            assert_eq!(invalid_var(with(bad)), "MAX_REQUEST_AGE_SECONDS", "{bad}");
        }
    }

    /// Every way a pasted secret goes wrong, and what the error says.
    const PASTED_WRONG: [(&str, &str); 9] = [
        ("s3cr3t-value\n", "has a trailing newline"),
        (
            "s3cr3t-value\r\n",
            "has a trailing carriage return and newline",
        ),
        ("s3cr3t-value\r", "has a trailing carriage return"),
        ("s3cr3t-value ", "has trailing whitespace"),
        (" s3cr3t-value", "has leading whitespace"),
        ("\ts3cr3t-value", "has leading whitespace"),
        ("\"s3cr3t-value\"", "is wrapped in quotes"),
        ("'s3cr3t-value'", "is wrapped in quotes"),
        ("s3cr3t\u{7}value", "contains a control character"),
    ];

    #[test]
    fn a_secret_pasted_with_whitespace_or_quotes_is_refused_naming_the_variable() {
        for var in SECRET_VARS {
            for (value, problem) in PASTED_WRONG {
                let mut vars = vec![("QUEUE_URL", QUEUE)];
                // A key needs its token: give it one when the key is the bad value.
                if var.ends_with("_ENCRYPT_KEY") {
                    vars.push((var.replace("ENCRYPT_KEY", "VERIFICATION_TOKEN").leak(), "t"));
                }
                vars.push((var, value));
                let err = config(&vars).unwrap_err();
                assert!(
                    matches!(err, ConfigError::Invalid { var: named, .. } if named == var),
                    "{var} {value:?}: {err:?}"
                );
                let text = err.to_string();
                assert!(text.contains(var) && text.contains(problem), "{text}");
                assert!(!text.contains("s3cr3t"), "{text}");
            }
        }
    }

    #[test]
    fn a_secret_key_pasted_with_whitespace_or_quotes_is_refused_naming_the_key() {
        for key in SECRET_VARS {
            for (value, problem) in PASTED_WRONG {
                let secret = serde_json::json!({ key: value }).to_string();
                let err = from_secret(&[("QUEUE_URL", QUEUE)], &secret).unwrap_err();
                assert!(
                    matches!(err, ConfigError::Secret { .. }),
                    "{key} {value:?}: {err:?}"
                );
                let text = err.to_string();
                assert!(text.contains(key) && text.contains(problem), "{text}");
                assert!(!text.contains("s3cr3t"), "{text}");
            }
        }
    }

    #[test]
    fn values_that_only_look_odd_are_accepted() {
        // Quotes or spaces inside, a lone quote, and empty (unset) values are fine.
        for value in ["a b", "a\"b", "\"abc", "it's", "x"] {
            let config = config(&[("QUEUE_URL", QUEUE), ("FEISHU_VERIFICATION_TOKEN", value)]);
            assert!(config.is_ok(), "{value:?}: {config:?}");
        }
        let config = config(&[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            ("FEISHU_ENCRYPT_KEY", ""),
        ])
        .unwrap();
        assert_eq!(config.fingerprints.len(), 1);
    }

    #[test]
    fn each_set_secret_has_a_fingerprint_the_shell_can_reproduce() {
        // printf 'org-change-relay/fingerprint/v1:%s' 'rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV' | sha256sum | cut -c1-8
        assert_eq!(fingerprint("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV"), "df2f1adc");
        // printf 'org-change-relay/fingerprint/v1:%s' '' | sha256sum | cut -c1-8
        assert_eq!(fingerprint(""), "c9dbf46a");
        // printf 'org-change-relay/fingerprint/v1:%s' t | sha256sum | cut -c1-8
        assert_eq!(fingerprint("t"), "9412736d");
        let config = config(&[
            ("QUEUE_URL", QUEUE),
            (
                "FEISHU_VERIFICATION_TOKEN",
                "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV",
            ),
            ("FEILIAN_VERIFICATION_TOKEN", "t"),
            ("FEILIAN_ENCRYPT_KEY", "k"),
        ])
        .unwrap();
        let fingerprints: Vec<(&str, &str)> = config
            .fingerprints
            .iter()
            .map(|(place, print)| (place.as_str(), print.as_str()))
            .collect();
        assert_eq!(
            fingerprints,
            [
                ("FEISHU_VERIFICATION_TOKEN", "df2f1adc"),
                ("FEILIAN_VERIFICATION_TOKEN", "9412736d"),
                // printf 'org-change-relay/fingerprint/v1:%s' k | sha256sum | cut -c1-8
                ("FEILIAN_ENCRYPT_KEY", "0142a987"),
            ]
        );
        assert!(!format!("{config:?}").contains("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV"));
    }

    fn from_secret(env: &[(&str, &str)], secret: &str) -> Result<Config, ConfigError> {
        Config::from_env_and_secret(lookup(env), secret)
    }

    #[test]
    fn secrets_come_from_the_secret_and_the_rest_from_the_environment() {
        let config = from_secret(
            &[("QUEUE_URL", QUEUE), ("MAX_BODY_BYTES", "2048")],
            r#"{"FEILIAN_VERIFICATION_TOKEN": "t", "FEILIAN_ENCRYPT_KEY": "k", "FEISHU_VERIFICATION_TOKEN": ""}"#,
        )
        .unwrap();
        assert!(config.endpoint(&feilian()).is_some() && config.endpoint(&feishu()).is_none());
        assert_eq!(config.max_body_bytes, 2048);
        assert_eq!(
            from_secret(&[("QUEUE_URL", QUEUE)], "{}").unwrap_err(),
            ConfigError::NoSource
        );
    }

    #[test]
    fn a_secret_setting_in_the_environment_beside_the_secret_is_refused() {
        let result = from_secret(
            &[
                ("QUEUE_URL", QUEUE),
                ("FEISHU_ENCRYPT_KEY", "plain-text-key"),
            ],
            r#"{"FEISHU_VERIFICATION_TOKEN": "t"}"#,
        );
        assert_eq!(invalid_var(result), "FEISHU_ENCRYPT_KEY");
    }

    #[test]
    fn a_malformed_secret_is_refused_without_quoting_it() {
        for (secret, expected) in [
            ("not json at all", "not a JSON object of strings"),
            (r#"["s3cr3t-value"]"#, "not a JSON object of strings"),
            (
                r#"{"FEISHU_VERIFICATION_TOKEN": 12345678}"#,
                "not a JSON object of strings",
            ),
            (
                r#"{"FEISHU_TOKEN": "s3cr3t-value"}"#,
                "unknown key \"FEISHU_TOKEN\"",
            ),
        ] {
            let err = from_secret(&[("QUEUE_URL", QUEUE)], secret).unwrap_err();
            assert!(
                matches!(err, ConfigError::Secret { .. }),
                "{secret}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains(expected), "{secret}: {text}");
            assert!(
                !text.contains("s3cr3t") && !text.contains("12345678"),
                "{text}"
            );
        }
    }

    #[test]
    fn errors_never_repeat_a_secret() {
        let err = config(&[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_ENCRYPT_KEY", "super-secret-key"),
        ])
        .unwrap_err();
        assert!(!err.to_string().contains("super-secret-key"), "{err}");
    }

    #[test]
    fn the_fingerprint_of_a_key_is_not_the_start_of_its_aes_key() {
        // The AES key is SHA-256 of the key string (docs/protocol.md, "Encryption").
        let aes_key = hex::encode(Sha256::digest(b"k"));
        assert_eq!(&aes_key[..8], "8254c329");
        assert_eq!(fingerprint("k"), "0142a987");
    }

    /// A place given twice, and the value that must never be repeated.
    const KEY: &str = "K3y-that-must-not-leak";

    fn repeated(result: Result<Config, ConfigError>) -> (String, String) {
        let err = result.expect_err("a name given twice is refused");
        match &err {
            ConfigError::Repeated { place, .. } => (place.clone(), err.to_string()),
            other => panic!("expected a name given twice, got {other:?}"),
        }
    }

    #[test]
    fn a_field_or_an_endpoint_given_twice_in_endpoints_is_refused_naming_it_never_the_value() {
        for (endpoints, place) in [
            (
                format!(
                    r#"{{"feishu/x": {{"verification_token": "t", "encrypt_key": "{KEY}", "encrypt_key": ""}}}}"#
                ),
                r#"ENDPOINTS["feishu/x"].encrypt_key"#,
            ),
            (
                format!(
                    r#"{{"feishu/x": {{"verification_token": "t", "encrypt_key": "{KEY}"}}, "feishu/x": {{"verification_token": "t"}}}}"#
                ),
                r#"ENDPOINTS["feishu/x"]"#,
            ),
        ] {
            let result = config(&[("QUEUE_URL", QUEUE), ("ENDPOINTS", &endpoints)]);
            let (named, text) = repeated(result);
            assert_eq!(named, place);
            assert_eq!(
                text,
                format!(
                    "{place} is given more than once; give each name once (a repeated name silently replaces the one before it)"
                )
            );
            assert!(!text.contains(KEY), "{text}");
        }
    }

    #[test]
    fn a_key_given_twice_in_the_secret_is_refused_naming_it_never_the_value() {
        for (secret, place) in [
            (
                format!(
                    r#"{{"FEISHU_VERIFICATION_TOKEN": "t", "FEISHU_ENCRYPT_KEY": "{KEY}", "FEISHU_ENCRYPT_KEY": ""}}"#
                ),
                "FEISHU_ENCRYPT_KEY",
            ),
            (
                format!(
                    r#"{{"ENDPOINTS": {{"feilian/x": {{"verification_token": "t", "encrypt_key": "{KEY}", "encrypt_key": ""}}}}}}"#
                ),
                r#"ENDPOINTS["feilian/x"].encrypt_key"#,
            ),
            (
                format!(
                    r#"{{"ENDPOINTS": {{"feilian/x": {{"verification_token": "{KEY}"}}}}, "ENDPOINTS": {{}}}}"#
                ),
                "ENDPOINTS",
            ),
        ] {
            let (named, text) = repeated(from_secret(&[("QUEUE_URL", QUEUE)], &secret));
            assert_eq!(named, place);
            assert_eq!(
                text,
                format!(
                    "{place} is given more than once in the secret named by SECRET_ID; give each name once (a repeated name silently replaces the one before it)"
                )
            );
            assert!(!text.contains(KEY), "{text}");
        }
    }

    #[test]
    fn the_environment_is_checked_before_the_sdk_and_the_secret_are_read() {
        let region = [("AWS_REGION", "us-east-1")];
        let check = |vars: &[(&str, &str)], names: &[&str]| check_environment(lookup(vars), names);
        assert_eq!(check(&region, &["AWS_REGION", "PATH"]), Ok(()));
        // The SDK reads either variable.
        assert_eq!(check(&[("AWS_DEFAULT_REGION", "us-east-1")], &[]), Ok(()));
        let err = check(&[], &[]).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    var: "AWS_REGION",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            check(
                &region,
                &["AWS_REGION", "FEISHU_ENCRYPT_KEY", "FEISHU_ENCRYPT_KEY"]
            ),
            Err(ConfigError::Repeated {
                place: "FEISHU_ENCRYPT_KEY".into(),
                within: IN_ENVIRONMENT,
            })
        );
        // A name the relay does not read may repeat.
        assert_eq!(check(&region, &["OTHER", "OTHER"]), Ok(()));
        let beside = [
            ("AWS_REGION", "us-east-1"),
            ("SECRET_ID", "relay"),
            ("FEILIAN_ENCRYPT_KEY", KEY),
        ];
        let err = check(&beside, &[]).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    var: "FEILIAN_ENCRYPT_KEY",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!err.to_string().contains(KEY), "{err}");
    }

    /// 2025-11-30T10:53:20Z.
    fn start() -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(1_764_500_000)
    }

    const NAMED: &str = r#"{"feishu/lark-global": {"verification_token": "t2", "encrypt_key": "k2"},
        "feilian/sub": {"verification_token": "t3"},
        "feishu": {"previous_verification_token": "t0", "previous_encrypt_key": "k0",
                   "previous_until": "2025-12-01T00:00:00Z"}}"#;

    #[test]
    fn named_endpoints_and_previous_pairs_come_from_endpoints_in_the_environment() {
        let config = Config::from_lookup_at(
            lookup(&[
                ("QUEUE_URL", QUEUE),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                ("FEISHU_ENCRYPT_KEY", "k"),
                ("MAX_REQUEST_AGE_SECONDS", "60"),
                ("ENDPOINTS", NAMED),
            ]),
            start(),
        )
        .unwrap();
        let ids: Vec<&str> = config.endpoints.keys().map(String::as_str).collect();
        assert_eq!(ids, ["feilian/sub", "feishu", "feishu/lark-global"]);
        // The replay window applies to every endpoint.
        for endpoint in config.endpoints.values() {
            assert_eq!(
                endpoint.replay_window(),
                ReplayWindow::new(Duration::from_secs(60))
            );
        }
        assert!(
            config
                .endpoint(&feishu())
                .unwrap()
                .previous_until()
                .is_some()
        );
        // Every secret has its fingerprint line, named where it is set.
        let places: Vec<&str> = config
            .fingerprints
            .iter()
            .map(|(p, _)| p.as_str())
            .collect();
        assert_eq!(places.len(), 2 + 5, "{places:?}");
        assert!(places.contains(&r#"ENDPOINTS["feishu"].previous_encrypt_key"#));
        assert!(!format!("{config:?}").contains("\"k0\""));
        // A named endpoint alone is enough.
        let config = Config::from_lookup_at(
            lookup(&[
                ("QUEUE_URL", QUEUE),
                (
                    "ENDPOINTS",
                    r#"{"feilian/sub": {"verification_token": "t3"}}"#,
                ),
            ]),
            start(),
        )
        .unwrap();
        assert_eq!(config.endpoints.len(), 1);
    }

    #[test]
    fn endpoints_come_from_the_secret_as_an_object_and_never_beside_it() {
        let secret = format!(r#"{{"FEISHU_VERIFICATION_TOKEN": "t", "ENDPOINTS": {NAMED}}}"#);
        let config =
            Config::from_env_and_secret_at(lookup(&[("QUEUE_URL", QUEUE)]), &secret, start())
                .unwrap();
        assert_eq!(config.endpoints.len(), 3);
        let err = Config::from_env_and_secret_at(
            lookup(&[("QUEUE_URL", QUEUE), ("ENDPOINTS", NAMED)]),
            r#"{"FEISHU_VERIFICATION_TOKEN": "t"}"#,
            start(),
        )
        .unwrap_err();
        assert_eq!(invalid_var(Err(err)), "ENDPOINTS");
        // In the secret it is an object, not JSON text in a string.
        let err = Config::from_env_and_secret_at(
            lookup(&[("QUEUE_URL", QUEUE)]),
            &serde_json::json!({"FEISHU_VERIFICATION_TOKEN": "t", "ENDPOINTS": NAMED}).to_string(),
            start(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("must be a JSON object"), "{err}");
        // A mistake inside is named by endpoint and field.
        let bad = r#"{"FEISHU_VERIFICATION_TOKEN": "t", "ENDPOINTS": {"feishu/x": {"verification_token": "s3cr3t ", "encrypt_key": "k"}}}"#;
        let err = Config::from_env_and_secret_at(lookup(&[("QUEUE_URL", QUEUE)]), bad, start())
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(
                r#"ENDPOINTS["feishu/x"].verification_token is invalid: it has trailing whitespace"#
            ),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn an_expired_previous_pair_is_a_warning_and_one_too_far_ahead_an_error() {
        let with = |until: &str| {
            Config::from_lookup_at(
                lookup(&[
                    ("QUEUE_URL", QUEUE),
                    ("FEISHU_VERIFICATION_TOKEN", "t"),
                    (
                        "ENDPOINTS",
                        &format!(
                            r#"{{"feishu": {{"previous_verification_token": "t0", "previous_until": "{until}"}}}}"#
                        ),
                    ),
                ]),
                start(),
            )
        };
        let config = with("2025-11-29T00:00:00Z").unwrap();
        assert_eq!(config.endpoint(&feishu()).unwrap().previous_until(), None);
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        let err = with("2025-12-08T00:00:00Z").unwrap_err();
        assert!(
            matches!(&err, ConfigError::Endpoint { place, .. } if place == r#"ENDPOINTS["feishu"].previous_until"#),
            "{err:?}"
        );
        assert!(with("2025-12-07T10:53:20Z").unwrap().warnings.is_empty());
    }
}
