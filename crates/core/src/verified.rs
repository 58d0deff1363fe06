//! The only place that vouches for an envelope: [`Verified`] has a private field and
//! one way in, [`verify_event`], which checks the verification token (and that a
//! Feishu event with an Encrypt Key was signed). Only a verified event can become a
//! [`Message`], and only messages become the [`Outgoing`](crate::Outgoing) a sink
//! sends: publishing what was not verified does not compile.

use std::borrow::Cow;
use std::ops::Deref;

use crate::endpoint::EndpointId;
use crate::envelope::{Change, Event};
use crate::timestamp::occurred_at;
use crate::{Message, Rejection, SCHEMA_VERSION, Source, VerificationToken};

/// An envelope whose token (and signature, where the platform signs) has been
/// checked, and the endpoint it was checked for. It cannot be built outside this
/// module.
#[derive(Debug)]
pub struct Verified<T>(T, EndpointId);

impl<T> Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// What the signature headers proved about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signature {
    /// Present and matching the raw body.
    Valid,
    /// Absent: only a URL verification may arrive like this.
    Absent,
    /// The platform signs nothing (Feilian), or no key is configured.
    NotApplicable,
}

/// Whether `candidate` is the endpoint's token, in constant time.
pub(crate) fn token_matches(token: &VerificationToken, candidate: Option<&str>) -> bool {
    candidate.is_some_and(|candidate| token.matches(candidate))
}

/// Vouches for an event received at `endpoint`: its signature was present where one
/// is required, and its token is `token`, the token of the pair whose key (if any)
/// decrypted and signed it.
pub(crate) fn verify_event<'a>(
    endpoint: &'a EndpointId,
    token: &VerificationToken,
    mut event: Event<'a>,
    signature: Signature,
) -> Result<Verified<Event<'a>>, Rejection> {
    if signature == Signature::Absent {
        return Err(Rejection::MissingSignature);
    }
    if !token_matches(token, event.token.as_deref()) {
        return Err(Rejection::BadToken {
            platform: endpoint.source(),
        });
    }
    event.endpoint = Some(endpoint);
    Ok(Verified(event, endpoint.clone()))
}

impl<'a> Verified<Event<'a>> {
    /// `header.create_time` as a message's `occurred_at`: formatted once per event,
    /// not once per change.
    pub(crate) fn occurred_at(&self) -> Option<String> {
        self.create_time.and_then(occurred_at)
    }

    /// The normalized message for one change carried by this event; `occurred_at` is
    /// [`Self::occurred_at`].
    pub(crate) fn message(
        &self,
        source: Source,
        change: Change<'a>,
        occurred_at: Option<String>,
    ) -> Message<'a> {
        let endpoint = match self.endpoint {
            Some(id) => Cow::Borrowed(id.as_str()),
            None => Cow::Owned(self.1.as_str().to_owned()),
        };
        Message {
            schema_version: SCHEMA_VERSION,
            id: Cow::Owned(change.id),
            source,
            endpoint: Some(endpoint),
            event_type: self.event_type.clone(),
            event_id: self.event_id.clone(),
            entity: change.entity,
            action: change.action,
            entity_id: change.entity_id,
            object_api_name: change.object_api_name,
            changed_fields: change.changed_fields,
            occurred_at,
            tenant_key: self.tenant_key.clone(),
            app_id: self.app_id.clone(),
            before: change.before.map(Cow::Borrowed),
            after: change.after.map(Cow::Borrowed),
        }
    }
}
