//! org-change-sim: sends platform-shaped webhooks to a relay, the way Feishu and
//! Feilian send them, so that a deployment can be tested before a console is
//! pointed at it.
//!
//! ```text
//! org-change-sim challenge --url https://.../feishu
//! org-change-sim send --url https://.../feilian events/feilian/department.v1.update.json
//! ```
//!
//! The token and key come from the flags or from the same variables the relay reads
//! (`FEISHU_VERIFICATION_TOKEN`, `FEISHU_ENCRYPT_KEY`, `FEILIAN_...`). With a key the
//! body is encrypted; Feishu requests are also signed, as Feishu signs them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use org_change_relay::protocol::{EncryptKey, Source, cipher, signature};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    version,
    about = "Send Feishu and Feilian org-change webhooks to a relay, encrypted and signed like the platforms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send the URL-verification challenge and check that it comes back.
    Challenge {
        #[command(flatten)]
        target: Target,
    },
    /// Send event bodies (JSON files, e.g. from events/), one request each.
    Send {
        #[command(flatten)]
        target: Target,
        /// Event bodies to send; their token is replaced by the configured one.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct Target {
    /// The webhook URL; its last path segment (feishu or feilian) names the source.
    #[arg(long, env = "RELAY_URL")]
    url: String,
    /// The source, when the URL does not end in /feishu or /feilian.
    #[arg(long, value_parser = parse_source)]
    source: Option<Source>,
    /// The Verification Token [default: $FEISHU_VERIFICATION_TOKEN or $FEILIAN_VERIFICATION_TOKEN].
    #[arg(long)]
    token: Option<String>,
    /// The Encrypt Key; without one the body is sent in plaintext [default: $FEISHU_ENCRYPT_KEY or $FEILIAN_ENCRYPT_KEY].
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
    source: Source,
    token: String,
    key: Option<String>,
    agent: ureq::Agent,
}

impl Sender {
    fn new(target: Target) -> Result<Self, String> {
        let source = match target.source {
            Some(source) => source,
            None => {
                let last = target
                    .url
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or_default();
                parse_source(last).map_err(|_| {
                    format!(
                        "{} does not end in /feishu or /feilian: pass --source",
                        target.url
                    )
                })?
            }
        };
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let token = target
            .token
            .or_else(|| env(source.token_var()))
            .ok_or_else(|| format!("no token: pass --token or set {}", source.token_var()))?;
        let key = target.key.or_else(|| env(source.key_var()));
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build();
        Ok(Self {
            url: target.url,
            source,
            token,
            key,
            agent: config.into(),
        })
    }

    /// Sends one envelope the way the platform would; returns the status and body.
    fn send(&self, envelope: &Value) -> Result<(u16, String), String> {
        let plaintext = envelope.to_string();
        let body = match &self.key {
            Some(key) => {
                let iv = random::<16>()?;
                json!({ "encrypt": cipher::encrypt(&EncryptKey::new(key), plaintext.as_bytes(), iv) }).to_string()
            }
            None => plaintext,
        };
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json; charset=utf-8");
        // Feishu signs every request but the challenge, with an empty key when none is set.
        let is_challenge = envelope["type"] == "url_verification";
        if self.source.signs_requests() && !is_challenge {
            let timestamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            let timestamp = timestamp.to_string();
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
            .map_err(|err| format!("POST {}: {err}", self.url))?;
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((response.status().as_u16(), text))
    }

    /// Sets the envelope's token to ours, where the platform puts it.
    fn with_token(&self, mut envelope: Value) -> Value {
        match envelope.get_mut("header").and_then(Value::as_object_mut) {
            Some(header) => {
                header.insert("token".into(), json!(self.token));
            }
            None => {
                if let Some(object) = envelope.as_object_mut() {
                    object.insert("token".into(), json!(self.token));
                }
            }
        }
        envelope
    }
}

/// `N` random bytes (IVs, nonces, challenge values).
fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| format!("no randomness: {err}"))?;
    Ok(bytes)
}

fn run(cli: Cli) -> Result<bool, String> {
    match cli.command {
        Command::Challenge { target } => {
            let sender = Sender::new(target)?;
            let challenge = format!("sim-{}", hex::encode(random::<8>()?));
            let envelope =
                sender.with_token(json!({ "challenge": challenge, "type": "url_verification" }));
            let (status, body) = sender.send(&envelope)?;
            let echoed = body.contains(&challenge);
            println!("{} challenge → {status} {body}", sender.source.as_str());
            println!(
                "{}",
                if status == 200 && echoed {
                    "ok: the challenge came back"
                } else {
                    "FAILED: the challenge did not come back"
                }
            );
            Ok(status == 200 && echoed)
        }
        Command::Send { target, files } => {
            let sender = Sender::new(target)?;
            let mut all_ok = true;
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .map_err(|err| format!("{}: {err}", file.display()))?;
                let envelope: Value = serde_json::from_str(&text)
                    .map_err(|err| format!("{}: not JSON: {err}", file.display()))?;
                let (status, body) = sender.send(&sender.with_token(envelope))?;
                println!("{} → {status} {body}", file.display());
                all_ok &= (200..300).contains(&status);
            }
            Ok(all_ok)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("org-change-sim: {err}");
            ExitCode::from(2)
        }
    }
}
