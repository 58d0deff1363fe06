//! What the core's tests share: endpoints with the test secrets, requests built the
//! way the platforms build them (plaintext, encrypted, signed), the samples in the
//! repository's `events/`, and the messages of a delivery read back as JSON.
//!
//! Only the crate's public API is used, so these tests break only when behaviour does.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;

use org_change_core::signature::sign;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use org_change_core::{
    Delivery, EncryptKey, Endpoint, Inbound, Rejection, ReplayWindow, SignatureHeaders, Source,
    VerificationToken, cipher, receive,
};
use serde_json::{Value, json};

/// The tokens of the samples in `events/`, and keys of our own.
pub const FEISHU_TOKEN: &str = "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV";
pub const FEISHU_KEY: &str = "feishu-encrypt-key";
pub const FEILIAN_TOKEN: &str = "token-test";
pub const FEILIAN_KEY: &str = "testkey";

/// The token the samples of `source` carry.
pub fn token_of(source: Source) -> &'static str {
    match source {
        Source::Feishu => FEISHU_TOKEN,
        _ => FEILIAN_TOKEN,
    }
}

/// The test Encrypt Key of `source`.
pub fn key_of(source: Source) -> &'static str {
    match source {
        Source::Feishu => FEISHU_KEY,
        _ => FEILIAN_KEY,
    }
}

/// The clock these tests run at: 2100-01-01T00:00:00Z, after every time the samples
/// and the signed requests carry.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(4_102_444_800)
}

/// An endpoint of `source` with `token` and, if given, an Encrypt Key. Its replay
/// window is opened to 200 years so that the samples' documented times (2020, 2025)
/// and the fixed signing time pass: the window itself is tested next to its code
/// (`crates/core/src/window.rs`, `receive.rs`) and through the adapter.
pub fn endpoint(source: Source, token: &str, key: Option<&str>) -> Endpoint {
    Endpoint::new(
        source,
        VerificationToken::new(token),
        key.map(EncryptKey::new),
    )
    .with_replay_window(ReplayWindow::new(Duration::from_secs(200 * 365 * 86_400)))
}

/// An endpoint of `source` with the samples' token and no Encrypt Key.
pub fn plain_endpoint(source: Source) -> Endpoint {
    endpoint(source, token_of(source), None)
}

/// An endpoint of `source` with the samples' token and the test Encrypt Key.
pub fn keyed_endpoint(source: Source) -> Endpoint {
    endpoint(source, token_of(source), Some(key_of(source)))
}

/// A request as it reaches the core: the raw body and, if sent, the three
/// `X-Lark-*` headers (timestamp, nonce, signature).
#[derive(Debug, Clone)]
pub struct Request {
    pub body: Vec<u8>,
    pub headers: Option<(String, String, String)>,
}

impl Request {
    /// `body` as it is, unsigned.
    pub fn plain(body: impl Into<Vec<u8>>) -> Self {
        Self {
            body: body.into(),
            headers: None,
        }
    }

    /// `{"encrypt": ...}` around `plaintext` with `key`, unsigned (Feilian, or a
    /// Feishu URL verification).
    pub fn encrypted(key: &str, plaintext: &str) -> Self {
        Self::plain(encrypt(key, plaintext))
    }

    /// [`Request::encrypted`], then signed with `key` as Feishu signs.
    pub fn encrypted_signed(key: &str, plaintext: &str) -> Self {
        Self::encrypted(key, plaintext).signed(key)
    }

    /// This body signed with `key` (timestamp and nonce fixed), the way Feishu signs:
    /// over the raw bytes.
    pub fn signed(self, key: &str) -> Self {
        let (timestamp, nonce) = ("1700000000", "nonce-42");
        let signature = sign(timestamp, nonce, &EncryptKey::new(key), &self.body);
        self.with_headers(timestamp, nonce, &signature)
    }

    /// This body with the given signature headers.
    pub fn with_headers(mut self, timestamp: &str, nonce: &str, signature: &str) -> Self {
        self.headers = Some((timestamp.into(), nonce.into(), signature.into()));
        self
    }

    pub fn inbound(&self) -> Inbound<'_> {
        Inbound {
            body: &self.body,
            signature: self.headers.as_ref().map(|(timestamp, nonce, signature)| {
                SignatureHeaders {
                    timestamp,
                    nonce,
                    signature,
                }
            }),
        }
    }
}

/// `{"encrypt": ...}` around `plaintext`, the way both platforms encrypt.
pub fn encrypt(key: &str, plaintext: &str) -> String {
    let sealed = cipher::encrypt(
        &EncryptKey::new(key),
        plaintext.as_bytes(),
        *b"0123456789abcdef",
    );
    json!({ "encrypt": sealed }).to_string()
}

/// Runs the core on `request`.
pub fn run(endpoint: &Endpoint, request: &Request) -> Result<Delivery, Rejection> {
    receive(endpoint, request.inbound(), now())
}

/// How a plaintext body travels to an endpoint of its platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As it is, to an endpoint without an Encrypt Key.
    Plaintext,
    /// Encrypted with the endpoint's key, unsigned (Feilian signs nothing).
    Encrypted,
    /// Encrypted with the endpoint's key and signed with it (Feishu).
    EncryptedSigned,
}

impl Mode {
    /// The modes each platform sends events in.
    pub fn of(source: Source) -> &'static [Mode] {
        match source {
            Source::Feishu => &[Mode::Plaintext, Mode::EncryptedSigned],
            _ => &[Mode::Plaintext, Mode::Encrypted],
        }
    }

    /// The endpoint of `source` for this mode, and `plaintext` packed for it.
    pub fn prepare(self, source: Source, plaintext: &str) -> (Endpoint, Request) {
        let key = key_of(source);
        match self {
            Mode::Plaintext => (plain_endpoint(source), Request::plain(plaintext)),
            Mode::Encrypted => (keyed_endpoint(source), Request::encrypted(key, plaintext)),
            Mode::EncryptedSigned => (
                keyed_endpoint(source),
                Request::encrypted_signed(key, plaintext),
            ),
        }
    }
}

/// The folder of `source`'s samples in the repository.
pub fn events_dir(source: Source) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(source.as_str())
}

/// Every sample of `source` in `events/<source>/`, as (file stem, text), by name.
pub fn samples(source: Source) -> Vec<(String, String)> {
    let dir = events_dir(source);
    let mut samples: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            (stem, text)
        })
        .collect();
    samples.sort();
    samples
}

/// One sample, `events/<source>/<name>.json`.
pub fn sample(source: Source, name: &str) -> String {
    let path = events_dir(source).join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The bodies of a delivery's messages, parsed; panics unless it is `Changes`.
pub fn bodies(delivery: &Delivery) -> Vec<Value> {
    match delivery {
        Delivery::Changes(batch) => batch
            .messages()
            .iter()
            .map(|message| serde_json::from_str(message.body()).expect("a JSON body"))
            .collect(),
        other => panic!("expected changes, got {other:?}"),
    }
}

/// What a request must come to, for tables whose rows end differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Answered as a URL verification with this value.
    Challenge(&'static str),
    /// Acknowledged, nothing relayed: (event type, event id).
    Ignored(&'static str, &'static str),
    /// Refused with this code.
    Refused(&'static str),
}

/// Panics, naming the row, unless `result` is what `expect` says.
pub fn check(row: &str, result: Result<Delivery, Rejection>, expect: Expect) {
    let matches = match (&result, expect) {
        (Ok(Delivery::Challenge(challenge)), Expect::Challenge(expected)) => {
            challenge.value() == expected
        }
        (Ok(Delivery::Ignored(event)), Expect::Ignored(event_type, event_id)) => {
            event.event_type == event_type && event.event_id == event_id
        }
        (Err(rejection), Expect::Refused(code)) => rejection.code() == code,
        _ => false,
    };
    assert!(matches, "{row}: expected {expect:?}, got {result:?}");
}
