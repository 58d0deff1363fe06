//! Why a request was refused. Each variant has one stable error code; the adapter
//! maps each to one HTTP status in one place (`http::reply`).

use super::Source;

/// A request the relay refuses. The message says what went wrong and what to do,
/// and never contains a secret or decrypted content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error(
        "the request body is {size} bytes, over the {limit}-byte limit; raise MAX_BODY_BYTES if this is a real event"
    )]
    BodyTooLarge { size: usize, limit: usize },

    #[error("the request body is not a JSON object")]
    InvalidJson,

    #[error("the body is encrypted but {} is not set; set it to the Encrypt Key shown in the console", .platform.key_var())]
    EncryptKeyMissing { platform: Source },

    /// Every failure to decrypt, or to parse what was decrypted, gets this one answer:
    /// telling bad padding apart from other failures would be a padding oracle.
    #[error("the encrypted body could not be decrypted; check that {} matches the Encrypt Key in the console", .platform.key_var())]
    Undecryptable { platform: Source },

    #[error("the body is not encrypted but {} is set; unencrypted requests are refused so that encryption cannot be bypassed", .platform.key_var())]
    PlaintextRefused { platform: Source },

    #[error(
        "the X-Lark-Request-Timestamp, X-Lark-Request-Nonce and X-Lark-Signature headers are required on every request but the URL verification"
    )]
    MissingSignature,

    #[error(
        "X-Lark-Signature does not match the body; check that FEISHU_ENCRYPT_KEY matches the Encrypt Key in the console"
    )]
    BadSignature,

    #[error("the verification token is missing or does not match {}", .platform.token_var())]
    BadToken { platform: Source },

    #[error("the request is not a {} event envelope: {detail}", .platform.as_str())]
    MalformedEnvelope {
        platform: Source,
        detail: &'static str,
    },

    #[error("the {event_type} event is malformed: {detail}")]
    MalformedEvent {
        event_type: String,
        detail: &'static str,
    },
}

impl Rejection {
    /// The stable, machine-readable error code of the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::BodyTooLarge { .. } => "body_too_large",
            Rejection::InvalidJson => "invalid_json",
            Rejection::EncryptKeyMissing { .. } => "encrypt_key_missing",
            Rejection::Undecryptable { .. } => "undecryptable",
            Rejection::PlaintextRefused { .. } => "plaintext_refused",
            Rejection::MissingSignature => "missing_signature",
            Rejection::BadSignature => "bad_signature",
            Rejection::BadToken { .. } => "bad_token",
            Rejection::MalformedEnvelope { .. } => "malformed_envelope",
            Rejection::MalformedEvent { .. } => "malformed_event",
        }
    }
}
