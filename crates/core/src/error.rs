//! Why a request was refused. Each variant has one stable error code and one HTTP status.

use crate::Source;
use crate::window::Staleness;

/// A request the relay refuses. Its text says what to do, never a secret or decrypted content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The body is longer than the adapter's limit.
    #[error(
        "the request body is {size} bytes, over the {limit}-byte limit; raise MAX_BODY_BYTES if this is a real event"
    )]
    BodyTooLarge {
        /// The body's length, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },

    /// The body is not UTF-8 text holding one JSON object.
    #[error("the request body is not a JSON object")]
    InvalidJson,

    /// `{"encrypt": ...}` arrived at an endpoint that has no Encrypt Key.
    #[error(
        "the body is encrypted but the {} endpoint has no Encrypt Key; configure the Encrypt Key shown in the console",
        .platform.as_str()
    )]
    EncryptKeyMissing {
        /// The endpoint's platform.
        platform: Source,
    },

    /// An unsigned ciphertext that no candidate key decrypts to an envelope.
    #[error(
        "the encrypted body could not be decrypted; check that the {} endpoint's Encrypt Key matches the one in the console",
        .platform.as_str()
    )]
    Undecryptable {
        /// The endpoint's platform.
        platform: Source,
        /// What failed, for a DEBUG log line only.
        cause: &'static str,
    },

    /// A plaintext body at an endpoint with an Encrypt Key: no downgrade.
    #[error(
        "the body is not encrypted but the {} endpoint has an Encrypt Key; unencrypted requests are refused so that encryption cannot be bypassed",
        .platform.as_str()
    )]
    PlaintextRefused {
        /// The endpoint's platform.
        platform: Source,
    },

    /// A Feishu event without the three `X-Lark-*` signature headers.
    #[error(
        "the X-Lark-Request-Timestamp, X-Lark-Request-Nonce and X-Lark-Signature headers are required on every request but the URL verification"
    )]
    MissingSignature,

    /// `X-Lark-Signature` does not match the raw body.
    #[error(
        "X-Lark-Signature does not match the body; check that the feishu endpoint's Encrypt Key matches the one in the console"
    )]
    BadSignature,

    /// The request's own time is outside the [`ReplayWindow`](crate::ReplayWindow).
    #[error(
        "the {} request {staleness}; a request outside the replay window is refused as a possible replay: check the sender's clock",
        .platform.as_str()
    )]
    StaleRequest {
        /// The endpoint's platform.
        platform: Source,
        /// How the time is off.
        staleness: Staleness,
    },

    /// The verification token is absent or not the endpoint's.
    #[error(
        "the verification token is missing or does not match the {} endpoint's",
        .platform.as_str()
    )]
    BadToken {
        /// The endpoint's platform.
        platform: Source,
    },

    /// Not the platform's envelope, plain or decrypted from a signed ciphertext.
    #[error("the request is not a {} event envelope: {detail}", .platform.as_str())]
    MalformedEnvelope {
        /// The endpoint's platform.
        platform: Source,
        /// What was expected.
        detail: &'static str,
    },

    /// A relayed event that lacks what a message needs, such as an entity id.
    /// A field it only passes through never makes it malformed.
    #[error("the {event_type} event {event_id} is malformed: {detail}")]
    MalformedEvent {
        /// The platform's event type, to find the event in its logs.
        event_type: String,
        /// The platform's event id.
        event_id: String,
        /// What is missing or wrong.
        detail: &'static str,
    },

    /// A verified event with a message over the endpoint's message limit.
    #[error(
        "the {event_type} event {event_id} makes message {id} of {size} bytes, over the queue's {limit}-byte limit: it can never be enqueued, so none of the event's messages is"
    )]
    MessageTooLarge {
        /// The platform's event type.
        event_type: String,
        /// The platform's event id.
        event_id: String,
        /// The message's id.
        id: String,
        /// Its size, as [`Outgoing::size`](crate::Outgoing::size) counts it.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
}

/// A setting of an endpoint that a rejection points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The Verification Token.
    VerificationToken,
    /// The Encrypt Key.
    EncryptKey,
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
            Rejection::StaleRequest { .. } => "stale_request",
            Rejection::BadToken { .. } => "bad_token",
            Rejection::MalformedEnvelope { .. } => "malformed_envelope",
            Rejection::MalformedEvent { .. } => "malformed_event",
            Rejection::MessageTooLarge { .. } => "message_too_large",
        }
    }

    /// The setting to check when the rejection is likely a configuration mismatch.
    pub fn setting(&self) -> Option<(Source, Setting)> {
        match self {
            Rejection::EncryptKeyMissing { platform }
            | Rejection::Undecryptable { platform, .. }
            | Rejection::PlaintextRefused { platform } => Some((*platform, Setting::EncryptKey)),
            Rejection::BadSignature => Some((Source::Feishu, Setting::EncryptKey)),
            Rejection::BadToken { platform } => Some((*platform, Setting::VerificationToken)),
            _ => None,
        }
    }
}
