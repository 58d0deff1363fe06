//! The pipeline every request goes through, in order:
//!
//! 1. read the outer JSON: `{"encrypt": ...}` or a plaintext envelope;
//! 2. refuse a plaintext body when a key is configured (no downgrade), and an
//!    encrypted one when none is;
//! 3. Feishu: check the signature over the raw body *before* decrypting;
//! 4. decrypt and parse the envelope;
//! 5. check the verification token, in constant time, on every request
//!    ([`verified`](crate::verified));
//! 6. answer the challenge, or normalize the event into messages.

use std::borrow::Cow;

use serde::Deserialize;

use crate::envelope::{Envelope, EventRef, ParseError, parse_object};
use crate::feilian::Feilian;
use crate::feishu::Feishu;
use crate::outgoing::Outgoing;
use crate::platform::Platform;
use crate::quarantine::Quarantine;
use crate::verified::{Signature, Verified, token_matches, verify_event};
use crate::{EncryptKey, Rejection, SignatureHeaders, Source, VerificationToken, cipher};

/// One webhook endpoint: a source with its console secrets.
#[derive(Debug, Clone)]
pub struct Endpoint {
    source: Source,
    token: VerificationToken,
    key: Option<EncryptKey>,
}

impl Endpoint {
    /// An endpoint of `source` with the console's Verification Token and, if the
    /// console has one, its Encrypt Key (then only encrypted requests are accepted).
    pub fn new(source: Source, token: VerificationToken, key: Option<EncryptKey>) -> Self {
        Self { source, token, key }
    }

    /// The platform this endpoint receives from.
    pub fn source(&self) -> Source {
        self.source
    }
}

/// A request as it arrived: the raw body bytes and the signature headers, if all
/// three were sent.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The body exactly as received (the signature covers these bytes).
    pub body: &'a [u8],
    /// `X-Lark-Request-Timestamp`, `X-Lark-Request-Nonce` and `X-Lark-Signature`,
    /// when all three are present.
    pub signature: Option<SignatureHeaders<'a>>,
}

/// What to do with an authenticated request.
#[derive(Debug)]
pub enum Delivery {
    /// A URL verification: answer with this challenge value.
    Challenge(String),
    /// Changes to put on the queue.
    Changes(Batch),
    /// An event type the relay does not handle: acknowledge it and enqueue nothing,
    /// or the platform would retry it for hours.
    Ignored(EventRef),
    /// A verified event of a relayed type that cannot become messages (an id it
    /// needs is missing, a message would be too large for the queue). The adapter
    /// quarantines it, or answers `rejection` when it has no quarantine.
    Unusable {
        /// The answer without a quarantine; its code is the quarantine's reason.
        rejection: Rejection,
        /// The redacted envelope and why.
        quarantine: Quarantine,
    },
}

/// The messages of one verified request. It has no public constructor: the only way
/// to get one is [`receive`], after every check has passed.
#[derive(Debug)]
pub struct Batch {
    event: EventRef,
    messages: Vec<Outgoing>,
}

impl Batch {
    /// The event the messages come from.
    pub fn event(&self) -> &EventRef {
        &self.event
    }

    /// The messages, in the order the platform listed the changes.
    pub fn messages(&self) -> &[Outgoing] {
        &self.messages
    }
}

/// Runs the whole pipeline on one request.
///
/// # Errors
///
/// A [`Rejection`] says why the request is refused; its [`code`](Rejection::code) is
/// stable. Nothing is published for a rejected request.
pub fn receive(endpoint: &Endpoint, inbound: Inbound<'_>) -> Result<Delivery, Rejection> {
    match endpoint.source {
        Source::Feishu => receive_from::<Feishu>(endpoint, inbound),
        Source::Feilian => receive_from::<Feilian>(endpoint, inbound),
        // An endpoint is only ever made for a source this crate knows.
        _ => Err(Rejection::InvalidJson),
    }
}

fn receive_from<P: Platform>(
    endpoint: &Endpoint,
    inbound: Inbound<'_>,
) -> Result<Delivery, Rejection> {
    let source = P::SOURCE;
    let text = std::str::from_utf8(inbound.body).map_err(|_| Rejection::InvalidJson)?;
    let outer: Outer = parse_object(text, "").map_err(|_| Rejection::InvalidJson)?;
    match (outer.encrypt, &endpoint.key) {
        (None, Some(_)) => Err(Rejection::PlaintextRefused { platform: source }),
        (Some(_), None) => Err(Rejection::EncryptKeyMissing { platform: source }),
        (None, None) => {
            let envelope = P::parse(text).map_err(|err| parse_rejection(source, err, false))?;
            // Without an Encrypt Key a signature proves nothing (Feishu signs with an
            // empty key then): the token is the only check.
            open::<P>(endpoint, text, envelope, Signature::NotApplicable)
        }
        (Some(encrypted), Some(key)) => {
            let signature = check_signature(source, inbound, key)?;
            let plaintext = cipher::decrypt(key, &encrypted)
                .map_err(|_| Rejection::Undecryptable { platform: source })?;
            let text = std::str::from_utf8(&plaintext)
                .map_err(|_| Rejection::Undecryptable { platform: source })?;
            let envelope = P::parse(text).map_err(|err| parse_rejection(source, err, true))?;
            open::<P>(endpoint, text, envelope, signature)
        }
    }
}

/// The rejection for a body that could not be read as the platform's envelope.
fn parse_rejection(source: Source, err: ParseError, decrypted: bool) -> Rejection {
    match err {
        // Same answer as bad padding: see `Rejection::Undecryptable`.
        ParseError::NotJson if decrypted => Rejection::Undecryptable { platform: source },
        ParseError::NotJson => Rejection::InvalidJson,
        ParseError::Shape(detail) => Rejection::MalformedEnvelope {
            platform: source,
            detail,
        },
    }
}

/// The outer body: only whether it is `{"encrypt": ...}` matters here.
#[derive(Deserialize)]
struct Outer<'a> {
    #[serde(borrow)]
    encrypt: Option<Cow<'a, str>>,
}

/// Checks a Feishu signature over the raw body, before anything is decrypted: a
/// receiver that decrypts unauthenticated data and answers bad padding differently
/// is a padding oracle (`docs/protocol.md`, "Signature").
fn check_signature(
    source: Source,
    inbound: Inbound<'_>,
    key: &EncryptKey,
) -> Result<Signature, Rejection> {
    // Feilian documents no signature: its only proof of origin is the token inside
    // the encrypted body (`docs/protocol.md`, "Feilian").
    if source != Source::Feishu {
        return Ok(Signature::NotApplicable);
    }
    match inbound.signature {
        None => Ok(Signature::Absent),
        Some(headers) if headers.verify(key, inbound.body) => Ok(Signature::Valid),
        Some(_) => Err(Rejection::BadSignature),
    }
}

/// Authenticates a parsed envelope and turns it into what to do.
fn open<P: Platform>(
    endpoint: &Endpoint,
    text: &str,
    envelope: Envelope<'_>,
    signature: Signature,
) -> Result<Delivery, Rejection> {
    match envelope {
        // The URL verification carries no signature headers: the token is its proof.
        Envelope::Challenge { challenge, token } => {
            if !token_matches(&endpoint.token, token.as_deref()) {
                return Err(Rejection::BadToken {
                    platform: P::SOURCE,
                });
            }
            Ok(Delivery::Challenge(challenge.into_owned()))
        }
        Envelope::Event(event) => {
            let event = verify_event(P::SOURCE, &endpoint.token, event, signature)?;
            deliver::<P>(text, &event)
        }
    }
}

/// The messages of a verified event. `text` is its envelope as decrypted, kept (with
/// the token redacted) only when the event cannot become messages.
fn deliver<P: Platform>(
    text: &str,
    event: &Verified<crate::envelope::Event<'_>>,
) -> Result<Delivery, Rejection> {
    let event_ref = event.event_ref();
    let messages = match P::normalize(event) {
        Ok(Some(messages)) => messages,
        Ok(None) => return Ok(Delivery::Ignored(event_ref)),
        Err(rejection) => {
            let quarantine = Quarantine::new(
                P::SOURCE,
                event_ref,
                rejection.code(),
                rejection.to_string(),
                text,
            );
            return Ok(Delivery::Unusable {
                rejection,
                quarantine,
            });
        }
    };
    let messages = messages
        .iter()
        .map(Outgoing::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| event.malformed("the event could not be serialized"))?;
    Ok(Delivery::Changes(Batch {
        event: event_ref,
        messages,
    }))
}
