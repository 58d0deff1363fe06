//! What the unit tests of several modules share.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::{
    Action, Delivery, Endpoint, Entity, Inbound, Message, Rejection, SCHEMA_VERSION, Source,
    VerificationToken,
};

/// The verification token of every plaintext endpoint in the unit tests.
pub(crate) const TOKEN: &str = "t0ken";

/// What [`receive`](crate::receive) does with a plaintext `body` at a keyless endpoint.
pub(crate) fn receive_plaintext(source: Source, body: &str) -> Result<Delivery, Rejection> {
    let endpoint = Endpoint::new(source, VerificationToken::new(TOKEN), None);
    let inbound = Inbound {
        body: body.as_bytes(),
        signature: None,
    };
    // A plaintext endpoint has no replay window: any time will do.
    crate::receive(&endpoint, inbound, std::time::UNIX_EPOCH)
}

/// The message bodies [`receive_plaintext`] makes of `body`, or its rejection.
pub(crate) fn relayed_bodies(source: Source, body: &str) -> Result<Vec<String>, Rejection> {
    match receive_plaintext(source, body)? {
        Delivery::Changes(batch) => Ok(batch
            .messages()
            .iter()
            .map(|message| message.body().to_owned())
            .collect()),
        Delivery::Unusable { rejection, .. } => Err(rejection),
        other => panic!("not relayed: {other:?}"),
    }
}

/// The detail of a `malformed_event` refusal.
pub(crate) fn malformed_detail(relayed: Result<Vec<String>, Rejection>) -> &'static str {
    match relayed {
        Err(Rejection::MalformedEvent { detail, .. }) => detail,
        other => panic!("expected malformed_event, got {other:?}"),
    }
}

/// A message made of `text` wherever it carries the platform's text.
pub(crate) fn message<'a>(
    text: &'a str,
    optional: Option<&'a str>,
    before: Option<&'a RawValue>,
    after: Option<&'a RawValue>,
) -> Message<'a> {
    Message {
        schema_version: SCHEMA_VERSION,
        id: Cow::Owned(format!("feishu:{text}")),
        source: Source::Feishu,
        endpoint: optional.map(Cow::Borrowed),
        event_type: Cow::Borrowed(text),
        event_id: Cow::Borrowed(text),
        entity: Entity::Department,
        action: Action::Updated,
        entity_id: Cow::Borrowed(text),
        object_api_name: optional.map(Cow::Borrowed),
        changed_fields: vec![Cow::Borrowed(text), Cow::Borrowed("name")],
        occurred_at: optional.map(str::to_owned),
        tenant_key: optional.map(Cow::Borrowed),
        app_id: optional.map(Cow::Borrowed),
        before: before.map(Cow::Borrowed),
        after: after.map(Cow::Borrowed),
        current: None,
        current_at: None,
        current_missing: None,
    }
}
