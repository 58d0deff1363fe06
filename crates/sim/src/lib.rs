//! org-change-sim: sends webhooks to a relay as Feishu and Feilian do, to test a
//! deployment before a console points at it.
//!
//! ```text
//! org-change-sim challenge --url https://.../feishu
//! org-change-sim challenge --url https://.../feishu/lark-global
//! org-change-sim trigger --url https://.../feishu corehr.department.updated_v2
//! org-change-sim trigger --url https://.../feilian --id od_mytest all
//! org-change-sim trigger --list
//! org-change-sim send --url https://.../feilian events/feilian/department.v1.update.json
//! ```
//!
//! The binary `org-change-sim` (`src/bin/org-change-sim.rs`) wraps [`main`].

#![warn(missing_docs)]

mod templates;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::builder::NonEmptyStringValueParser;
use clap::{Args, Parser};
use org_change_core::{EncryptKey, EndpointId, Source, cipher, signature};
use serde_json::{Value, json};
use templates::{Template, new_event_id};

#[derive(Parser)]
#[command(
    version,
    about = "Send Feishu and Feilian org-change webhooks to a relay, encrypted and signed like the platforms"
)]
enum Command {
    /// Send the URL-verification challenge and check that it comes back.
    Challenge {
        #[command(flatten)]
        target: Target,
    },
    /// Send a fresh event of each given type, like `stripe trigger`.
    ///
    /// Each event is the type's sample from events/ with a new event id, the current
    /// time as create_time, a new entity id (or --id) and your token; encrypted and
    /// signed like the platform does. Feilian events carry one change (the first of data.events).
    #[command(
        override_usage = "org-change-sim trigger --url <URL> [OPTIONS] <EVENT_TYPE|all>...\n       org-change-sim trigger --list",
        after_help = "Run `org-change-sim trigger --list` for the event types."
    )]
    Trigger(Trigger),
    /// Send event bodies (JSON files, e.g. from events/), one request each.
    Send {
        #[command(flatten)]
        target: Target,
        /// Event bodies to send; their token is replaced by the configured one, and
        /// their header.create_time, where they have one, by the current time.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
// `--list` needs no URL; the other commands always do.
#[command(mut_arg("url", |url| url.required(false).required_unless_present("list")))]
struct Trigger {
    /// Print the event types of each source, and exit.
    #[arg(long, conflicts_with_all = ["id", "event_types"])]
    list: bool,
    #[command(flatten)]
    target: Option<Target>,
    /// The entity id to put in every event (department_id, org_id, open_department_id
    /// or open_id), to find your test event downstream [default: a new one per event].
    #[arg(long, value_parser = NonEmptyStringValueParser::new())]
    id: Option<String>,
    /// Event types of the URL's source, or `all` for every one of them.
    #[arg(value_name = "EVENT_TYPE", required_unless_present = "list")]
    event_types: Vec<String>,
}

/// The word for every event type of a source.
const ALL: &str = "all";

#[derive(Args)]
struct Target {
    /// The webhook URL: …/feishu or …/feilian (a default endpoint), or
    /// …/feishu/<name>, …/feilian/<name> (a named one). After `make relay`,
    /// `. .demo/env` sets RELAY_URL.
    #[arg(long, env = "RELAY_URL")]
    url: String,
    /// The source, when the URL names no endpoint (then it is sent as to that
    /// platform's default endpoint); when it names one, it must be that endpoint's.
    #[arg(long, value_parser = parse_source)]
    source: Option<Source>,
    /// The Verification Token [default: $FEISHU_VERIFICATION_TOKEN or $FEILIAN_VERIFICATION_TOKEN; for a named endpoint its verification_token in $ENDPOINTS].
    #[arg(long)]
    token: Option<String>,
    /// The Encrypt Key; without one, or with an empty one (`--key ''`, whatever the variables hold), the body is sent in plaintext [default: $FEISHU_ENCRYPT_KEY or $FEILIAN_ENCRYPT_KEY; for a named endpoint its encrypt_key in $ENDPOINTS].
    #[arg(long)]
    key: Option<String>,
}

fn parse_source(value: &str) -> Result<Source, String> {
    Source::ALL
        .into_iter()
        .find(|source| source.as_str() == value)
        .ok_or_else(|| format!("{value:?} is neither feishu nor feilian"))
}

/// A resolved target: where to send, and the secrets to send with.
struct Sender {
    url: String,
    endpoint: EndpointId,
    token: String,
    key: Option<String>,
    agent: ureq::Agent,
}

/// `url`, with `http://` if it has no scheme: `127.0.0.1:9000/…/feishu` is the local relay.
fn with_scheme(url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

/// What to say when no answer came: the local relay is compiled on its first request,
/// and one with a bad setting exits at start.
fn no_answer(url: &str, err: &ureq::Error) -> String {
    let hint = match err {
        _ if is_local_https(url) => ": a local relay speaks plain HTTP: use http://",
        ureq::Error::Timeout(_)
        | ureq::Error::Io(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound => {
            ": no answer. A local relay may still be compiling (try again in a minute), \
             or it may have exited: look for `configuration error` in its output"
        }
        _ => "",
    };
    format!("POST {url}: {err}{hint}")
}

/// Whether `url` asks for TLS from this machine, where the emulator serves plain HTTP.
fn is_local_https(url: &str) -> bool {
    url.parse::<ureq::http::Uri>().is_ok_and(|uri| {
        uri.scheme_str() == Some("https")
            && matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]"))
    })
}

/// The endpoint a URL's path names, as the relay routes it.
fn endpoint_of(url: &str) -> Option<EndpointId> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    EndpointId::from_path(uri.path())
}

/// The endpoint `url` names, or the default one of `--source`; they must agree.
fn endpoint_for(url: &str, source: Option<Source>) -> Result<EndpointId, String> {
    match (endpoint_of(url), source) {
        (Some(endpoint), Some(source)) if endpoint.source() != source => Err(format!(
            "--source {} contradicts {url}, which names the {} endpoint {endpoint}: drop --source or fix the URL",
            source.as_str(),
            endpoint.source().as_str(),
        )),
        (Some(endpoint), _) => Ok(endpoint),
        (None, Some(source)) => Ok(EndpointId::default_of(source)),
        (None, None) => Err(format!(
            "{url} does not end in /feishu, /feilian, /feishu/<name> or /feilian/<name>: pass --source"
        )),
    }
}

/// The token and key the relay reads for `endpoint` from `env`.
/// A named endpoint's are in the JSON of `ENDPOINTS`.
fn relay_secrets(
    endpoint: &EndpointId,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(Option<String>, Option<String>), String> {
    let env = |name: &str| env(name).filter(|value| !value.is_empty());
    let source = endpoint.source();
    if endpoint.name().is_none() {
        let token = env(&relay_var(source, "VERIFICATION_TOKEN"));
        return Ok((token, env(&relay_var(source, "ENCRYPT_KEY"))));
    }
    let Some(endpoints) = env("ENDPOINTS") else {
        return Ok((None, None));
    };
    let endpoints: Value = serde_json::from_str(&endpoints).map_err(|err| {
        format!(
            "ENDPOINTS is not JSON (line {}, column {})",
            err.line(),
            err.column()
        )
    })?;
    let field = |name: &str| {
        let value = endpoints[endpoint.as_str()][name].as_str();
        value.filter(|value| !value.is_empty()).map(str::to_owned)
    };
    Ok((field("verification_token"), field("encrypt_key")))
}

impl Sender {
    fn new(target: Target) -> Result<Self, String> {
        let url = with_scheme(&target.url);
        let endpoint = endpoint_for(&url, target.source)?;
        let (token_from, key_from) = relay_secrets(&endpoint, |name| std::env::var(name).ok())?;
        let token = target.token.or(token_from).ok_or_else(|| match endpoint.name() {
            None => format!(
                "no token: pass --token or set {}",
                relay_var(endpoint.source(), "VERIFICATION_TOKEN")
            ),
            Some(_) => format!(
                "no token: pass --token or set ENDPOINTS with {{\"{endpoint}\": {{\"verification_token\": …}}}}"
            ),
        })?;
        // An empty key is no key, as for the relay; `--key ''` asks for plaintext.
        let key = target.key.or(key_from).filter(|key| !key.is_empty());
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build();
        Ok(Self {
            url,
            endpoint,
            token,
            key,
            agent: config.into(),
        })
    }

    /// The body the platform would send: the envelope, encrypted if there is a key.
    fn body(&self, envelope: &Value) -> Result<String, String> {
        let plaintext = envelope.to_string();
        let Some(key) = &self.key else {
            return Ok(plaintext);
        };
        let encrypted = cipher::encrypt(&EncryptKey::new(key), plaintext.as_bytes(), random()?);
        Ok(json!({ "encrypt": encrypted }).to_string())
    }

    /// Sends one envelope as the platform would; returns the status and body.
    fn send(&self, envelope: &Value) -> Result<(u16, String), String> {
        let body = self.body(envelope)?;
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json; charset=utf-8");
        // Feishu signs every request but the challenge, with an empty key when none is set.
        let is_challenge = envelope["type"] == "url_verification";
        if self.endpoint.source() == Source::Feishu && !is_challenge {
            let timestamp = now().as_secs().to_string();
            let nonce = hex::encode(random::<8>()?);
            let key = EncryptKey::new(self.key.as_deref().unwrap_or_default());
            let signature = signature::sign(&timestamp, &nonce, &key, body.as_bytes());
            request = request
                .header("X-Lark-Request-Timestamp", &timestamp)
                .header("X-Lark-Request-Nonce", &nonce)
                .header("X-Lark-Signature", &signature);
        }
        let mut response = request
            .send(&body)
            .map_err(|err| no_answer(&self.url, &err))?;
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((response.status().as_u16(), text))
    }

    /// Sends `envelope` with our token and prints `<what> → <status> <body>`.
    /// Returns whether the answer was a 2xx.
    fn report(&self, what: &str, envelope: Value) -> Result<bool, String> {
        let (status, body) = self.send(&self.with_token(envelope))?;
        println!("{what} → {status} {body}");
        Ok((200..300).contains(&status))
    }

    /// Sets the envelope's token to ours, where the platform puts it.
    fn with_token(&self, mut envelope: Value) -> Value {
        let place = match envelope.get_mut("header") {
            Some(header) if header.is_object() => header,
            _ => &mut envelope,
        };
        if let Some(object) = place.as_object_mut() {
            object.insert("token".into(), json!(self.token));
        }
        envelope
    }
}

/// `envelope` with its `header.create_time`, if any, set to `millis`.
/// The relay refuses an encrypted Feilian event outside its replay window
/// (`docs/protocol.md`, "Replay window").
fn dated(mut envelope: Value, millis: u128) -> Value {
    if let Some(time) = envelope.pointer_mut("/header/create_time") {
        *time = json!(millis.to_string());
    }
    envelope
}

/// The relay's variable for a default endpoint's setting (`FEISHU_ENCRYPT_KEY`).
/// The simulator reads it too, so one shell drives both.
fn relay_var(source: Source, setting: &str) -> String {
    format!("{}_{setting}", source.as_str().to_uppercase())
}

/// `N` random bytes.
fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| format!("no randomness: {err}"))?;
    Ok(bytes)
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// `trigger --list`: the event types of each source.
fn list(templates: &[Template]) {
    for source in Source::ALL {
        let name = source.as_str();
        println!("{name} (a URL ending in /{name} or /{name}/<name>):");
        for template in templates.iter().filter(|t| t.source == source) {
            let (entity, action) = (template.entity.as_str(), template.action.as_str());
            println!("  {:<32} {entity} {action}", template.event_type);
        }
    }
    println!("{ALL}: every event type of the URL's source");
}

/// The templates `names` ask for, in order; an unknown name's error lists the valid ones.
fn select<'a>(
    templates: &'a [Template],
    source: Source,
    names: &[String],
) -> Result<Vec<&'a Template>, String> {
    let of_source: Vec<&Template> = templates.iter().filter(|t| t.source == source).collect();
    let mut selected = Vec::new();
    for name in names {
        if name == ALL {
            selected.extend(&of_source);
        } else if let Some(template) = of_source.iter().find(|t| t.event_type == *name) {
            selected.push(*template);
        } else {
            let valid: Vec<&str> = of_source.iter().map(|t| t.event_type.as_str()).collect();
            let elsewhere = templates
                .iter()
                .find(|t| t.event_type == *name)
                .map(|t| format!(" (it is a {} event type)", t.source.as_str()))
                .unwrap_or_default();
            let source = source.as_str();
            return Err(format!(
                "{name:?} is not a {source} event type{elsewhere}; the {source} types are: {}, or {ALL}",
                valid.join(", ")
            ));
        }
    }
    Ok(selected)
}

fn trigger(trigger: Trigger) -> Result<bool, String> {
    let templates = Template::all()?;
    if trigger.list {
        list(&templates);
        return Ok(true);
    }
    let target = trigger
        .target
        .ok_or("trigger needs --url (or RELAY_URL); `trigger --list` shows the event types")?;
    let sender = Sender::new(target)?;
    let source = sender.endpoint.source();
    let mut all_ok = true;
    for template in select(&templates, source, &trigger.event_types)? {
        let event_id = new_event_id(source, random::<16>()?);
        let entity_id = match &trigger.id {
            Some(id) => id.clone(),
            None => template.new_entity_id(&random::<64>()?),
        };
        let event = template.event(&event_id, &entity_id, now().as_millis());
        let what = format!(
            "{} event_id={event_id} entity_id={entity_id}",
            template.event_type
        );
        all_ok &= sender.report(&what, event)?;
    }
    Ok(all_ok)
}

/// `challenge`: whether the challenge came back in a 200.
fn challenge(sender: &Sender) -> Result<bool, String> {
    let challenge = format!("sim-{}", hex::encode(random::<8>()?));
    let envelope = sender.with_token(json!({ "challenge": challenge, "type": "url_verification" }));
    let (status, body) = sender.send(&envelope)?;
    let echoed = status == 200 && body.contains(&challenge);
    println!("{} challenge → {status} {body}", sender.endpoint);
    let verdict = if echoed {
        "ok: the challenge came back"
    } else {
        "FAILED: the challenge did not come back"
    };
    println!("{verdict}");
    Ok(echoed)
}

fn run(command: Command) -> Result<bool, String> {
    match command {
        Command::Challenge { target } => challenge(&Sender::new(target)?),
        Command::Trigger(options) => trigger(options),
        Command::Send { target, files } => {
            let sender = Sender::new(target)?;
            let mut all_ok = true;
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .map_err(|err| format!("{}: {err}", file.display()))?;
                let envelope: Value = serde_json::from_str(&text)
                    .map_err(|err| format!("{}: not JSON: {err}", file.display()))?;
                let envelope = dated(envelope, now().as_millis());
                all_ok &= sender.report(&file.display().to_string(), envelope)?;
            }
            Ok(all_ok)
        }
    }
}

/// Parses the command line and runs the command: exit code 0 when every request got
/// a 2xx (and the challenge came back), 1 when one did not, 2 on a usage error.
pub fn main() -> ExitCode {
    match run(Command::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("org-change-sim: {err}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
#[path = "tests/lib.rs"]
mod tests;
