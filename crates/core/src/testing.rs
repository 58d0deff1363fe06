//! What the unit tests of several modules share.

use crate::{Delivery, Endpoint, Inbound, Rejection, Source, VerificationToken};

/// The verification token of every plaintext endpoint in the unit tests.
pub(crate) const TOKEN: &str = "t0ken";

/// What [`receive`](crate::receive) does with a plaintext `body` at a `source`
/// endpoint that has [`TOKEN`] and no key.
pub(crate) fn receive_plaintext(source: Source, body: &str) -> Result<Delivery, Rejection> {
    let endpoint = Endpoint::new(source, VerificationToken::new(TOKEN), None);
    let inbound = Inbound {
        body: body.as_bytes(),
        signature: None,
    };
    // A plaintext endpoint has no replay window: any time will do.
    crate::receive(&endpoint, inbound, std::time::UNIX_EPOCH)
}

/// The message bodies [`receive_plaintext`] makes of `body`, or its rejection (a
/// verified event that cannot become messages included). Panics on a challenge or
/// an ignored type.
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
