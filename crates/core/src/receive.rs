//! The pipeline every request goes through, from raw body to messages.
//! Feishu's signature is checked before anything is decrypted.
//! Without a signature, every decryption failure is the same `undecryptable`.
//! A request must check out fully with one candidate pair ([`Credentials`]).

use std::borrow::Cow;
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::cipher::DecryptError;
use crate::endpoint::{Credentials, Endpoint, Pair};
use crate::envelope::{Envelope, EventRef, ParseError, parse_object};
use crate::feilian::Feilian;
use crate::feishu::Feishu;
use crate::outgoing::Outgoing;
use crate::platform::Platform;
use crate::quarantine::Quarantine;
use crate::snapshot::{NotOneString, is_object, string_member};
use crate::timestamp::raw_unix_millis;
use crate::verified::{Signature, Verified, every_match, matching_pair, verify_event};
use crate::window::{ReplayWindow, Staleness};
use crate::{EncryptKey, Rejection, SignatureHeaders, Source, VerificationToken, cipher};

/// A request as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The body exactly as received, which the signature covers.
    pub body: &'a [u8],
    /// Feishu's three signature headers, when all are present.
    pub signature: Option<SignatureHeaders<'a>>,
}

/// What to do with an authenticated request.
#[derive(Debug)]
pub enum Delivery {
    /// A URL verification: answer with this challenge.
    Challenge(Challenge),
    /// Changes to put on the queue.
    Changes(Batch),
    /// An event type the relay does not handle: acknowledged, or the platform retries for hours.
    Ignored(EventRef),
    /// A verified event that cannot become messages: the adapter quarantines it.
    Unusable {
        /// The answer without a quarantine.
        rejection: Rejection,
        /// The redacted envelope and why.
        quarantine: Quarantine,
    },
}

impl Delivery {
    /// Which of the endpoint's pairs authenticated the request.
    pub fn credentials(&self) -> Credentials {
        match self {
            Delivery::Challenge(challenge) => challenge.credentials,
            Delivery::Changes(batch) => batch.event.credentials,
            Delivery::Ignored(event) => event.credentials,
            Delivery::Unusable { quarantine, .. } => quarantine.event().credentials,
        }
    }
}

/// A URL verification whose token matched (`docs/protocol.md`, "Challenge replies").
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    value: String,
    token: String,
    credentials: Credentials,
}

impl Challenge {
    /// The `challenge` value to send back.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The token the request carried, for Feilian's `echo` reply. It is a secret: never log it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Which of the endpoint's pairs the challenge matched.
    pub fn credentials(&self) -> Credentials {
        self.credentials
    }
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("value", &self.value)
            .field("token", &"<redacted>")
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// The messages of one verified request. Only [`receive`] makes one, after every check.
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

/// Runs the whole pipeline on one request received at `now`.
///
/// # Errors
///
/// A [`Rejection`] says why the request is refused.
pub fn receive(
    endpoint: &Endpoint,
    inbound: Inbound<'_>,
    now: SystemTime,
) -> Result<Delivery, Rejection> {
    match endpoint.source() {
        Source::Feishu => receive_from::<Feishu>(endpoint, inbound, now),
        Source::Feilian => receive_from::<Feilian>(endpoint, inbound, now),
        // An endpoint is only ever made for a source this crate knows.
        _ => Err(Rejection::InvalidJson),
    }
}

/// A candidate pair's token, and which pair it is.
type Tokens<'e> = Vec<(Credentials, &'e VerificationToken)>;

fn receive_from<P: Platform>(
    endpoint: &Endpoint,
    inbound: Inbound<'_>,
    now: SystemTime,
) -> Result<Delivery, Rejection> {
    match read_outer(P::SOURCE, inbound.body)? {
        Outer::Plaintext(text) => receive_plaintext::<P>(endpoint, text, now),
        Outer::Encrypted(encrypted) => receive_encrypted::<P>(endpoint, inbound, &encrypted, now),
    }
}

/// Opens a plaintext envelope with the pairs that have no key.
fn receive_plaintext<P: Platform>(
    endpoint: &Endpoint,
    text: &str,
    now: SystemTime,
) -> Result<Delivery, Rejection> {
    let source = P::SOURCE;
    // Without a key, a signature proves nothing and a time can be rewritten.
    // The token is the only check.
    let keyless: Tokens = endpoint
        .candidates(now)
        .iter()
        .filter(|(_, pair)| pair.key.is_none())
        .map(|(credentials, pair)| (*credentials, &pair.token))
        .collect();
    if keyless.is_empty() {
        return Err(Rejection::PlaintextRefused { platform: source });
    }
    let envelope = P::parse(text).map_err(|err| unparsed(source, err))?;
    open::<P>(
        endpoint,
        text,
        envelope,
        Signature::NotApplicable,
        None,
        &keyless,
    )
}

/// Opens a ciphertext with the pairs that have a key.
fn receive_encrypted<P: Platform>(
    endpoint: &Endpoint,
    inbound: Inbound<'_>,
    encrypted: &str,
    now: SystemTime,
) -> Result<Delivery, Rejection> {
    let source = P::SOURCE;
    let candidates = endpoint.candidates(now);
    let keyed: Vec<(Credentials, &Pair, &EncryptKey)> = candidates
        .iter()
        .filter_map(|(credentials, pair)| pair.key.as_ref().map(|key| (*credentials, *pair, key)))
        .collect();
    if keyed.is_empty() {
        return Err(Rejection::EncryptKeyMissing { platform: source });
    }
    // Feilian signs nothing, but its time is inside the ciphertext.
    let window = (source == Source::Feilian).then_some((endpoint.replay_window(), now));
    match signed_by(source, inbound, &keyed, endpoint.replay_window(), now)? {
        Some((key, tokens)) => open_signed::<P>(endpoint, key, encrypted, window, &tokens),
        None => {
            let signature = match source {
                Source::Feishu => Signature::Absent,
                _ => Signature::NotApplicable,
            };
            try_each_key::<P>(endpoint, encrypted, &keyed, signature, window)
        }
    }
}

/// Decrypts and opens a ciphertext whose signature matched `key`.
/// The signature proves the sender holds the key, so a detailed failure is no oracle.
fn open_signed<P: Platform>(
    endpoint: &Endpoint,
    key: &EncryptKey,
    encrypted: &str,
    window: Option<(ReplayWindow, SystemTime)>,
    tokens: &[(Credentials, &VerificationToken)],
) -> Result<Delivery, Rejection> {
    let malformed = |detail| Rejection::MalformedEnvelope {
        platform: P::SOURCE,
        detail,
    };
    let plaintext =
        cipher::decrypt(key, encrypted).map_err(|err| malformed(signed_decrypt_detail(err)))?;
    let text = std::str::from_utf8(&plaintext)
        .map_err(|_| malformed("the signed ciphertext decrypts to bytes that are not UTF-8"))?;
    let envelope = P::parse(text).map_err(|err| match err {
        ParseError::NotJson => {
            malformed("the signed ciphertext decrypts to something that is not a JSON object")
        }
        ParseError::Shape(detail) => malformed(detail),
    })?;
    open::<P>(endpoint, text, envelope, Signature::Valid, window, tokens)
}

/// The refusal for a plaintext body that is not the platform's envelope.
fn unparsed(platform: Source, err: ParseError) -> Rejection {
    match err {
        ParseError::NotJson => Rejection::InvalidJson,
        ParseError::Shape(detail) => Rejection::MalformedEnvelope { platform, detail },
    }
}

/// Decrypts an unsigned ciphertext with each candidate key, current first.
/// Every failure is the same `undecryptable`, so there is no oracle
/// (`docs/protocol.md`, "Signature").
fn try_each_key<P: Platform>(
    endpoint: &Endpoint,
    encrypted: &str,
    keyed: &[(Credentials, &Pair, &EncryptKey)],
    signature: Signature,
    window: Option<(ReplayWindow, SystemTime)>,
) -> Result<Delivery, Rejection> {
    let mut cause = "no candidate key";
    let mut bad_token = None;
    for (credentials, pair, key) in keyed {
        let plaintext = match cipher::decrypt(key, encrypted) {
            Ok(plaintext) => plaintext,
            Err(err) => {
                cause = decrypt_cause(err);
                continue;
            }
        };
        let Ok(text) = std::str::from_utf8(&plaintext) else {
            cause = "the plaintext is not UTF-8";
            continue;
        };
        let envelope = match P::parse(text) {
            Ok(envelope) => envelope,
            Err(ParseError::NotJson) => {
                cause = "the plaintext is not a JSON object";
                continue;
            }
            Err(ParseError::Shape(detail)) => {
                cause = detail;
                continue;
            }
        };
        match open::<P>(
            endpoint,
            text,
            envelope,
            signature,
            window,
            &[(*credentials, &pair.token)],
        ) {
            Err(bad @ Rejection::BadToken { .. }) => bad_token = Some(bad),
            other => return other,
        }
    }
    // The request did decrypt with one pair, so `bad_token` outranks `undecryptable`.
    Err(bad_token.unwrap_or(Rejection::Undecryptable {
        platform: P::SOURCE,
        cause,
    }))
}

/// Why a signed ciphertext did not decrypt, for the answer.
fn signed_decrypt_detail(err: DecryptError) -> &'static str {
    match err {
        DecryptError::Base64 => "the signed `encrypt` value is not base64",
        DecryptError::Length => "the signed `encrypt` value is not an IV and whole AES blocks",
        DecryptError::Padding => {
            "the signed ciphertext does not decrypt with the key that signed it (bad PKCS#7 padding)"
        }
    }
}

/// The debug-log cause of a decryption failure (never part of the answer).
fn decrypt_cause(err: DecryptError) -> &'static str {
    match err {
        DecryptError::Base64 => "the ciphertext is not base64",
        DecryptError::Length => "the ciphertext is not an IV and whole blocks",
        DecryptError::Padding => "bad padding (wrong key or altered data)",
    }
}

/// What the outer body is.
enum Outer<'a> {
    /// A plaintext envelope, or something the parser will refuse.
    Plaintext(&'a str),
    /// The base64 ciphertext.
    Encrypted(Cow<'a, str>),
}

/// The outer JSON: only where a ciphertext may be.
#[derive(Deserialize)]
struct OuterJson<'a> {
    encrypt: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// What [`OuterJson`] cannot read in a JSON object.
const OUTER_SHAPE: &str =
    "`encrypt` must be a string, and neither `encrypt` nor `data` may appear twice";

/// What cannot be read in Feilian's `{"data": {"encrypt": "..."}}`.
const NESTED_SHAPE: &str = "`data.encrypt` must be a string, given once";

/// The shortest bare ciphertext: base64 of an IV and one block (32 bytes).
const MIN_BARE_CIPHERTEXT: usize = 44;

/// Reads the outer body: `{"encrypt": "<base64>"}`, or a plaintext envelope.
/// Feilian also takes `{"data": {"encrypt": ...}}` and bare base64
/// (`docs/protocol.md`, "Challenge replies").
fn read_outer(source: Source, body: &[u8]) -> Result<Outer<'_>, Rejection> {
    let text = std::str::from_utf8(body).map_err(|_| Rejection::InvalidJson)?;
    if source == Source::Feilian
        && let Some(bare) = bare_ciphertext(text)
    {
        return Ok(Outer::Encrypted(Cow::Borrowed(bare)));
    }
    let outer: OuterJson = parse_object(text, OUTER_SHAPE).map_err(|err| unparsed(source, err))?;
    if let Some(encrypted) = outer.encrypt {
        return Ok(Outer::Encrypted(encrypted));
    }
    if source == Source::Feilian
        && let Some(data) = outer.data
        && is_object(data)
    {
        // As at the top level, an `encrypt` that is not one string is malformed.
        let encrypt = string_member(data, "encrypt").map_err(|NotOneString| {
            Rejection::MalformedEnvelope {
                platform: source,
                detail: NESTED_SHAPE,
            }
        })?;
        if let Some(encrypted) = encrypt {
            return Ok(Outer::Encrypted(encrypted.into_cow()));
        }
    }
    // Anything else is plaintext, refused when a key is configured (no downgrade).
    Ok(Outer::Plaintext(text))
}

/// The body as a bare base64 ciphertext, if it is one, surrounding whitespace ignored.
fn bare_ciphertext(text: &str) -> Option<&str> {
    let bare = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let base64 = bare.len() >= MIN_BARE_CIPHERTEXT
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    base64.then_some(bare)
}

/// Checks a Feishu signature before anything is decrypted, which would be a padding oracle
/// (`docs/protocol.md`, "Signature").
/// Returns the matching key and its pairs' tokens; `None` when nothing is signed.
fn signed_by<'e>(
    source: Source,
    inbound: Inbound<'_>,
    keyed: &[(Credentials, &'e Pair, &'e EncryptKey)],
    window: ReplayWindow,
    now: SystemTime,
) -> Result<Option<(&'e EncryptKey, Tokens<'e>)>, Rejection> {
    if source != Source::Feishu {
        return Ok(None);
    }
    let Some(headers) = inbound.signature else {
        return Ok(None);
    };
    let signers = every_match(keyed, |(_, _, key)| headers.verify(key, inbound.body));
    let Some(&&(_, _, key)) = signers.first() else {
        return Err(Rejection::BadSignature);
    };
    window
        .check_header_timestamp(headers.timestamp, now)
        .map_err(|staleness| Rejection::StaleRequest {
            platform: source,
            staleness,
        })?;
    // Another pair signs alike only with the same key.
    let tokens = signers
        .iter()
        .map(|(credentials, pair, _)| (*credentials, &pair.token))
        .collect();
    Ok(Some((key, tokens)))
}

/// Authenticates an envelope with the first of `tokens` that matches, in constant time.
/// `window` is set when `header.create_time` must be checked.
fn open<P: Platform>(
    endpoint: &Endpoint,
    text: &str,
    envelope: Envelope<'_>,
    signature: Signature,
    window: Option<(ReplayWindow, SystemTime)>,
    tokens: &[(Credentials, &VerificationToken)],
) -> Result<Delivery, Rejection> {
    match envelope {
        // A URL verification has no signature and no time: the token is its proof.
        Envelope::Challenge {
            challenge,
            token: Some(token),
        } => match matching_pair(tokens, Some(&token)) {
            Some(credentials) => Ok(Delivery::Challenge(Challenge {
                value: challenge.into_owned(),
                token: token.into_owned(),
                credentials,
            })),
            None => Err(Rejection::BadToken {
                platform: P::SOURCE,
            }),
        },
        Envelope::Challenge { token: None, .. } => Err(Rejection::BadToken {
            platform: P::SOURCE,
        }),
        Envelope::Event(event) => {
            let (event, credentials) = verify_event(endpoint.id(), tokens, event, signature)?;
            if let Some((window, now)) = window {
                check_create_time(&event, window, now).map_err(|staleness| {
                    Rejection::StaleRequest {
                        platform: P::SOURCE,
                        staleness,
                    }
                })?;
            }
            deliver::<P>(endpoint, text, &event, credentials)
        }
    }
}

/// Applies the replay window to `header.create_time`, which must be present and readable.
/// An absent time could switch the check off through the IV (`docs/protocol.md`, "Replay window").
fn check_create_time(
    event: &Verified<'_, crate::envelope::Event<'_>>,
    window: ReplayWindow,
    now: SystemTime,
) -> Result<(), Staleness> {
    let raw = event.create_time.ok_or(Staleness::MissingTime)?;
    let millis = raw_unix_millis(raw).ok_or(Staleness::UnreadableTime)?;
    window.check_unix_millis(millis, now)
}

/// Why a change whose entity id is `""` is refused.
const EMPTY_ENTITY_ID: &str =
    "the entity id (`department_id`, `org_id`, `open_id` or `open_department_id`) is empty";

/// What to do with a verified event. `text` is kept, redacted, only for a quarantine.
fn deliver<P: Platform>(
    endpoint: &Endpoint,
    text: &str,
    event: &Verified<'_, crate::envelope::Event<'_>>,
    credentials: Credentials,
) -> Result<Delivery, Rejection> {
    let event_ref = EventRef {
        credentials,
        ..event.event_ref()
    };
    match messages_of::<P>(endpoint, event) {
        Ok(Some(messages)) => Ok(Delivery::Changes(Batch {
            event: event_ref,
            messages,
        })),
        Ok(None) => Ok(Delivery::Ignored(event_ref)),
        Err(rejection) => {
            let quarantine = Quarantine::new(
                endpoint.id().clone(),
                event_ref,
                rejection.code(),
                rejection.to_string(),
                text,
            );
            Ok(Delivery::Unusable {
                rejection,
                quarantine,
            })
        }
    }
}

/// The messages of a verified event, or `None` for a type the relay does not relay.
/// One bad change refuses them all: publishing the rest would be half a request.
fn messages_of<P: Platform>(
    endpoint: &Endpoint,
    event: &Verified<'_, crate::envelope::Event<'_>>,
) -> Result<Option<Vec<Outgoing>>, Rejection> {
    let Some(messages) = P::normalize(event)? else {
        return Ok(None);
    };
    // An empty entity id names nothing a consumer could change.
    if messages.iter().any(|message| message.entity_id.is_empty()) {
        return Err(event.malformed(EMPTY_ENTITY_ID));
    }
    // serde_json cannot fail on a message.
    let messages: Vec<Outgoing> = messages
        .into_iter()
        .map(Outgoing::new)
        .collect::<Result<_, _>>()
        .map_err(|_| event.malformed("a change cannot be written as JSON"))?;
    // A message the queue can never take.
    if let Some(limit) = endpoint.message_limit()
        && let Some(message) = messages.iter().find(|message| message.size() > limit)
    {
        return Err(Rejection::MessageTooLarge {
            event_type: event.event_type.clone().into_owned(),
            event_id: event.event_id.clone().into_owned(),
            id: message.id().to_owned(),
            size: message.size(),
            limit,
        });
    }
    Ok(Some(messages))
}

#[cfg(test)]
#[path = "tests/receive.rs"]
mod tests;
