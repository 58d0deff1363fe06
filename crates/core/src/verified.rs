//! [`verify_event`] is the one way to a [`Verified`], and only a verified event becomes a
//! [`Message`]: publishing an unverified one does not compile.

use std::borrow::Cow;
use std::ops::Deref;

use crate::endpoint::{Credentials, EndpointId};
use crate::envelope::{Change, Event};
use crate::timestamp::occurred_at;
use crate::{Message, Rejection, SCHEMA_VERSION, Source, VerificationToken};

/// An envelope whose token, and signature where required, has been checked, and its endpoint.
#[derive(Debug)]
pub struct Verified<'e, T>(T, &'e EndpointId);

impl<T> Deref for Verified<'_, T> {
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
    /// Only a URL verification may arrive unsigned.
    Absent,
    /// The platform signs nothing (Feilian), or no key is configured.
    NotApplicable,
}

/// The items of `candidates` that `check` accepts, in order.
/// `check` runs on every one, so the time taken does not tell which matched.
pub(crate) fn every_match<T>(candidates: &[T], mut check: impl FnMut(&T) -> bool) -> Vec<&T> {
    candidates
        .iter()
        .filter(|candidate| check(candidate))
        .collect()
}

/// Which pair's token `candidate` is, the first if several; every token is compared.
pub(crate) fn matching_pair(
    tokens: &[(Credentials, &VerificationToken)],
    candidate: Option<&str>,
) -> Option<Credentials> {
    let candidate = candidate?;
    every_match(tokens, |(_, token)| token.matches(candidate))
        .first()
        .map(|(credentials, _)| *credentials)
}

/// Vouches for an event that is signed where required and carries one of `tokens`.
pub(crate) fn verify_event<'a>(
    endpoint: &'a EndpointId,
    tokens: &[(Credentials, &VerificationToken)],
    event: Event<'a>,
    signature: Signature,
) -> Result<(Verified<'a, Event<'a>>, Credentials), Rejection> {
    if signature == Signature::Absent {
        return Err(Rejection::MissingSignature);
    }
    let Some(credentials) = matching_pair(tokens, event.token.as_deref()) else {
        return Err(Rejection::BadToken {
            platform: endpoint.source(),
        });
    };
    Ok((Verified(event, endpoint), credentials))
}

impl<'a> Verified<'a, Event<'a>> {
    /// `header.create_time` as `occurred_at`.
    pub(crate) fn occurred_at(&self) -> Option<String> {
        self.create_time.and_then(occurred_at)
    }

    /// The message for one change; its id is `<endpoint>:<event_id>`, `:<index>` in a list.
    /// Two apps may send one `event_id` to two endpoints, and both changes must arrive.
    pub(crate) fn message(
        &self,
        source: Source,
        change: Change<'a>,
        occurred_at: Option<String>,
    ) -> Message<'a> {
        Message {
            schema_version: SCHEMA_VERSION,
            id: Cow::Owned(match change.index {
                Some(index) => format!("{}:{}:{index}", self.1, self.event_id),
                None => format!("{}:{}", self.1, self.event_id),
            }),
            source,
            endpoint: Some(Cow::Borrowed(self.1.as_str())),
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
            current: None,
            current_at: None,
            current_missing: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_match_checks_every_candidate_and_keeps_the_matches_in_order() {
        let mut checked = Vec::new();
        let matches = every_match(&[1, 2, 3, 4], |n| {
            checked.push(*n);
            n % 2 == 0
        });
        assert_eq!(matches, [&2, &4]);
        assert_eq!(checked, [1, 2, 3, 4]);
    }
}
