//! Verified events that cannot become messages, kept for an operator rather than retried
//! until the platform drops them (`docs/protocol.md`, "Delivery and retries").
//! The token is redacted: a secret never goes to a queue or a log.

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::endpoint::EndpointId;
use crate::snapshot::{is_object, members};
use crate::{EventRef, Outgoing};

/// What replaces the verification token in a quarantined envelope.
pub const REDACTED: &str = "<redacted>";

/// A verified event that the relay cannot turn into messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    endpoint: EndpointId,
    event: EventRef,
    reason: &'static str,
    detail: String,
    /// `None` when its members could not be read.
    envelope: Option<String>,
    /// Of the decrypted envelope, in bytes.
    size: usize,
    /// Of the redacted envelope, in hex.
    sha256: String,
}

impl Quarantine {
    /// `plaintext` is the verified, decrypted envelope; `reason` a stable code.
    pub(crate) fn new(
        endpoint: EndpointId,
        event: EventRef,
        reason: &'static str,
        detail: String,
        plaintext: &str,
    ) -> Self {
        let envelope = redact(plaintext);
        let sha256 = hex::encode(Sha256::digest(
            envelope.as_deref().unwrap_or_default().as_bytes(),
        ));
        Self {
            endpoint,
            event,
            reason,
            detail,
            envelope,
            size: plaintext.len(),
            sha256,
        }
    }

    /// The endpoint that received it, where to replay it once its cause is fixed.
    pub fn endpoint(&self) -> &EndpointId {
        &self.endpoint
    }

    /// The event's type and id.
    pub fn event(&self) -> &EventRef {
        &self.event
    }

    /// Why: the error code the platform would otherwise have been answered.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// What exactly is wrong, for a person; never a secret.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The redacted envelope, if its message fits in `max_message_bytes`.
    /// Else a summary `{"event_id", "event_type", "size", "sha256", "omitted"}`.
    /// `omitted` is `too_large`, or `unreadable` when no part of the envelope could be kept.
    pub fn outgoing(&self, max_message_bytes: usize) -> Outgoing {
        let omitted = match &self.envelope {
            Some(envelope) if envelope.len() <= max_message_bytes => {
                let whole = self.message(envelope.clone());
                if whole.size() <= max_message_bytes {
                    return whole;
                }
                "too_large"
            }
            Some(_) => "too_large",
            None => "unreadable",
        };
        let summary = serde_json::json!({
            "event_id": self.event.event_id,
            "event_type": self.event.event_type,
            "size": self.size,
            "sha256": self.sha256,
            "omitted": omitted,
        });
        self.message(summary.to_string())
    }

    fn message(&self, body: String) -> Outgoing {
        Outgoing::quarantined(&self.endpoint, &self.event, self.reason, &self.detail, body)
    }
}

/// The envelope with `token` and `header.token` replaced by [`REDACTED`], all else byte for byte.
/// `None` when its keys cannot be read.
fn redact(plaintext: &str) -> Option<String> {
    redact_object(serde_json::from_str(plaintext).ok()?, true)
}

/// `object` with its `token` redacted, and its `header`'s when `header` is set.
fn redact_object(object: &RawValue, header: bool) -> Option<String> {
    let mut out = String::with_capacity(object.get().len());
    out.push('{');
    for (index, (key, value)) in members(object)?.into_iter().enumerate() {
        // A key holding a lone surrogate could not be written back, nor told from `token`.
        let key = std::str::from_utf8(&key).ok()?;
        if index > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key).ok()?);
        out.push(':');
        match key {
            "token" => out.push_str(&serde_json::to_string(REDACTED).ok()?),
            "header" if header && is_object(value) => out.push_str(&redact_object(value, false)?),
            _ => out.push_str(value.get()),
        }
    }
    out.push('}');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Source;

    fn event() -> EventRef {
        EventRef {
            event_type: "corehr.department.updated_v2".into(),
            event_id: "ev-1".into(),
            credentials: crate::Credentials::Current,
        }
    }

    fn quarantine(plaintext: &str) -> Quarantine {
        Quarantine::new(
            EndpointId::default_of(Source::Feishu),
            event(),
            "malformed_event",
            "event.department_id is missing".into(),
            plaintext,
        )
    }

    #[test]
    fn a_token_key_spelled_with_an_escape_is_redacted_too() {
        let plaintext = r#"{"\u0074oken":"s3cret-token","header":{"t\u006fken":"s3cret-token"}}"#;
        let body = quarantine(plaintext).outgoing(usize::MAX).body().to_owned();
        assert!(!body.contains("s3cret"), "{body}");
        assert_eq!(
            body,
            r#"{"token":"<redacted>","header":{"token":"<redacted>"}}"#
        );
    }

    #[test]
    fn the_token_is_redacted_and_everything_else_kept_byte_for_byte() {
        let plaintext = r#"{"schema":"2.0","header":{"event_id":"ev-1","token":"s3cret-token","create_time":"1"},"event":{"name":"Growth \ud83d","x":[1, 2.50]}}"#;
        let body = quarantine(plaintext).outgoing(usize::MAX).body().to_owned();
        assert_eq!(
            body,
            r#"{"schema":"2.0","header":{"event_id":"ev-1","token":"<redacted>","create_time":"1"},"event":{"name":"Growth \ud83d","x":[1, 2.50]}}"#
        );
    }

    #[test]
    fn a_top_level_token_is_redacted_too() {
        let body =
            quarantine(r#"{"uuid":"u","token":"s3cret","type":"event_callback","event":{}}"#)
                .outgoing(usize::MAX)
                .body()
                .to_owned();
        assert!(!body.contains("s3cret"), "{body}");
        assert!(body.contains(r#""token":"<redacted>""#), "{body}");
    }

    #[test]
    fn the_envelope_is_kept_whole_only_when_the_whole_message_fits() {
        // U+FFFF, 3 bytes in UTF-8, is 6 as SQS text (`\uffff`): the body grows, and
        // the attributes count too.
        let plaintext = format!(
            r#"{{"header":{{"token":"s3cret","event_id":"ev-1"}},"event":{{"name":"{}"}}}}"#,
            "\u{ffff}".repeat(100)
        );
        let q = quarantine(&plaintext);
        let whole = q.outgoing(usize::MAX);
        assert!(whole.body().contains(r"\uffff"));
        assert!(whole.body().len() > plaintext.len());
        let omitted = |max: usize| {
            let body: serde_json::Value = serde_json::from_str(q.outgoing(max).body()).ok()?;
            body["omitted"].as_str().map(str::to_owned)
        };
        assert_eq!(
            omitted(whole.size()),
            None,
            "the whole message, at its limit"
        );
        assert_eq!(omitted(whole.size() - 1).as_deref(), Some("too_large"));
        // The envelope's own length fits, the message does not.
        assert!(plaintext.len() < whole.size() - 1);
    }

    #[test]
    fn a_body_too_big_becomes_its_summary() {
        let plaintext = r#"{"header":{"token":"s3cret","event_id":"ev-1"},"event":{}}"#;
        let q = quarantine(plaintext);
        let body: serde_json::Value =
            serde_json::from_str(q.outgoing(10).body()).expect("a JSON summary");
        assert_eq!(body["event_id"], "ev-1");
        assert_eq!(body["event_type"], "corehr.department.updated_v2");
        assert_eq!(body["size"], plaintext.len());
        assert_eq!(body["omitted"], "too_large");
        let redacted = r#"{"header":{"token":"<redacted>","event_id":"ev-1"},"event":{}}"#;
        assert_eq!(body["sha256"], hex::encode(Sha256::digest(redacted)));
    }

    #[test]
    fn an_envelope_that_cannot_be_read_member_by_member_keeps_nothing() {
        // A key with a lone surrogate cannot be read as text: nothing of the
        // envelope (and so of its token) is kept, only the summary.
        let q = quarantine(r#"{"\ud800":1,"token":"s3cret"}"#);
        let body = q.outgoing(usize::MAX).body().to_owned();
        assert!(
            !body.contains("s3cret") && body.contains(r#""omitted":"unreadable""#),
            "{body}"
        );
    }
}
