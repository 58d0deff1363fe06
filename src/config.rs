//! The function's configuration, read once at start from the environment and, in
//! production, one Secrets Manager secret. It is validated completely, so a bad setting
//! stops the function before its first request, naming the variable.

pub mod endpoints;
pub mod json;
pub mod open_app;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use lambda_http::http::Uri;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::queue::sqs::{MAX_PAYLOAD_BYTES, QueueConfig};
use json::JsonError;
use open_app::OpenApp;
use org_change_core::window::DEFAULT_MAX_AGE;
use org_change_core::{Endpoint, EndpointId, GroupBy, ReplayWindow};

pub use endpoints::{ENDPOINTS_VAR, read_endpoints, setting_place};

pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_METRICS_NAMESPACE: &str = "OrgChangeRelay";
/// SQS's limit on `DelaySeconds`.
const MAX_QUEUE_DELAY_SECONDS: i32 = 900;
pub const SECRET_ID_VAR: &str = "SECRET_ID";
/// The region of the queue and the secret. The SDK also reads `AWS_DEFAULT_REGION`.
const REGION_VAR: &str = "AWS_REGION";

/// The settings that are secrets, besides [`ENDPOINTS_VAR`]. With `SECRET_ID` set they come
/// from the secret, and the environment must not carry them.
pub const SECRET_VARS: [&str; 6] = [
    "FEISHU_VERIFICATION_TOKEN",
    "FEISHU_ENCRYPT_KEY",
    "FEILIAN_VERIFICATION_TOKEN",
    "FEILIAN_ENCRYPT_KEY",
    "FEISHU_APP_ID",
    "FEISHU_APP_SECRET",
];

/// Every variable the relay reads besides the SDK's own and [`SECRET_VARS`]. A start checks
/// that the environment gives each once.
const OTHER_VARS: [&str; 12] = [
    "FEISHU_API_HOST",
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

#[derive(Debug, Clone)]
pub struct Config {
    pub queue: QueueConfig,
    /// Where verified events that cannot become messages go (`docs/operations.md`,
    /// "Quarantine").
    pub quarantine: Option<QueueConfig>,
    /// Every enabled endpoint by id (`feishu`, `feishu/lark-global`).
    pub endpoints: BTreeMap<String, Endpoint>,
    /// The Feishu endpoints' apps by endpoint id ([`open_app`]), for the enricher.
    pub open_apps: BTreeMap<String, OpenApp>,
    pub feilian_challenge_reply: ChallengeReply,
    pub max_body_bytes: usize,
    /// Where each secret is set, with its [`fingerprint`].
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
    Json,
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is required: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    /// A setting, named by its place. The reason never quotes a secret.
    #[error("{place} is invalid: {reason}")]
    Invalid { place: String, reason: String },
    #[error(
        "no source is enabled: set FEISHU_VERIFICATION_TOKEN, FEILIAN_VERIFICATION_TOKEN, a named endpoint in ENDPOINTS, or several"
    )]
    NoSource,
    /// The secret's text is not what [`SECRET_VARS`] describes. The reason never quotes it.
    #[error("the secret named by SECRET_ID {reason}")]
    Secret { reason: String },
    /// A name given twice. A reader would keep one silently, so a key given twice, once
    /// empty, could vanish.
    #[error(
        "{place} is given more than once{within}; give each name once (a repeated name silently replaces the one before it)"
    )]
    Repeated {
        place: String,
        /// [`IN_ENVIRONMENT`], [`IN_SECRET`], or empty when the place says it.
        within: &'static str,
    },
}

/// [`ConfigError::Repeated`] in the process environment.
pub const IN_ENVIRONMENT: &str = " in the environment";
/// [`ConfigError::Repeated`] in the text of the secret.
pub const IN_SECRET: &str = " in the secret named by SECRET_ID";

fn invalid(place: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        place: place.into(),
        reason: reason.into(),
    }
}

fn repeated(place: impl Into<String>, within: &'static str) -> ConfigError {
    ConfigError::Repeated {
        place: place.into(),
        within,
    }
}

impl Config {
    /// Reads the configuration through `lookup`: the environment, or [`with_secret`]. An
    /// empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_at(lookup, SystemTime::now())
    }

    /// [`from_lookup`](Self::from_lookup) at start time `now`, which previous pairs are
    /// checked against.
    pub fn from_lookup_at(
        lookup: impl Fn(&str) -> Option<String>,
        now: SystemTime,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let queue = queue(&get)?;
        let seconds = "a positive whole number of seconds";
        let max_request_age = number(&get, "MAX_REQUEST_AGE_SECONDS", 1..=u64::MAX, seconds)?
            .map_or(DEFAULT_MAX_AGE, Duration::from_secs);
        let read = read_endpoints(&lookup, now)?;
        let window = ReplayWindow::new(max_request_age);
        let limited = |(id, endpoint): (String, Endpoint)| {
            let endpoint = endpoint.with_replay_window(window);
            (id, endpoint.with_message_limit(MAX_PAYLOAD_BYTES))
        };
        let feilian_challenge_reply = choice(
            &get,
            "FEILIAN_CHALLENGE_REPLY",
            &[
                ("echo", ChallengeReply::Echo),
                ("json", ChallengeReply::Json),
                ("plain", ChallengeReply::Plain),
            ],
        )?;
        let bytes = "a positive whole number of bytes";
        let quarantine = get("QUARANTINE_QUEUE_URL")
            .map(|url| queue_at("QUARANTINE_QUEUE_URL", url))
            .transpose()?;
        Ok(Self {
            queue,
            quarantine,
            endpoints: read.endpoints.into_iter().map(limited).collect(),
            open_apps: read.apps,
            feilian_challenge_reply,
            max_body_bytes: number(&get, "MAX_BODY_BYTES", 1..=usize::MAX, bytes)?
                .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            fingerprints: read.fingerprints,
            warnings: read.warnings,
            metrics_namespace: metrics_namespace(&get)?,
        })
    }

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
    let mut queue = queue_at("QUEUE_URL", url)?;
    let groups = [("tenant", GroupBy::Tenant), ("unit", GroupBy::Unit)];
    queue.group_by = choice(get, "FIFO_GROUP_BY", &groups)?;
    let delay = "QUEUE_DELAY_SECONDS";
    if queue.fifo && get(delay).is_some() {
        return Err(invalid(
            delay,
            "FIFO queues do not support a per-message delay; set the delay on the queue instead",
        ));
    }
    let seconds = format!("a whole number of seconds from 0 to {MAX_QUEUE_DELAY_SECONDS}");
    queue.delay_seconds = number(get, delay, 0..=MAX_QUEUE_DELAY_SECONDS, &seconds)?;
    Ok(queue)
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
    match choices.iter().find(|(name, _)| *name == value) {
        Some((_, chosen)) => Ok(*chosen),
        None => {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            let reason = format!("{value:?} is not one of {}", names.join(", "));
            Err(invalid(var, reason))
        }
    }
}

/// A whole number in `range`, described by `what`, or `None` when `var` is unset.
fn number<T: std::str::FromStr + PartialOrd>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    range: std::ops::RangeInclusive<T>,
    what: &str,
) -> Result<Option<T>, ConfigError> {
    let Some(value) = get(var) else {
        return Ok(None);
    };
    match value.trim().parse::<T>() {
        Ok(number) if range.contains(&number) => Ok(Some(number)),
        _ => Err(invalid(var, format!("{value:?} is not {what}"))),
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
        return Err(invalid(
            "METRICS_NAMESPACE",
            format!(
                "{value:?} is not a CloudWatch namespace: up to 255 letters, digits, spaces and . - _ / # :, not starting with AWS/"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// Checks made before the SDK or the secret is read: each variable given once, and the
/// region. `names` lists every name of the environment, repeats included.
pub fn check_environment<N: AsRef<std::ffi::OsStr>>(
    env: impl Fn(&str) -> Option<String>,
    names: impl IntoIterator<Item = N>,
) -> Result<(), ConfigError> {
    let names: Vec<N> = names.into_iter().collect();
    for var in SECRET_VARS.into_iter().chain(OTHER_VARS) {
        if names.iter().filter(|name| name.as_ref() == var).count() > 1 {
            return Err(repeated(var, IN_ENVIRONMENT));
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
    Ok(())
}

/// With `SECRET_ID` set, the environment must not carry the secrets too.
pub fn secrets_beside_secret_id(env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    let set = |var: &&str| env(var).is_some_and(|value| !value.trim().is_empty());
    match SECRET_VARS.into_iter().chain([ENDPOINTS_VAR]).find(set) {
        Some(var) => Err(invalid(
            var,
            format!(
                "it is set in the environment although {SECRET_ID_VAR} is; keep secrets in the secret only"
            ),
        )),
        None => Ok(()),
    }
}

/// The fix for a secret pasted with something around it.
const PASTE_HINT: &str = "store exactly the characters the console shows (printf '%s', not echo, when writing it to a file)";

/// What is wrong with a pasted secret: whitespace or quotes around it, or a control
/// character in it. A terminal copy or `echo` adds them, and every genuine delivery would
/// then fail. The answer never quotes the value.
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

/// The settings of the secret's text over those of `env`: a lookup for
/// [`Config::from_lookup`] and [`open_app::from_lookup`]. The text is a JSON object of
/// [`SECRET_VARS`] keys with string values, and [`ENDPOINTS_VAR`], an object, looked up as
/// its JSON text.
pub fn with_secret<E: Fn(&str) -> Option<String>>(
    env: E,
    text: &str,
) -> Result<impl Fn(&str) -> Option<String> + use<E>, ConfigError> {
    let keys = format!(
        "expected keys: {}, and {ENDPOINTS_VAR} (an object)",
        SECRET_VARS.join(", ")
    );
    let refuse = |reason: String| ConfigError::Secret { reason };
    let object = json::object(text).map_err(|err| match err {
        // serde's message may quote a value, so only the position is given.
        JsonError::Syntax { line, column } => refuse(format!(
            "is not a JSON object of strings (line {line}, column {column}); {keys}"
        )),
        JsonError::NotAnObject => refuse(format!("is not a JSON object of strings; {keys}")),
        JsonError::Repeated(key) => repeated(key, IN_SECRET),
    })?;
    let read = |(key, value): (String, Box<RawValue>)| {
        if key == ENDPOINTS_VAR {
            // Read now too, so that a name it repeats is named as in the secret.
            endpoints::parse(value.get()).map_err(|err| match err {
                ConfigError::Repeated { place, .. } => repeated(place, IN_SECRET),
                other => other,
            })?;
            return Ok((key, value.get().to_owned()));
        }
        if !SECRET_VARS.contains(&key.as_str()) {
            return Err(refuse(format!("has an unknown key {key:?}; {keys}")));
        }
        let value: String = serde_json::from_str(value.get()).map_err(|_| {
            refuse(format!(
                "is not a JSON object of strings ({key} is not a string); {keys}"
            ))
        })?;
        // So that the error names the secret's key.
        match pasted_wrong(&value) {
            Some(problem) => Err(refuse(format!(
                "has a value for {key} that {problem}; {PASTE_HINT}"
            ))),
            None => Ok((key, value)),
        }
    };
    let secrets: BTreeMap<String, String> =
        object.into_iter().map(read).collect::<Result<_, _>>()?;
    Ok(move |name: &str| secrets.get(name).cloned().or_else(|| env(name)))
}

fn http_url(text: &str) -> Option<Uri> {
    let uri = text.parse::<Uri>().ok()?;
    let absolute = matches!(uri.scheme_str(), Some("https" | "http"))
        && uri.host().is_some_and(|host| !host.is_empty());
    (absolute && uri.query().is_none()).then_some(uri)
}

/// The queue at the SQS queue URL in `var`, FIFO when its name ends in `.fifo`.
pub(crate) fn queue_at(var: &'static str, url: String) -> Result<QueueConfig, ConfigError> {
    let uri = http_url(&url);
    let path = uri.as_ref().map_or("", Uri::path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let name = segments.last().copied().unwrap_or_default();
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    let valid_name = !stem.is_empty()
        && name.len() <= 80
        && (stem.bytes()).all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if segments.len() < 2 || !valid_name {
        return Err(invalid(
            var,
            format!(
                "{url:?} is not an SQS queue URL: http(s)://<host>/<account-id>/<queue-name> without a query, the name being 1-80 letters, digits, - or _ (plus .fifo)"
            ),
        ));
    }
    let fifo = stem.len() < name.len();
    Ok(QueueConfig {
        url,
        fifo,
        group_by: GroupBy::Unit,
        delay_seconds: None,
    })
}

#[cfg(test)]
#[path = "tests/config.rs"]
pub(crate) mod tests;
