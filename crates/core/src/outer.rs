//! The outer body: a ciphertext in one of its forms, or a plaintext envelope
//! (`docs/protocol.md`, "Encryption" and "Challenge replies").

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::envelope::{ParseError, parse_object};
use crate::snapshot::{NotOneString, is_object, string_member};
use crate::{Rejection, Source};

/// What the outer body is.
pub(crate) enum Outer<'a> {
    /// A plaintext envelope, or what the parser will refuse.
    Plaintext(&'a str),
    /// The base64 ciphertext.
    Encrypted(Cow<'a, str>),
}

/// The outer JSON's members that may hold a ciphertext.
#[derive(Deserialize)]
struct OuterJson<'a> {
    #[serde(borrow)]
    encrypt: Option<Ciphertext<'a>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// serde borrows a `Cow` only as a field's whole type, hence this newtype inside an `Option`.
#[derive(Deserialize)]
#[serde(transparent)]
struct Ciphertext<'a>(#[serde(borrow)] Cow<'a, str>);

const OUTER_SHAPE: &str =
    "`encrypt` must be a string, and neither `encrypt` nor `data` may appear twice";

const NESTED_SHAPE: &str = "`data.encrypt` must be a string, given once";

/// The shortest bare ciphertext: base64 of an IV and one block (32 bytes).
const MIN_BARE_CIPHERTEXT: usize = 44;

/// Reads the outer body: `{"encrypt": "<base64>"}`, or a plaintext envelope.
/// Feilian also sends `{"data": {"encrypt": ...}}` and bare base64.
pub(crate) fn read_outer(source: Source, body: &[u8]) -> Result<Outer<'_>, Rejection> {
    let text = std::str::from_utf8(body).map_err(|_| Rejection::InvalidJson)?;
    if source == Source::Feilian
        && let Some(bare) = bare_ciphertext(text)
    {
        return Ok(Outer::Encrypted(Cow::Borrowed(bare)));
    }
    let outer: OuterJson = parse_object(text, OUTER_SHAPE).map_err(|err| unparsed(source, err))?;
    if let Some(Ciphertext(encrypted)) = outer.encrypt {
        return Ok(Outer::Encrypted(encrypted));
    }
    if source == Source::Feilian
        && let Some(data) = outer.data
        && is_object(data)
    {
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

/// The refusal for a plaintext body that is not the platform's envelope.
pub(crate) fn unparsed(platform: Source, err: ParseError) -> Rejection {
    match err {
        ParseError::NotJson => Rejection::InvalidJson,
        ParseError::Shape(detail) => Rejection::MalformedEnvelope { platform, detail },
    }
}

/// The body as a bare base64 ciphertext, if it is one.
fn bare_ciphertext(text: &str) -> Option<&str> {
    let bare = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let base64 = bare.len() >= MIN_BARE_CIPHERTEXT
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    base64.then_some(bare)
}
