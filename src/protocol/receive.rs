//! The pipeline every request goes through, in order:
//!
//! 1. read the outer JSON: `{"encrypt": ...}` or a plaintext envelope;
//! 2. refuse a plaintext body when a key is configured (no downgrade), and an
//!    encrypted one when none is;
//! 3. Feishu: check the signature over the raw body *before* decrypting;
//! 4. decrypt and parse the envelope;
//! 5. check the verification token, in constant time, on every request;
//! 6. answer the challenge, or normalize the event into messages.
//!
//! Only step 5 produces a [`Verified`] envelope, only a verified envelope can be
//! normalized, and only normalization produces a [`Batch`]: publishing a request
//! that was not verified does not compile.

use std::borrow::Cow;
use std::ops::Deref;

use serde::Deserialize;

use super::cipher;
use super::envelope::{Envelope, Event, ParseError, parse_object};
use super::message::{Message, Outgoing, Source};
use super::{EncryptKey, Rejection, SignatureHeaders, VerificationToken, feilian, feishu};

/// One webhook endpoint: a source with its console secrets.
#[derive(Debug, Clone)]
pub struct Endpoint {
    source: Source,
    token: VerificationToken,
    key: Option<EncryptKey>,
}

impl Endpoint {
    pub fn new(source: Source, token: VerificationToken, key: Option<EncryptKey>) -> Self {
        Self { source, token, key }
    }

    pub fn source(&self) -> Source {
        self.source
    }
}

/// A request as it arrived: the raw body bytes and the signature headers, if all
/// three were sent.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub body: &'a [u8],
    pub signature: Option<SignatureHeaders<'a>>,
}

/// Which event a request carried, for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub event_type: String,
    pub event_id: String,
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
}

/// The messages of one verified request. It has no public constructor: the only way
/// to get one is [`receive`], after every check has passed.
#[derive(Debug)]
pub struct Batch {
    event: EventRef,
    messages: Vec<Outgoing>,
}

impl Batch {
    pub fn event(&self) -> &EventRef {
        &self.event
    }

    pub fn messages(&self) -> &[Outgoing] {
        &self.messages
    }
}

/// An envelope whose token has been checked. The field is private to this module,
/// so nothing else can vouch for an envelope.
pub struct Verified<T>(T);

impl<T> Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Runs the whole pipeline on one request.
pub fn receive(endpoint: &Endpoint, inbound: Inbound<'_>) -> Result<Delivery, Rejection> {
    let source = endpoint.source;
    let text = std::str::from_utf8(inbound.body).map_err(|_| Rejection::InvalidJson)?;
    let outer: Outer = parse_object(text, "").map_err(|_| Rejection::InvalidJson)?;
    match (outer.encrypt, &endpoint.key) {
        (None, Some(_)) => Err(Rejection::PlaintextRefused { platform: source }),
        (Some(_), None) => Err(Rejection::EncryptKeyMissing { platform: source }),
        (None, None) => {
            let envelope = parse(source, text).map_err(|err| match err {
                ParseError::NotJson => Rejection::InvalidJson,
                ParseError::Shape(detail) => Rejection::MalformedEnvelope {
                    platform: source,
                    detail,
                },
            })?;
            // Without an Encrypt Key a signature proves nothing (Feishu signs with an
            // empty key then): the token is the only check.
            open(endpoint, envelope, Signature::NotApplicable)
        }
        (Some(encrypted), Some(key)) => {
            let signature = check_signature(source, inbound, key)?;
            let plaintext = cipher::decrypt(key, &encrypted)
                .map_err(|_| Rejection::Undecryptable { platform: source })?;
            let text = std::str::from_utf8(&plaintext)
                .map_err(|_| Rejection::Undecryptable { platform: source })?;
            let envelope = parse(source, text).map_err(|err| match err {
                // Same answer as bad padding: see `Rejection::Undecryptable`.
                ParseError::NotJson => Rejection::Undecryptable { platform: source },
                ParseError::Shape(detail) => Rejection::MalformedEnvelope {
                    platform: source,
                    detail,
                },
            })?;
            open(endpoint, envelope, signature)
        }
    }
}

/// The outer body: only whether it is `{"encrypt": ...}` matters here.
#[derive(Deserialize)]
struct Outer<'a> {
    #[serde(borrow)]
    encrypt: Option<Cow<'a, str>>,
}

/// What the signature headers proved about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signature {
    /// Present and matching the raw body.
    Valid,
    /// Absent: only a URL verification may arrive like this.
    Absent,
    /// The platform signs nothing (Feilian), or no key is configured.
    NotApplicable,
}

/// Checks a Feishu signature over the raw body, before anything is decrypted: a
/// receiver that decrypts unauthenticated data and answers bad padding differently
/// is a padding oracle (PROTOCOL.md, "Signature").
fn check_signature(
    source: Source,
    inbound: Inbound<'_>,
    key: &EncryptKey,
) -> Result<Signature, Rejection> {
    if !source.signs_requests() {
        return Ok(Signature::NotApplicable);
    }
    match inbound.signature {
        None => Ok(Signature::Absent),
        Some(headers) if headers.verify(key, inbound.body) => Ok(Signature::Valid),
        Some(_) => Err(Rejection::BadSignature),
    }
}

fn parse(source: Source, text: &str) -> Result<Envelope<'_>, ParseError> {
    match source {
        Source::Feishu => feishu::parse(text),
        Source::Feilian => feilian::parse(text),
    }
}

/// Authenticates a parsed envelope and turns it into what to do.
fn open(
    endpoint: &Endpoint,
    envelope: Envelope<'_>,
    signature: Signature,
) -> Result<Delivery, Rejection> {
    let source = endpoint.source;
    let token_matches =
        |token: Option<&str>| token.is_some_and(|token| endpoint.token.matches(token));
    match envelope {
        // The URL verification carries no signature headers: the token is its proof.
        Envelope::Challenge { challenge, token } => {
            if !token_matches(token.as_deref()) {
                return Err(Rejection::BadToken { platform: source });
            }
            Ok(Delivery::Challenge(challenge.into_owned()))
        }
        Envelope::Event(event) => {
            if signature == Signature::Absent {
                return Err(Rejection::MissingSignature);
            }
            if !token_matches(event.token.as_deref()) {
                return Err(Rejection::BadToken { platform: source });
            }
            deliver(source, &Verified(event))
        }
    }
}

fn deliver(source: Source, event: &Verified<Event<'_>>) -> Result<Delivery, Rejection> {
    let event_ref = EventRef {
        event_type: event.event_type.clone().into_owned(),
        event_id: event.event_id.clone().into_owned(),
    };
    let messages: Option<Vec<Message<'_>>> = match source {
        Source::Feishu => feishu::normalize(event)?,
        Source::Feilian => feilian::normalize(event)?,
    };
    let Some(messages) = messages else {
        return Ok(Delivery::Ignored(event_ref));
    };
    let messages = messages
        .iter()
        .map(Outgoing::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Rejection::MalformedEvent {
            event_type: event_ref.event_type.clone(),
            detail: "the event could not be serialized",
        })?;
    Ok(Delivery::Changes(Batch {
        event: event_ref,
        messages,
    }))
}
