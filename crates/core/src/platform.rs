//! What the pipeline needs from each platform.

use crate::envelope::{Envelope, Event, ParseError};
use crate::verified::Verified;
use crate::{Message, Rejection, Source};

/// A webhook platform: Feishu (Lark) or Feilian.
pub(crate) trait Platform {
    /// The source its messages carry.
    const SOURCE: Source;

    /// Reads a decrypted or plaintext body: a challenge or an event, not yet trusted.
    fn parse(text: &str) -> Result<Envelope<'_>, ParseError>;

    /// A verified event's messages, in the platform's order; `None` for a type not relayed.
    fn normalize<'a>(
        event: &Verified<'a, Event<'a>>,
    ) -> Result<Option<Vec<Message<'a>>>, Rejection>;
}
