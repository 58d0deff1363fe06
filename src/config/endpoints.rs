//! The endpoints: the default ones from their variables, the named ones and the previous
//! pairs of a rotation from `ENDPOINTS` (`docs/operations.md`, "Named endpoints and
//! previous pairs").
//!
//! `ENDPOINTS` is a JSON object keyed by endpoint id, whose values are objects of strings:
//! an object in the secret, JSON text in the variable.
//!
//! A default endpoint's entry holds only its previous pair: its current settings are
//! variables named after the endpoint and the field (`FEISHU_ENCRYPT_KEY`). A previous pair
//! without `previous_encrypt_key` keeps the current key. An error names the endpoint and
//! the field, never a value.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::json::{self, JsonError};
use super::open_app::{self, OpenApp};
use super::{ConfigError, PASTE_HINT, SECRET_VARS, fingerprint, invalid, pasted_wrong};
use org_change_core::{EncryptKey, Endpoint, EndpointId, Setting, Source, VerificationToken};

/// The variable, and key of the secret, holding the endpoints object.
pub const ENDPOINTS_VAR: &str = "ENDPOINTS";

/// How far ahead of the start `previous_until` may be. A rotation is an overlap of hours or
/// days, not a second set of credentials kept for ever.
pub const MAX_PREVIOUS_VALIDITY: Duration = Duration::from_secs(7 * 86_400);

const VERIFICATION_TOKEN: &str = "verification_token";
const ENCRYPT_KEY: &str = "encrypt_key";
const PREVIOUS_VERIFICATION_TOKEN: &str = "previous_verification_token";
const PREVIOUS_ENCRYPT_KEY: &str = "previous_encrypt_key";
const PREVIOUS_UNTIL: &str = "previous_until";

/// The fields of one endpoint's entry, the ones a default endpoint has as variables first.
pub const FIELDS: [&str; 8] = [
    VERIFICATION_TOKEN,
    ENCRYPT_KEY,
    open_app::APP_ID,
    open_app::APP_SECRET,
    open_app::API_HOST,
    PREVIOUS_ENCRYPT_KEY,
    PREVIOUS_UNTIL,
    PREVIOUS_VERIFICATION_TOKEN,
];

/// The fields that are no secret, so have no fingerprint. Every event carries its App ID.
const PUBLIC: [&str; 3] = [PREVIOUS_UNTIL, open_app::APP_ID, open_app::API_HOST];

/// One entry's fields. Empty ones are dropped, as unset.
type Entry = BTreeMap<String, String>;

#[derive(Debug, Default)]
pub struct Endpoints {
    pub endpoints: BTreeMap<String, Endpoint>,
    pub apps: BTreeMap<String, OpenApp>,
    /// `(where, fingerprint)` of each secret value of `ENDPOINTS`, in id then field order.
    pub fingerprints: Vec<(String, String)>,
    /// Expired previous pairs, ignored and warned about at start.
    pub warnings: Vec<String>,
}

fn entry_place(id: &str) -> String {
    format!("{ENDPOINTS_VAR}[{id:?}]")
}

/// Where `field` of endpoint `id` is set: a variable or a place in `ENDPOINTS`.
pub fn field_place(id: &EndpointId, field: &str) -> String {
    if id.is_default() && !field.starts_with("previous_") {
        format!("{}_{field}", id.as_str()).to_ascii_uppercase()
    } else {
        format!("{}.{field}", entry_place(id.as_str()))
    }
}

pub fn setting_place(id: &EndpointId, setting: Setting) -> String {
    match setting {
        Setting::VerificationToken => field_place(id, VERIFICATION_TOKEN),
        Setting::EncryptKey => field_place(id, ENCRYPT_KEY),
    }
}

/// Every endpoint and app through `lookup`: the variables and `ENDPOINTS`, with the
/// fingerprint of each secret. The enricher reads them too, without the relay's queue.
pub fn read_endpoints(
    lookup: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<Endpoints, ConfigError> {
    // Whitespace or quotes around a pasted secret would make every delivery fail for
    // hours, so they stop the function now.
    for var in SECRET_VARS {
        if let Some(problem) = lookup(var).and_then(|value| pasted_wrong(&value)) {
            return Err(invalid(var, format!("it {problem}; {PASTE_HINT}")));
        }
    }
    let get = &|name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    let mut entries = match get(ENDPOINTS_VAR) {
        Some(text) => parse(&text)?,
        None => BTreeMap::new(),
    };
    for source in [Source::Feishu, Source::Feilian] {
        entries.entry(EndpointId::default_of(source)).or_default();
    }
    // An App ID is no secret: every event carries it.
    let secrets = SECRET_VARS
        .into_iter()
        .filter(|var| *var != "FEISHU_APP_ID");
    let mut out = Endpoints {
        fingerprints: secrets
            .filter_map(|var| get(var).map(|value| (var.to_owned(), fingerprint(&value))))
            .collect(),
        ..Endpoints::default()
    };
    for (id, entry) in &entries {
        for (field, value) in entry
            .iter()
            .filter(|(field, _)| !PUBLIC.contains(&field.as_str()))
        {
            out.fingerprints
                .push((field_place(id, field), fingerprint(value)));
        }
        let settings = Settings { id, entry, get };
        if let Some(endpoint) = settings.endpoint(now, &mut out.warnings)? {
            let place = |field: &str| field_place(id, field);
            if let Some(app) = open_app::read(|field| settings.get(field), place)? {
                out.apps.insert(id.as_str().to_owned(), app);
            }
            out.endpoints.insert(id.as_str().to_owned(), endpoint);
        }
    }
    if out.endpoints.is_empty() {
        return Err(ConfigError::NoSource);
    }
    Ok(out)
}

/// One endpoint's settings: its entry, and a default endpoint's variables.
struct Settings<'a> {
    id: &'a EndpointId,
    entry: &'a Entry,
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl Settings<'_> {
    fn get(&self, field: &str) -> Option<String> {
        let feilian = self.id.source() == Source::Feilian;
        if feilian && open_app::FIELDS.contains(&field) {
            None
        } else if self.id.is_default() && !field.starts_with("previous_") {
            (self.get)(&field_place(self.id, field))
        } else {
            self.entry.get(field).cloned()
        }
    }

    fn invalid(&self, field: &str, reason: impl Into<String>) -> ConfigError {
        invalid(field_place(self.id, field), reason)
    }

    /// The endpoint, or `None` when it is disabled: it has no token.
    fn endpoint(
        &self,
        now: SystemTime,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Endpoint>, ConfigError> {
        let Some(token) = self.get(VERIFICATION_TOKEN) else {
            if !self.id.is_default() {
                return Err(self.invalid(
                    VERIFICATION_TOKEN,
                    "it is required: a named endpoint needs the console's Verification Token (remove the entry to disable the endpoint)",
                ));
            }
            return match FIELDS.into_iter().find(|field| self.get(field).is_some()) {
                Some(field) => Err(self.invalid(
                    field,
                    format!(
                        "it is set but the endpoint is disabled: {} is not set; set the token from the console",
                        field_place(self.id, VERIFICATION_TOKEN)
                    ),
                )),
                None => Ok(None),
            };
        };
        let key = self.get(ENCRYPT_KEY).map(|key| EncryptKey::new(&key));
        let current = Endpoint::with_id(self.id.clone(), VerificationToken::new(&token), key);
        self.with_previous(current, now, warnings).map(Some)
    }

    /// `endpoint` with the previous pair, unless it has expired.
    fn with_previous(
        &self,
        endpoint: Endpoint,
        now: SystemTime,
        warnings: &mut Vec<String>,
    ) -> Result<Endpoint, ConfigError> {
        let Some(token) = self.get(PREVIOUS_VERIFICATION_TOKEN) else {
            return match [PREVIOUS_ENCRYPT_KEY, PREVIOUS_UNTIL]
                .into_iter()
                .find(|field| self.get(field).is_some())
            {
                Some(field) => Err(self.invalid(
                    field,
                    format!(
                        "it is set but {PREVIOUS_VERIFICATION_TOKEN} is not; a previous pair is the old token, the old key if there was one, and {PREVIOUS_UNTIL}"
                    ),
                )),
                None => Ok(endpoint),
            };
        };
        let Some(until) = self.previous_until(now, warnings)? else {
            return Ok(endpoint);
        };
        // Absent never means "no key": a forgotten field must not let plaintext in for days.
        let key = match self.get(PREVIOUS_ENCRYPT_KEY) {
            Some(key) => Some(EncryptKey::new(&key)),
            None => endpoint.current_key().cloned(),
        };
        Ok(endpoint.with_previous(VerificationToken::new(&token), key, until))
    }

    /// When the previous pair expires: at most [`MAX_PREVIOUS_VALIDITY`] after `now`.
    /// `None` when it already has, with a warning.
    fn previous_until(
        &self,
        now: SystemTime,
        warnings: &mut Vec<String>,
    ) -> Result<Option<SystemTime>, ConfigError> {
        let text = self.get(PREVIOUS_UNTIL).ok_or_else(|| {
            self.invalid(
                PREVIOUS_UNTIL,
                "it is required with a previous pair: the RFC 3339 time until which the old pair is accepted (e.g. 2026-12-07T00:00:00Z), at most 7 days ahead",
            )
        })?;
        let until = OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map(SystemTime::from)
            .map_err(|_| {
                self.invalid(
                    PREVIOUS_UNTIL,
                    format!(
                        "{text:?} is not an RFC 3339 time (e.g. 2026-12-07T00:00:00Z or 2026-12-07T08:00:00+08:00)"
                    ),
                )
            })?;
        let at = |time| humantime::format_rfc3339_seconds(time);
        if until <= now {
            warnings.push(format!(
                "{} expired at {}: the previous pair of the {} endpoint is ignored; remove it from {ENDPOINTS_VAR}",
                field_place(self.id, PREVIOUS_UNTIL),
                at(until),
                self.id.as_str(),
            ));
            return Ok(None);
        }
        if until > now + MAX_PREVIOUS_VALIDITY {
            return Err(self.invalid(
                PREVIOUS_UNTIL,
                format!(
                    "{text:?} is more than 7 days after the start ({}): an old pair is accepted for a rotation, not kept",
                    at(now)
                ),
            ));
        }
        Ok(Some(until))
    }
}

/// The entries of `ENDPOINTS`, each id and field given once. serde's messages may quote a
/// value, so only positions and names are reported.
pub(super) fn parse(text: &str) -> Result<BTreeMap<EndpointId, Entry>, ConfigError> {
    let ids = json::object(text).map_err(|err| match err {
        JsonError::Syntax { line, column } => invalid(
            ENDPOINTS_VAR,
            format!(
                "is not JSON (line {line}, column {column}); expected an object like {{\"feishu/<name>\": {{\"verification_token\": \"…\", \"encrypt_key\": \"…\"}}}}"
            ),
        ),
        JsonError::NotAnObject => invalid(
            ENDPOINTS_VAR,
            "is not a JSON object keyed by endpoint (feishu/<name>, feilian/<name>, feishu, feilian); in the secret too it must be a JSON object, not text",
        ),
        JsonError::Repeated(id) => super::repeated(entry_place(&id), ""),
    })?;
    ids.into_iter()
        .map(|(text, entry)| {
            let id = EndpointId::parse(&text)
                .map_err(|err| invalid(entry_place(&text), err.to_string()))?;
            let entry = strings(&id, entry.get())?;
            Ok((id, entry))
        })
        .collect()
}

/// One entry: an object of strings, named in [`FIELDS`]. It holds no app on Feilian, and
/// only the previous pair on a default endpoint.
fn strings(id: &EndpointId, text: &str) -> Result<Entry, ConfigError> {
    let (fields, at) = (FIELDS.join(", "), entry_place(id.as_str()));
    let object = json::object(text).map_err(|err| match err {
        JsonError::Repeated(field) => super::repeated(format!("{at}.{field}"), ""),
        _ => invalid(
            &at,
            format!("is not an object of strings; its fields: {fields}"),
        ),
    })?;
    let mut entry = Entry::new();
    for (field, value) in object {
        if !FIELDS.contains(&field.as_str()) {
            let reason = format!("has an unknown field {field:?}; its fields: {fields}");
            return Err(invalid(at, reason));
        }
        let place = format!("{at}.{field}");
        let value: String = serde_json::from_str(value.get())
            .map_err(|_| invalid(place.as_str(), "it is not a string"))?;
        if let Some(problem) = pasted_wrong(&value) {
            return Err(invalid(place, format!("it {problem}; {PASTE_HINT}")));
        }
        if value.trim().is_empty() {
            continue;
        }
        if id.source() == Source::Feilian && open_app::FIELDS.contains(&field.as_str()) {
            return Err(invalid(
                place,
                "a Feilian endpoint has no app; app credentials are for a Feishu or Lark app's API",
            ));
        }
        if id.is_default() && !field.starts_with("previous_") {
            let home = field_place(id, &field);
            return Err(invalid(
                place,
                format!(
                    "a default endpoint's current setting has one home, {home}: set it there (only the previous_* fields belong here)"
                ),
            ));
        }
        entry.insert(field, value);
    }
    Ok(entry)
}

#[cfg(test)]
#[path = "../tests/config_endpoints.rs"]
mod tests;
