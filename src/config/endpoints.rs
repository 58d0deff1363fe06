//! `ENDPOINTS`: the named endpoints, and the previous token and key of any endpoint during
//! a rotation (`docs/operations.md`, "Named endpoints and previous pairs" and "Rotating a
//! token or key").
//!
//! A JSON object keyed by endpoint id, whose values are objects of strings:
//!
//! ```json
//! {
//!   "feishu/lark-global": {"verification_token": "…", "encrypt_key": "…"},
//!   "feishu": {"previous_verification_token": "…", "previous_encrypt_key": "…",
//!              "previous_until": "2026-12-07T00:00:00Z"}
//! }
//! ```
//!
//! The secret holds it as an object under the key `ENDPOINTS`. Without `SECRET_ID`, the
//! variable `ENDPOINTS` holds the same JSON as text.
//!
//! A previous pair without `previous_encrypt_key` keeps the current key. A named Feishu
//! endpoint may name its app: `app_id`, `app_secret` and `api_host` ([`open_app`]).
//!
//! Every rule of the default endpoints' variables holds here too. An error names the
//! endpoint and the field, never a value.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::json::{self, JsonError};
use super::open_app::{self, OpenApp};
use super::{ConfigError, PASTE_HINT, fingerprint, pasted_wrong, secret_var};
use org_change_core::{EncryptKey, Endpoint, EndpointId, Setting, VerificationToken};

/// The variable, and key of the secret, holding the endpoints object.
pub const ENDPOINTS_VAR: &str = "ENDPOINTS";

/// How far ahead of the start `previous_until` may be. A rotation is an overlap of hours or
/// days, not a second set of credentials kept for ever.
pub const MAX_PREVIOUS_VALIDITY: Duration = Duration::from_secs(7 * 86_400);

/// The fields of one endpoint's entry.
pub const FIELDS: [&str; 8] = [
    VERIFICATION_TOKEN,
    ENCRYPT_KEY,
    PREVIOUS_VERIFICATION_TOKEN,
    PREVIOUS_ENCRYPT_KEY,
    PREVIOUS_UNTIL,
    open_app::FIELDS[0],
    open_app::FIELDS[1],
    open_app::FIELDS[2],
];
const VERIFICATION_TOKEN: &str = "verification_token";
const ENCRYPT_KEY: &str = "encrypt_key";
const PREVIOUS_VERIFICATION_TOKEN: &str = "previous_verification_token";
const PREVIOUS_ENCRYPT_KEY: &str = "previous_encrypt_key";
const PREVIOUS_UNTIL: &str = "previous_until";

/// Where a setting lives, for errors and fingerprints.
pub fn place(id: &str, field: &str) -> String {
    format!("{ENDPOINTS_VAR}[{id:?}].{field}")
}

/// Where a setting of endpoint `id` is configured. A default endpoint's current pair is in
/// its variables, everything else in `ENDPOINTS`.
pub fn setting_place(id: &EndpointId, setting: Setting) -> String {
    match (id.is_default(), setting) {
        (true, _) => secret_var(id.source(), setting).to_owned(),
        (false, Setting::VerificationToken) => place(id.as_str(), VERIFICATION_TOKEN),
        (false, Setting::EncryptKey) => place(id.as_str(), ENCRYPT_KEY),
    }
}

/// One entry's fields as strings. Empty ones are dropped, as unset.
type Entry = BTreeMap<String, String>;

/// What `ENDPOINTS` configures, checked.
#[derive(Debug, Default)]
pub struct Endpoints {
    /// Every endpoint by id, the default ones included.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// The apps of Feishu endpoints, by endpoint id.
    pub apps: BTreeMap<String, OpenApp>,
    /// `(where, fingerprint)` of each secret value, in id then field order.
    pub fingerprints: Vec<(String, String)>,
    /// Expired previous pairs, ignored and warned about at start.
    pub warnings: Vec<String>,
}

fn invalid(id: &str, field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Endpoint {
        place: place(id, field),
        reason: reason.into(),
    }
}

/// Reads the text of `ENDPOINTS` into the endpoints it names, beside the `defaults`. A
/// previous pair expired at `now` is dropped with a warning. One valid more than
/// [`MAX_PREVIOUS_VALIDITY`] ahead is refused.
pub fn read(
    text: Option<&str>,
    defaults: Vec<Endpoint>,
    now: SystemTime,
) -> Result<Endpoints, ConfigError> {
    let mut out = Endpoints {
        endpoints: defaults
            .into_iter()
            .map(|endpoint| (endpoint.id().as_str().to_owned(), endpoint))
            .collect(),
        ..Endpoints::default()
    };
    let Some(text) = text.filter(|text| !text.trim().is_empty()) else {
        return Ok(out);
    };
    for (id_text, entry) in parse(text)? {
        let id = EndpointId::parse(&id_text).map_err(|err| ConfigError::Endpoint {
            place: format!("{ENDPOINTS_VAR}[{id_text:?}]"),
            reason: err.to_string(),
        })?;
        // A time, an App ID and a host are no secrets.
        let secret =
            |field: &str| ![PREVIOUS_UNTIL, open_app::APP_ID, open_app::API_HOST].contains(&field);
        for (field, value) in entry.iter().filter(|(field, _)| secret(field)) {
            out.fingerprints
                .push((place(&id_text, field), fingerprint(value)));
        }
        let app = open_app::from_entry(&id, &entry, |field, reason| {
            invalid(&id_text, field, reason)
        })?;
        let current = if id.is_default() {
            match default_current(&id, &id_text, &entry, &mut out.endpoints)? {
                Some(endpoint) => endpoint,
                None => continue,
            }
        } else {
            named_current(id, &id_text, &entry)?
        };
        let endpoint = with_previous(current, &id_text, &entry, now, &mut out.warnings)?;
        if let Some(app) = app {
            out.apps.insert(id_text.clone(), app);
        }
        out.endpoints.insert(id_text, endpoint);
    }
    Ok(out)
}

/// A default endpoint's entry holds only its previous pair. `None` is an empty entry for a
/// disabled endpoint.
fn default_current(
    id: &EndpointId,
    id_text: &str,
    entry: &Entry,
    defaults: &mut BTreeMap<String, Endpoint>,
) -> Result<Option<Endpoint>, ConfigError> {
    for field in [VERIFICATION_TOKEN, ENCRYPT_KEY] {
        if entry.contains_key(field) {
            let var = secret_var(id.source(), setting_of(field));
            return Err(invalid(
                id_text,
                field,
                format!(
                    "a default endpoint's current value has one home, {var}: set it there (only the previous_* fields belong here)"
                ),
            ));
        }
    }
    match defaults.remove(id.as_str()) {
        Some(endpoint) => Ok(Some(endpoint)),
        None if entry.is_empty() => Ok(None),
        None => {
            let var = secret_var(id.source(), Setting::VerificationToken);
            let field = entry.keys().next().map_or(PREVIOUS_UNTIL, String::as_str);
            Err(invalid(
                id_text,
                field,
                format!(
                    "it is set but the endpoint is disabled ({var} is not set); a previous pair needs a current one"
                ),
            ))
        }
    }
}

fn named_current(id: EndpointId, id_text: &str, entry: &Entry) -> Result<Endpoint, ConfigError> {
    let token = entry.get(VERIFICATION_TOKEN).ok_or_else(|| {
        invalid(
            id_text,
            VERIFICATION_TOKEN,
            "it is required: a named endpoint needs the console's Verification Token (remove the entry to disable the endpoint)",
        )
    })?;
    Ok(Endpoint::with_id(
        id,
        VerificationToken::new(token),
        entry.get(ENCRYPT_KEY).map(|key| EncryptKey::new(key)),
    ))
}

fn setting_of(field: &str) -> Setting {
    if field.ends_with("encrypt_key") {
        Setting::EncryptKey
    } else {
        Setting::VerificationToken
    }
}

/// `endpoint` with the entry's previous pair, unless it has expired.
fn with_previous(
    endpoint: Endpoint,
    id: &str,
    entry: &Entry,
    now: SystemTime,
    warnings: &mut Vec<String>,
) -> Result<Endpoint, ConfigError> {
    let get = |field: &str| entry.get(field).map(String::as_str);
    let Some(token) = get(PREVIOUS_VERIFICATION_TOKEN) else {
        for field in [PREVIOUS_ENCRYPT_KEY, PREVIOUS_UNTIL] {
            if get(field).is_some() {
                return Err(invalid(
                    id,
                    field,
                    format!(
                        "it is set but {PREVIOUS_VERIFICATION_TOKEN} is not; a previous pair is the old token, the old key if there was one, and {PREVIOUS_UNTIL}"
                    ),
                ));
            }
        }
        return Ok(endpoint);
    };
    let Some(until) = previous_until(id, get(PREVIOUS_UNTIL), now, warnings)? else {
        return Ok(endpoint);
    };
    // Absent never means "no key": a forgotten field must not let plaintext in for days.
    let key = match get(PREVIOUS_ENCRYPT_KEY) {
        Some(key) => Some(EncryptKey::new(key)),
        None => endpoint.current_key().cloned(),
    };
    Ok(endpoint.with_previous(VerificationToken::new(token), key, until))
}

/// When a previous pair expires: at most [`MAX_PREVIOUS_VALIDITY`] after `now`. `None` when
/// it already has, with a warning.
fn previous_until(
    id: &str,
    text: Option<&str>,
    now: SystemTime,
    warnings: &mut Vec<String>,
) -> Result<Option<SystemTime>, ConfigError> {
    let text = text.ok_or_else(|| {
        invalid(
            id,
            PREVIOUS_UNTIL,
            "it is required with a previous pair: the RFC 3339 time until which the old pair is accepted (e.g. 2026-12-07T00:00:00Z), at most 7 days ahead",
        )
    })?;
    let until = parse_rfc3339(text).ok_or_else(|| {
        invalid(
            id,
            PREVIOUS_UNTIL,
            format!(
                "{text:?} is not an RFC 3339 time (e.g. 2026-12-07T00:00:00Z or 2026-12-07T08:00:00+08:00)"
            ),
        )
    })?;
    if until <= now {
        warnings.push(format!(
            "{} expired at {}: the previous pair of the {id} endpoint is ignored; remove it from {ENDPOINTS_VAR}",
            place(id, PREVIOUS_UNTIL),
            humantime::format_rfc3339_seconds(until)
        ));
        return Ok(None);
    }
    if until.duration_since(now).unwrap_or_default() > MAX_PREVIOUS_VALIDITY {
        return Err(invalid(
            id,
            PREVIOUS_UNTIL,
            format!(
                "{text:?} is more than 7 days after the start ({}): an old pair is accepted for a rotation, not kept",
                humantime::format_rfc3339_seconds(now)
            ),
        ));
    }
    Ok(Some(until))
}

/// The endpoints object, each id and field given once. serde's messages may quote a value,
/// so only positions and names are reported.
fn parse(text: &str) -> Result<BTreeMap<String, Entry>, ConfigError> {
    let shape = |reason: String| ConfigError::Endpoint {
        place: ENDPOINTS_VAR.to_owned(),
        reason,
    };
    let value = json::parse(text).map_err(|err| match err {
        JsonError::Syntax { line, column } => shape(format!(
            "is not JSON (line {line}, column {column}); expected an object like {{\"feishu/<name>\": {{\"verification_token\": \"…\", \"encrypt_key\": \"…\"}}}}"
        )),
        JsonError::Repeated(path) => ConfigError::Repeated {
            place: json::place(ENDPOINTS_VAR, &path),
            within: "",
        },
    })?;
    let Value::Object(object) = value else {
        return Err(shape(
            "is not a JSON object keyed by endpoint (feishu/<name>, feilian/<name>, feishu, feilian)".into(),
        ));
    };
    object
        .into_iter()
        .map(|(id, entry)| {
            let entry = entry_of(&id, entry)?;
            Ok((id, entry))
        })
        .collect()
}

fn entry_of(id: &str, entry: Value) -> Result<Entry, ConfigError> {
    let Value::Object(fields) = entry else {
        return Err(ConfigError::Endpoint {
            place: format!("{ENDPOINTS_VAR}[{id:?}]"),
            reason: format!(
                "is not an object of strings; its fields: {}",
                FIELDS.join(", ")
            ),
        });
    };
    strings(id, fields)
}

fn strings(id: &str, fields: Map<String, Value>) -> Result<Entry, ConfigError> {
    let mut entry = Entry::new();
    for (field, value) in fields {
        if !FIELDS.contains(&field.as_str()) {
            return Err(ConfigError::Endpoint {
                place: format!("{ENDPOINTS_VAR}[{id:?}]"),
                reason: format!(
                    "has an unknown field {field:?}; its fields: {}",
                    FIELDS.join(", ")
                ),
            });
        }
        let Value::String(value) = value else {
            return Err(invalid(id, &field, "it is not a string"));
        };
        if let Some(problem) = pasted_wrong(&value) {
            return Err(invalid(id, &field, format!("it {problem}; {PASTE_HINT}")));
        }
        if !value.trim().is_empty() {
            entry.insert(field, value);
        }
    }
    Ok(entry)
}

/// An RFC 3339 time, with an optional fraction and numeric offset.
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if let Some(utc) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return humantime::parse_rfc3339(&format!("{utc}Z")).ok();
    }
    let split = text.len().checked_sub(6)?;
    let (local, offset) = (text.get(..split)?, text.get(split..)?);
    let sign = match offset.as_bytes().first()? {
        b'+' => 1i64,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = offset.get(1..)?.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (u64, u64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    let local = humantime::parse_rfc3339(&format!("{local}Z")).ok()?;
    let offset = Duration::from_secs(hours * 3600 + minutes * 60);
    // UTC is local time minus the offset.
    if sign > 0 {
        local.checked_sub(offset)
    } else {
        local.checked_add(offset)
    }
}

#[cfg(test)]
#[path = "../tests/config_endpoints.rs"]
mod tests;
