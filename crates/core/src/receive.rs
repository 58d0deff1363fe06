//! The pipeline every request goes through, from raw body to messages.
//! A request must check out fully with one candidate pair ([`Credentials`]).

use std::time::SystemTime;

use crate::cipher::DecryptError;
use crate::delivery::{Batch, Challenge, Delivery};
use crate::endpoint::{Credentials, Endpoint};
use crate::envelope::{Envelope, Event, ParseError};
use crate::feilian::Feilian;
use crate::feishu::Feishu;
use crate::outer::{Outer, read_outer, unparsed};
use crate::outgoing::Outgoing;
use crate::platform::Platform;
use crate::quarantine::Quarantine;
use crate::timestamp::raw_unix_millis;
use crate::verified::{Signature, Verified, every_match, matching_pair, verify_event};
use crate::window::{ReplayWindow, Staleness};
use crate::{EncryptKey, Rejection, SignatureHeaders, Source, VerificationToken, cipher};

/// A request as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The body exactly as received: the signature covers these bytes.
    pub body: &'a [u8],
    /// Feishu's signature headers, when all three are present.
    pub signature: Option<SignatureHeaders<'a>>,
}

/// Runs the pipeline on one request received at `now`.
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
        // No endpoint has another source.
        _ => Err(Rejection::InvalidJson),
    }
}

/// Candidate pairs' tokens, and which pair each is.
type Tokens<'e> = Vec<(Credentials, &'e VerificationToken)>;

/// The Encrypt Keys to try, each with the tokens of the pairs that hold it.
type Keys<'e> = Vec<(&'e EncryptKey, Tokens<'e>)>;

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
    // Without a key, a signature proves nothing and a time can be rewritten: only the token counts.
    let keyless: Tokens = endpoint
        .candidates(now)
        .into_iter()
        .filter(|(_, pair)| pair.key.is_none())
        .map(|(credentials, pair)| (credentials, &pair.token))
        .collect();
    if keyless.is_empty() {
        return Err(Rejection::PlaintextRefused {
            platform: P::SOURCE,
        });
    }
    let envelope = P::parse(text).map_err(|err| unparsed(P::SOURCE, err))?;
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
    let keyed: Keys = endpoint
        .candidates(now)
        .into_iter()
        .filter_map(|(credentials, pair)| {
            let key = pair.key.as_ref()?;
            Some((key, vec![(credentials, &pair.token)]))
        })
        .collect();
    if keyed.is_empty() {
        return Err(Rejection::EncryptKeyMissing {
            platform: P::SOURCE,
        });
    }
    let window = endpoint.replay_window();
    let (keys, signature) = match (P::SOURCE, inbound.signature) {
        (Source::Feishu, Some(headers)) => (
            signed_by(headers, inbound.body, keyed, window, now)?,
            Signature::Valid,
        ),
        (Source::Feishu, None) => (keyed, Signature::Absent),
        _ => (keyed, Signature::NotApplicable),
    };
    // Feilian signs nothing, but its time is inside the ciphertext.
    let window = (P::SOURCE == Source::Feilian).then_some((window, now));
    open_encrypted::<P>(endpoint, encrypted, &keys, signature, window)
}

/// Checks a Feishu signature before anything is decrypted, which would be a padding oracle
/// (`docs/protocol.md`, "Signature"). Returns the signing key with its pairs' tokens.
fn signed_by<'e>(
    headers: SignatureHeaders<'_>,
    body: &[u8],
    keyed: Keys<'e>,
    window: ReplayWindow,
    now: SystemTime,
) -> Result<Keys<'e>, Rejection> {
    let signers = every_match(&keyed, |(key, _)| headers.verify(key, body));
    let Some((key, _)) = signers.first() else {
        return Err(Rejection::BadSignature);
    };
    window
        .check_header_timestamp(headers.timestamp, now)
        .map_err(|staleness| Rejection::StaleRequest {
            platform: Source::Feishu,
            staleness,
        })?;
    // Another pair signs alike only with the same key.
    let tokens = signers
        .iter()
        .flat_map(|(_, tokens)| tokens.iter().copied())
        .collect();
    Ok(vec![(*key, tokens)])
}

/// Decrypts a ciphertext with each key in turn and opens the envelope.
/// Unsigned, every failure is the same `undecryptable`: no oracle (`docs/protocol.md`,
/// "Signature").
/// Signed, the sender holds the key, so a detailed failure is no oracle.
fn open_encrypted<P: Platform>(
    endpoint: &Endpoint,
    encrypted: &str,
    keys: &Keys<'_>,
    signature: Signature,
    window: Option<(ReplayWindow, SystemTime)>,
) -> Result<Delivery, Rejection> {
    let mut cause = "no candidate key";
    let mut bad_token = None;
    for (key, tokens) in keys {
        let failure = match decrypt_text(key, encrypted) {
            Ok(text) => match P::parse(&text) {
                Ok(envelope) => {
                    match open::<P>(endpoint, &text, envelope, signature, window, tokens) {
                        Err(bad @ Rejection::BadToken { .. }) => bad_token = Some(bad),
                        other => return other,
                    }
                    continue;
                }
                Err(ParseError::NotJson) => {
                    "the ciphertext decrypts to something that is not a JSON object"
                }
                Err(ParseError::Shape(detail)) => detail,
            },
            Err(failure) => failure,
        };
        if signature == Signature::Valid {
            return Err(Rejection::MalformedEnvelope {
                platform: P::SOURCE,
                detail: failure,
            });
        }
        cause = failure;
    }
    // The request did decrypt with one pair, so `bad_token` outranks `undecryptable`.
    Err(bad_token.unwrap_or(Rejection::Undecryptable {
        platform: P::SOURCE,
        cause,
    }))
}

/// The plaintext of `encrypted` under `key`, or why there is none.
fn decrypt_text(key: &EncryptKey, encrypted: &str) -> Result<String, &'static str> {
    let plaintext = cipher::decrypt(key, encrypted).map_err(|err| match err {
        DecryptError::Base64 => "the `encrypt` value is not base64",
        DecryptError::Length => "the `encrypt` value is not an IV and whole AES blocks",
        DecryptError::Padding => {
            "the ciphertext does not decrypt with the key (bad PKCS#7 padding)"
        }
    })?;
    String::from_utf8(plaintext).map_err(|_| "the ciphertext decrypts to bytes that are not UTF-8")
}

/// Authenticates an envelope with the first of `tokens` that matches.
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
        Envelope::Challenge { challenge, token } => {
            let credentials =
                matching_pair(tokens, token.as_deref()).ok_or(Rejection::BadToken {
                    platform: P::SOURCE,
                })?;
            Ok(Delivery::Challenge(Challenge {
                value: challenge.into_owned(),
                token: token.unwrap_or_default().into_owned(),
                credentials,
            }))
        }
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
/// Else a replayer could rename that key through the IV (`docs/protocol.md`, "Replay window").
fn check_create_time(
    event: &Verified<'_, Event<'_>>,
    window: ReplayWindow,
    now: SystemTime,
) -> Result<(), Staleness> {
    let raw = event.create_time.ok_or(Staleness::MissingTime)?;
    let millis = raw_unix_millis(raw).ok_or(Staleness::UnreadableTime)?;
    window.check_unix_millis(millis, now)
}

const EMPTY_ENTITY_ID: &str =
    "the entity id (`department_id`, `org_id`, `open_id` or `open_department_id`) is empty";

/// What to do with a verified event; `text` is for a quarantine.
fn deliver<P: Platform>(
    endpoint: &Endpoint,
    text: &str,
    event: &Verified<'_, Event<'_>>,
    credentials: Credentials,
) -> Result<Delivery, Rejection> {
    let event_ref = event.event_ref(credentials);
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

/// The messages of a verified event, `None` for a type not relayed.
/// One bad change refuses them all: publishing the rest would be half a request.
fn messages_of<P: Platform>(
    endpoint: &Endpoint,
    event: &Verified<'_, Event<'_>>,
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
