//! The `receive` target: how an input is read, and the invariants checked on every
//! outcome. Each target in `fuzz_targets/` is one line calling a function of this
//! crate; `cipher` and `timestamp` have files of their own.
//!
//! The oracle reads the request on its own, with `serde_json`, where an invariant
//! depends on it: which token the plaintext carries, and whether the body was a
//! ciphertext. It trusts the core for the rest.

mod cipher;
pub mod seeds;
mod timestamp;

pub use cipher::fuzz_cipher;
pub use timestamp::{fuzz_timestamp, is_rfc3339_millis};

use std::borrow::Cow;

use org_change_core::cipher::{decrypt, encrypt};
use org_change_core::signature::sign;
use org_change_core::{
    Delivery, EncryptKey, Endpoint, Inbound, Message, Outgoing, Rejection, SignatureHeaders,
    Source, VerificationToken, receive,
};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// The endpoint's Verification Token when the input says "known token". The seeds
/// carry it, so a mutated seed reaches normalization.
pub const TOKEN: &str = "fuzz-verification-token";
/// The Encrypt Key of a keyed endpoint.
pub const KEY: &str = "fuzz-encrypt-key";
/// Another key: a body encrypted with it, or a signature made with it, must fail.
pub const OTHER_KEY: &str = "not-the-fuzz-key";
/// The IV of the bodies the target encrypts itself.
pub const IV: [u8; 16] = *b"fuzz-fixed-iv-16";
/// `X-Lark-Request-Timestamp` and `X-Lark-Request-Nonce` of computed signatures.
pub const TIMESTAMP: &str = "1740385174";
pub const NONCE: &str = "fuzz-nonce";

/// The relay's clock: one second after [`TIMESTAMP`], just after the Feilian seeds'
/// `create_time`, so mutations of the time reach both sides of the replay window.
pub fn now() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_740_385_175)
}

// The bits of a `receive` input's first byte. Bits 2 and 3 are `SignatureMode`.
pub const FEILIAN: u8 = 1 << 0;
pub const KEYED: u8 = 1 << 1;
const SIGNATURE_SHIFT: u8 = 2;
pub const VALID_SIGNATURE: u8 = 2 << SIGNATURE_SHIFT;
pub const ENCRYPT_FIRST: u8 = 1 << 4;
const UNKNOWN_TOKEN: u8 = 1 << 5;

/// What signature headers the request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMode<'a> {
    Absent,
    /// Headers taken from the input: never the right signature.
    Arbitrary(SignatureHeaders<'a>),
    /// The right signature over the sent body, with the endpoint's key or, without
    /// one, the empty key Feishu then signs with.
    Valid,
    /// Well-formed, but made with [`OTHER_KEY`].
    OtherKey,
}

/// One `receive` input: `[flags][three strings, for arbitrary headers only][body]`.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveCase<'a> {
    pub source: Source,
    /// The endpoint has [`KEY`].
    pub keyed: bool,
    pub signature: SignatureMode<'a>,
    /// Send `{"encrypt": ...}` of `body`, with [`KEY`] at a keyed endpoint (so
    /// mutations reach the parsers behind decryption), else with [`OTHER_KEY`].
    pub encrypt_first: bool,
    /// The endpoint's token is [`TOKEN`]. Otherwise it comes from the input's own
    /// SHA-256, which the input cannot contain, so nothing may be accepted.
    pub token_known: bool,
    pub body: &'a [u8],
}

impl<'a> ReceiveCase<'a> {
    pub fn decode(data: &'a [u8]) -> Option<Self> {
        let (&flags, mut body) = data.split_first()?;
        let signature = match (flags >> SIGNATURE_SHIFT) & 0b11 {
            0 => SignatureMode::Absent,
            1 => {
                let mut u = arbitrary::Unstructured::new(body);
                let headers = SignatureHeaders {
                    timestamp: u.arbitrary().ok()?,
                    nonce: u.arbitrary().ok()?,
                    signature: u.arbitrary().ok()?,
                };
                body = u.take_rest();
                SignatureMode::Arbitrary(headers)
            }
            2 => SignatureMode::Valid,
            _ => SignatureMode::OtherKey,
        };
        let source = match flags & FEILIAN {
            0 => Source::Feishu,
            _ => Source::Feilian,
        };
        Some(Self {
            source,
            keyed: flags & KEYED != 0,
            signature,
            encrypt_first: flags & ENCRYPT_FIRST != 0,
            token_known: flags & UNKNOWN_TOKEN == 0,
            body,
        })
    }

    fn key(&self) -> Option<EncryptKey> {
        self.keyed.then(|| EncryptKey::new(KEY))
    }

    /// Runs the case through the core: the body as sent, and the outcome.
    pub fn send(&self, token: &str) -> (Cow<'a, [u8]>, Result<Delivery, Rejection>) {
        let key = self.key();
        let endpoint = Endpoint::new(self.source, VerificationToken::new(token), key.clone());
        let body: Cow<'a, [u8]> = match (self.encrypt_first, &key) {
            (false, _) => Cow::Borrowed(self.body),
            (true, Some(key)) => Cow::Owned(encrypted_body(key, self.body)),
            (true, None) => Cow::Owned(encrypted_body(&EncryptKey::new(OTHER_KEY), self.body)),
        };
        let sign_with = |key: &EncryptKey| Some(sign(TIMESTAMP, NONCE, key, &body));
        let computed = match (self.signature, &key) {
            (SignatureMode::Valid, Some(key)) => sign_with(key),
            (SignatureMode::Valid, None) => sign_with(&EncryptKey::new("")),
            (SignatureMode::OtherKey, _) => sign_with(&EncryptKey::new(OTHER_KEY)),
            _ => None,
        };
        let signature = match self.signature {
            SignatureMode::Arbitrary(headers) => Some(headers),
            _ => computed.as_deref().map(|signature| SignatureHeaders {
                timestamp: TIMESTAMP,
                nonce: NONCE,
                signature,
            }),
        };
        let inbound = Inbound {
            body: &body,
            signature,
        };
        let outcome = receive(&endpoint, inbound, now());
        (body, outcome)
    }
}

/// `{"encrypt": base64(IV || AES-256-CBC(plaintext))}`, as the platforms send it.
pub fn encrypted_body(key: &EncryptKey, plaintext: &[u8]) -> Vec<u8> {
    let sealed = encrypt(key, plaintext, IV);
    serde_json::to_vec(&serde_json::json!({ "encrypt": sealed })).unwrap_or_default()
}

/// The `receive` target. Panics, a libFuzzer crash, when an invariant is broken.
pub fn fuzz_receive(data: &[u8]) {
    let Some(case) = ReceiveCase::decode(data) else {
        return;
    };
    let token = match case.token_known {
        true => TOKEN.to_owned(),
        false => format!("unknown-{}", hex::encode(Sha256::digest(data))),
    };
    let (body, outcome) = case.send(&token);
    if let Err(broken) = check_receive(&case, &body, &outcome) {
        panic!("{broken}\ncase: {case:?}\noutcome: {outcome:?}");
    }
}

/// Returns early with the broken invariant, so a test can see the oracle refuse.
macro_rules! ensure {
    ($holds:expr, $($why:tt)+) => {
        if !$holds {
            return Err(format!($($why)+));
        }
    };
}

/// Every invariant of one `receive` outcome, given the body as sent.
pub fn check_receive(
    case: &ReceiveCase<'_>,
    body: &[u8],
    outcome: &Result<Delivery, Rejection>,
) -> Result<(), String> {
    if let Err(rejection) = outcome {
        // The adapter's lookups: none may panic, and every code is stable text.
        let _ = (rejection.setting(), rejection.to_string());
        ensure!(!rejection.code().is_empty(), "a rejection without a code");
    }
    if case.encrypt_first && !case.keyed {
        let missing = matches!(outcome, Err(Rejection::EncryptKeyMissing { .. }));
        ensure!(
            missing,
            "a ciphertext at a keyless endpoint is not encrypt_key_missing"
        );
    }
    let Ok(delivery) = outcome else {
        return Ok(());
    };
    ensure!(
        case.token_known,
        "accepted with a token the input cannot contain"
    );

    // No downgrade: a keyed endpoint accepts only a ciphertext, a keyless one never.
    let plaintext = match (case.key(), ciphertext_of(case.source, body)) {
        (Some(key), Some(sealed)) => match decrypt(&key, &sealed) {
            Ok(plaintext) => Cow::Owned(plaintext),
            Err(_) => return Err("accepted a ciphertext that does not decrypt".into()),
        },
        (Some(_), None) => return Err("a keyed endpoint accepted a plaintext body".into()),
        (None, Some(_)) => return Err("a keyless endpoint accepted a ciphertext".into()),
        (None, None) => Cow::Borrowed(body),
    };
    ensure!(
        carries_token(&plaintext, TOKEN),
        "accepted, but the plaintext carries no matching token"
    );

    // With a key, Feishu signs every event; a challenge may come unsigned.
    if case.source == Source::Feishu && case.keyed {
        let signed = case.signature == SignatureMode::Valid;
        let challenge = matches!(delivery, Delivery::Challenge(_));
        let unsigned = case.signature == SignatureMode::Absent;
        ensure!(
            signed || (challenge && unsigned),
            "accepted without a valid signature"
        );
    }
    check_delivery(case.source, delivery)
}

/// What an accepted request becomes: messages consumers read, or a quarantine
/// without the token.
fn check_delivery(source: Source, delivery: &Delivery) -> Result<(), String> {
    match delivery {
        Delivery::Changes(batch) => {
            let event_type = batch.event().event_type.as_str();
            let relayed = org_change_core::event_types(source);
            ensure!(
                relayed.iter().any(|(relayed, ..)| *relayed == event_type),
                "changes from {event_type:?}, a type that is not relayed"
            );
            for outgoing in batch.messages() {
                check_outgoing(source, outgoing)?;
            }
        }
        // A quarantine keeps the payload as sent, but never the token.
        Delivery::Unusable { quarantine, .. } => {
            for max in [usize::MAX, 64] {
                let held = quarantine.outgoing(max);
                ensure!(sqs_accepts(held.body()), "a quarantine SQS refuses");
                ensure!(
                    !carries_token(held.body().as_bytes(), TOKEN),
                    "a quarantine kept the verification token"
                );
            }
        }
        Delivery::Challenge(_) | Delivery::Ignored(_) => {}
    }
    Ok(())
}

/// The ciphertext of a body in a form the platform sends: `{"encrypt": "..."}`, and
/// for Feilian also `{"data": {"encrypt": "..."}}` and the bare base64 text
/// (`docs/protocol.md`, "Encryption" and "Feilian"). Other members are skipped
/// unread, as the core skips them.
fn ciphertext_of(source: Source, body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Sealed {
        encrypt: Option<Box<RawValue>>,
        data: Option<Box<RawValue>>,
    }
    let sealed = |json: &[u8]| serde_json::from_slice::<Sealed>(&serde_readable(json)).ok();
    let outer = sealed(body);
    if let Some(text) = string_in(outer.as_ref().and_then(|outer| outer.encrypt.as_deref())) {
        return Some(text);
    }
    if source != Source::Feilian {
        return None;
    }
    let data = outer.and_then(|outer| outer.data);
    let nested = data.filter(|data| data.get().starts_with('{'));
    let nested = nested.and_then(|data| sealed(data.get().as_bytes()));
    if let Some(text) = string_in(nested.and_then(|data| data.encrypt).as_deref()) {
        return Some(text);
    }
    let bare = std::str::from_utf8(body).ok()?.trim_ascii();
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b"+/=".contains(&b);
    (!bare.is_empty() && bare.bytes().all(base64)).then(|| bare.to_owned())
}

/// The string a JSON value holds, if it is one.
fn string_in(raw: Option<&RawValue>) -> Option<String> {
    serde_json::from_str(raw?.get()).ok()
}

/// The token check's oracle: the one place each kind of envelope carries its token
/// (`docs/protocol.md`, "Verification token"). A challenge and a schema 1.0 event
/// carry it at the top level; an envelope with a `header` carries it in
/// `header.token`. Only those fields are read, so payloads `serde_json::Value` cannot
/// hold (`1e740385174`) are skipped.
pub fn carries_token(envelope: &[u8], token: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct TokenFields {
        #[serde(rename = "type")]
        kind: Option<Box<RawValue>>,
        token: Option<Box<RawValue>>,
        header: Option<Box<RawValue>>,
    }
    // The header's token alone: the core skips its other keys, repeated ones too.
    #[derive(serde::Deserialize)]
    struct HeaderToken {
        token: Option<Box<RawValue>>,
    }
    let envelope = serde_readable(envelope);
    let Ok(fields) = serde_json::from_slice::<TokenFields>(&envelope) else {
        return false;
    };
    let header = fields.header.as_deref().and_then(|header| {
        serde_json::from_str::<Option<HeaderToken>>(header.get())
            .ok()
            .flatten()
    });
    let carried = match (string_in(fields.kind.as_deref()).as_deref(), header) {
        (Some("url_verification"), _) | (_, None) => string_in(fields.token.as_deref()),
        (_, Some(header)) => string_in(header.token.as_deref()),
    };
    carried.as_deref() == Some(token)
}

/// The oracle's copy of `text`, same length, that serde can read. The core reads its
/// strings as bytes, as serde_json does for `&[u8]`, so it takes lone surrogate
/// escapes and raw control characters, which a serde `String` refuses. Here each
/// `\uD800`–`\uDFFF` escape becomes `\uFFFD` and each control character a space.
/// Neither change can make a string equal [`TOKEN`].
fn serde_readable(text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    for at in 0..out.len() {
        let escape = out.get(at..at + 6).unwrap_or_default();
        let surrogate = escape.starts_with(b"\\u")
            && escape[2].eq_ignore_ascii_case(&b'd')
            && matches!(escape[3].to_ascii_lowercase(), b'8'..=b'9' | b'a'..=b'f')
            && escape[4..].iter().all(u8::is_ascii_hexdigit);
        if surrogate {
            out[at + 2..at + 6].copy_from_slice(b"fffd");
        } else if out[at] < 0x20 {
            out[at] = b' ';
        }
    }
    out
}

/// One message: its body reads as the contract's [`Message`], agrees with the
/// `Outgoing`'s id and attributes, and holds only characters SQS accepts.
pub fn check_outgoing(source: Source, outgoing: &Outgoing) -> Result<(), String> {
    let body = outgoing.body();
    ensure!(sqs_accepts(body), "SQS refuses a character of {body:?}");
    let message: Message<'_> = serde_json::from_str(body)
        .map_err(|err| format!("the body does not read as a Message ({err}): {body}"))?;
    ensure!(
        message.schema_version == org_change_core::SCHEMA_VERSION,
        "schema_version"
    );
    ensure!(message.source == source, "source {:?}", message.source);
    ensure!(
        message.id == outgoing.id(),
        "id {} of {}",
        message.id,
        outgoing.id()
    );
    let attributes = [
        ("source", source.as_str()),
        ("event_type", &*message.event_type),
        ("entity", message.entity.as_str()),
        ("action", message.action.as_str()),
    ];
    ensure!(outgoing.attributes() == attributes, "attributes of {body}");
    if let Some(at) = &message.occurred_at {
        ensure!(is_rfc3339_millis(at), "occurred_at {at:?}");
    }
    Ok(())
}

/// Whether SQS accepts every character of a message body: `#x9 | #xA | #xD |
/// #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF` (`docs/protocol.md`, "Amazon
/// SQS limits").
pub fn sqs_accepts(body: &str) -> bool {
    body.chars()
        .all(|c| matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..))
}

#[cfg(test)]
mod tests;
