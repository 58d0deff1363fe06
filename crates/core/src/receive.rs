//! The pipeline every request goes through, in order:
//!
//! 1. read the outer body: `{"encrypt": ...}` or a plaintext envelope (Feilian
//!    also: `{"data": {"encrypt": ...}}`, or the bare base64 ciphertext);
//! 2. refuse a plaintext body when every candidate pair has a key (no downgrade),
//!    and an encrypted one when none has;
//! 3. Feishu: check the signature over the raw body *before* decrypting, with each
//!    candidate key (constant time each): the key that matches picks the pair; then
//!    the signed `X-Lark-Request-Timestamp` against the replay window;
//! 4. decrypt and parse the envelope; when no signature authenticated the
//!    ciphertext, every failure up to here is one answer, `undecryptable`, and the
//!    candidate keys are tried in turn (current first);
//! 5. check the verification token **of the same pair**, in constant time, on every
//!    request ([`verified`](crate::verified)); Feilian with a key: then
//!    `header.create_time` against the replay window;
//! 6. answer the challenge, or normalize the event into messages.
//!
//! The candidate pairs are an endpoint's current token and key and, during a
//! rotation, its previous pair while `now` is before the pair's expiry
//! ([`Endpoint::with_previous`]). A request is accepted only if it checks out fully
//! with one pair; which one is reported ([`Credentials`]).

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
    /// A URL verification: answer with this challenge.
    Challenge(Challenge),
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

impl Delivery {
    /// Which of the endpoint's pairs authenticated the request: the current one, or
    /// the previous one during a rotation.
    pub fn credentials(&self) -> Credentials {
        match self {
            Delivery::Challenge(challenge) => challenge.credentials,
            Delivery::Changes(batch) => batch.event.credentials,
            Delivery::Ignored(event) => event.credentials,
            Delivery::Unusable { quarantine, .. } => quarantine.event().credentials,
        }
    }
}

/// A URL verification whose token matched: what the platform sent, for the reply
/// (`docs/protocol.md`, "Challenge replies").
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

    /// The `token` the request carried: the endpoint's Verification Token, since it
    /// matched. Only for a reply that echoes the whole challenge object (Feilian's
    /// `echo`); never log it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Which of the endpoint's pairs the challenge's token (and key) matched.
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

/// Runs the whole pipeline on one request received at `now` (the adapter's clock:
/// the replay window is measured from it).
///
/// # Errors
///
/// A [`Rejection`] says why the request is refused; its [`code`](Rejection::code) is
/// stable. Nothing is published for a rejected request.
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
    // Without a key, Feishu signs with an empty key and a plaintext time can be rewritten.
    // The token is then the only check.
    let keyless: Tokens = endpoint
        .candidates(now)
        .iter()
        .filter(|(_, pair)| pair.key.is_none())
        .map(|(credentials, pair)| (*credentials, &pair.token))
        .collect();
    if keyless.is_empty() {
        return Err(Rejection::PlaintextRefused { platform: source });
    }
    let envelope = P::parse(text).map_err(|err| match err {
        ParseError::NotJson => Rejection::InvalidJson,
        ParseError::Shape(detail) => Rejection::MalformedEnvelope {
            platform: source,
            detail,
        },
    })?;
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
/// The signature proves the sender holds the key, so a failure here is no oracle.
/// It is answered `malformed_envelope` with its detail.
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

/// The refusal for a ciphertext that did not decrypt to an envelope; `cause` is for
/// the DEBUG log only.
fn undecryptable(platform: Source, cause: &'static str) -> Rejection {
    Rejection::Undecryptable { platform, cause }
}

/// Decrypts a ciphertext no signature authenticated (Feilian; a Feishu request
/// without signature headers, which may only be the challenge) with each candidate
/// key in turn, current first, and opens it with that pair's token. Every way a key
/// fails — bad base64, padding, not UTF-8, not JSON, not the platform's envelope — is
/// the same `undecryptable` (telling them apart would be an oracle, `docs/protocol.md`,
/// "Signature"); a key that decrypts but whose pair's token does not match moves on
/// to the next pair. At the end: `bad_token` if some key decrypted the envelope,
/// else `undecryptable`, the same answers as with one key.
fn try_each_key<P: Platform>(
    endpoint: &Endpoint,
    encrypted: &str,
    keyed: &[(Credentials, &Pair, &EncryptKey)],
    signature: Signature,
    window: Option<(ReplayWindow, SystemTime)>,
) -> Result<Delivery, Rejection> {
    let source = P::SOURCE;
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
    // A `bad_token` from one pair outranks an `undecryptable` from the other: the
    // request did decrypt, and would have got `bad_token` with that pair alone.
    Err(bad_token.unwrap_or_else(|| undecryptable(source, cause)))
}

/// Why a signed ciphertext did not decrypt, for the answer (the signature proves the
/// sender holds the key, so this is no oracle).
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
    /// An envelope in plaintext (or not an envelope at all: the parser says).
    Plaintext(&'a str),
    /// The base64 ciphertext.
    Encrypted(Cow<'a, str>),
}

/// The outer JSON: only where a ciphertext may be matters here.
#[derive(Deserialize)]
struct OuterJson<'a> {
    #[serde(borrow, default, deserialize_with = "crate::envelope::option_str")]
    encrypt: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// What [`OuterJson`] cannot read in a JSON object: an `encrypt` that is not a string,
/// or a field it reads given twice.
const OUTER_SHAPE: &str =
    "`encrypt` must be a string, and neither `encrypt` nor `data` may appear twice";

/// What cannot be read in Feilian's `{"data": {"encrypt": "..."}}`.
const NESTED_SHAPE: &str = "`data.encrypt` must be a string, given once";

/// The shortest bare ciphertext: base64 of an IV and one block (32 bytes).
const MIN_BARE_CIPHERTEXT: usize = 44;

/// Reads the outer body. Both platforms send `{"encrypt": "<base64>"}`. Feilian's
/// one public receiver also takes `{"data": {"encrypt": "<base64>"}}` and, for an
/// `application/octet-stream` request, the bare base64 ciphertext (API Gateway hands
/// such a body over base64-encoded; the adapter sees the base64 text once
/// lambda_http has decoded it) (`docs/protocol.md`, "Challenge replies"): the relay
/// accepts both from Feilian, through the same decryption and checks. Feishu sends
/// neither, and they stay refused there.
fn read_outer(source: Source, body: &[u8]) -> Result<Outer<'_>, Rejection> {
    let text = std::str::from_utf8(body).map_err(|_| Rejection::InvalidJson)?;
    if source == Source::Feilian
        && let Some(bare) = bare_ciphertext(text)
    {
        return Ok(Outer::Encrypted(Cow::Borrowed(bare)));
    }
    let outer: OuterJson = parse_object(text, OUTER_SHAPE).map_err(|err| match err {
        ParseError::NotJson => Rejection::InvalidJson,
        // A JSON object all the same: say what is wrong with it.
        ParseError::Shape(detail) => Rejection::MalformedEnvelope {
            platform: source,
            detail,
        },
    })?;
    if let Some(encrypted) = outer.encrypt {
        return Ok(Outer::Encrypted(encrypted));
    }
    if source == Source::Feilian
        && let Some(data) = outer.data
        && is_object(data)
    {
        // The nested form is held to the top level's rule: an `encrypt` that is not a
        // string (or is given twice) is a malformed envelope, not a plaintext body.
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
    // Anything else, `{"data": {...}}` without `encrypt` (or with a `null` one)
    // included, is a plaintext body: refused when a key is configured (no downgrade).
    Ok(Outer::Plaintext(text))
}

/// The body as a bare base64 ciphertext, if it is one: at least an IV and a block's
/// worth of the standard base64 alphabet, with surrounding ASCII whitespace (a file
/// ending in a newline) ignored.
fn bare_ciphertext(text: &str) -> Option<&str> {
    let bare = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let base64 = bare.len() >= MIN_BARE_CIPHERTEXT
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    base64.then_some(bare)
}

/// Checks a Feishu signature over the raw body, before anything is decrypted: a
/// receiver that decrypts unauthenticated data and answers bad padding differently
/// is a padding oracle (`docs/protocol.md`, "Signature"). The signature is compared
/// with each candidate key, in constant time, every candidate being checked; the key
/// that matches picks the pair (both pairs, when a rotation kept the key and changed
/// only the token). Once a signature matched, the timestamp it covers is trustworthy,
/// and must be inside the replay window.
///
/// `Some((key, tokens))`: the key to decrypt with and the tokens of the pairs it
/// belongs to, current first. `None`: nothing to check (Feilian signs nothing, `docs/protocol.md`,
/// "Feilian"), or no signature headers (only the challenge may come so).
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

/// Authenticates a parsed envelope with the first of `tokens` that matches its token
/// (every one compared, in constant time), and turns it into what to do. `window`:
/// the replay window and the current time, when the event's `header.create_time` is
/// to be checked (Feilian with a key).
fn open<P: Platform>(
    endpoint: &Endpoint,
    text: &str,
    envelope: Envelope<'_>,
    signature: Signature,
    window: Option<(ReplayWindow, SystemTime)>,
    tokens: &[(Credentials, &VerificationToken)],
) -> Result<Delivery, Rejection> {
    match envelope {
        // The URL verification carries no signature headers and no time: the token
        // is its proof.
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

/// Applies the replay window to a verified event's `header.create_time`, which must
/// be there and readable: a check that passed on an absent time could be switched
/// off through the IV (`docs/protocol.md`, "Replay window").
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

/// What to do with a verified event. `text` is its envelope as decrypted, kept (with
/// the token redacted) only when the event cannot become messages.
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
/// Refused whole when one change cannot become a message: publishing the rest would
/// be half a request.
fn messages_of<P: Platform>(
    endpoint: &Endpoint,
    event: &Verified<'_, crate::envelope::Event<'_>>,
) -> Result<Option<Vec<Outgoing>>, Rejection> {
    let Some(messages) = P::normalize(event)? else {
        return Ok(None);
    };
    // An empty entity id names nothing a consumer could apply the change to.
    if messages.iter().any(|message| message.entity_id.is_empty()) {
        return Err(event.malformed(EMPTY_ENTITY_ID));
    }
    // serde_json cannot fail on a message (strings, numbers, raw JSON).
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
