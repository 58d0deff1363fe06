//! Endpoints: where a platform delivers, and with which secrets.
//! Each app or subscription has its own endpoint (`feishu`, `feishu/lark-global`).

use std::fmt;
use std::time::SystemTime;

use crate::window::ReplayWindow;
use crate::{EncryptKey, Source, VerificationToken};

/// The longest endpoint name, in characters.
pub const MAX_NAME_LEN: usize = 40;

/// Which endpoint a request arrived at, written `feishu` or `feishu/<name>`.
/// A name matches `[a-z0-9][a-z0-9-]{0,39}` and is not a platform's name.
/// `feishu/feilian` would read as the `feilian` endpoint under a path prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointId {
    text: Box<str>,
    /// Feishu or Feilian, never [`Source::Other`].
    source: Source,
}

/// By text: the text says the source too.
impl Ord for EndpointId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl PartialOrd for EndpointId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Why a text is not an endpoint id or name. Ids are not secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEndpoint {
    /// Not one of the four shapes.
    #[error("{0:?} is not an endpoint: expected feishu, feilian, feishu/<name> or feilian/<name>")]
    Shape(String),
    /// Not a valid name (see [`EndpointId`]).
    #[error(
        "{0:?} is not an endpoint name: 1 to 40 lower-case letters, digits or '-', starting with a letter or digit, and not feishu or feilian"
    )]
    Name(String),
}

/// Whether `name` is a valid endpoint name (see [`EndpointId`]).
pub fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && source_named(name).is_none()
}

/// The source `text` names: `feishu` or `feilian`.
fn source_named(text: &str) -> Option<Source> {
    Source::ALL
        .into_iter()
        .find(|source| source.as_str() == text)
}

impl EndpointId {
    /// The default endpoint of `source`. [`Source::Other`] is read as Feishu.
    pub fn default_of(source: Source) -> Self {
        let source = source_named(source.as_str()).unwrap_or(Source::Feishu);
        Self {
            text: source.as_str().into(),
            source,
        }
    }

    /// The endpoint `name` of `source`.
    ///
    /// # Errors
    ///
    /// [`InvalidEndpoint`] for an invalid name.
    pub fn named(source: Source, name: &str) -> Result<Self, InvalidEndpoint> {
        if source_named(source.as_str()).is_none() {
            return Err(InvalidEndpoint::Shape(name.to_owned()));
        }
        if !is_valid_name(name) {
            return Err(InvalidEndpoint::Name(name.to_owned()));
        }
        Ok(Self {
            text: format!("{}/{name}", source.as_str()).into(),
            source,
        })
    }

    /// Reads `feishu`, `feilian`, `feishu/<name>` or `feilian/<name>`.
    ///
    /// # Errors
    ///
    /// [`InvalidEndpoint`] for anything else.
    pub fn parse(text: &str) -> Result<Self, InvalidEndpoint> {
        match text.split_once('/') {
            None => source_named(text)
                .map(Self::default_of)
                .ok_or_else(|| InvalidEndpoint::Shape(text.to_owned())),
            Some((source, name)) => {
                let source =
                    source_named(source).ok_or_else(|| InvalidEndpoint::Shape(text.to_owned()))?;
                Self::named(source, name)
            }
        }
    }

    /// The endpoint a URL path names, from its last one or two non-empty segments.
    /// A stage prefix or base path is thus ignored (`/prod/feishu/lark-global`).
    pub fn from_path(path: &str) -> Option<Self> {
        let mut segments = path.rsplit('/').filter(|segment| !segment.is_empty());
        let last = segments.next()?;
        if let Some(source) = source_named(last) {
            return Some(Self::default_of(source));
        }
        let source = source_named(segments.next()?)?;
        Self::named(source, last).ok()
    }

    /// The platform.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The name of a named endpoint; `None` for a default one.
    pub fn name(&self) -> Option<&str> {
        self.text.split_once('/').map(|(_, name)| name)
    }

    /// Whether this is a platform's default endpoint.
    pub fn is_default(&self) -> bool {
        self.name().is_none()
    }

    /// `feishu` or `feishu/<name>`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Which of an endpoint's pairs of secrets authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credentials {
    /// The current Verification Token and Encrypt Key.
    Current,
    /// The previous pair, still accepted during a rotation.
    Previous,
}

impl Credentials {
    /// The name for logs: `current` or `previous`.
    pub fn as_str(self) -> &'static str {
        match self {
            Credentials::Current => "current",
            Credentials::Previous => "previous",
        }
    }
}

/// One pair of console secrets: a Verification Token and, if set, an Encrypt Key.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    pub token: VerificationToken,
    pub key: Option<EncryptKey>,
}

/// One webhook endpoint and its console secrets.
#[derive(Debug, Clone)]
pub struct Endpoint {
    id: EndpointId,
    current: Pair,
    previous: Option<(Pair, SystemTime)>,
    window: ReplayWindow,
    message_limit: Option<usize>,
}

impl Endpoint {
    /// The default endpoint of `source` with the console's token and key.
    /// With a key, only encrypted requests are accepted.
    pub fn new(source: Source, token: VerificationToken, key: Option<EncryptKey>) -> Self {
        Self::with_id(EndpointId::default_of(source), token, key)
    }

    /// The endpoint `id` with its current token and key.
    pub fn with_id(id: EndpointId, token: VerificationToken, key: Option<EncryptKey>) -> Self {
        Self {
            id,
            current: Pair { token, key },
            previous: None,
            window: ReplayWindow::default(),
            message_limit: None,
        }
    }

    /// The same endpoint with a previous pair, accepted while the clock is before `until`.
    /// A previous pair without a key accepts plaintext requests.
    pub fn with_previous(
        mut self,
        token: VerificationToken,
        key: Option<EncryptKey>,
        until: SystemTime,
    ) -> Self {
        self.previous = Some((Pair { token, key }, until));
        self
    }

    /// The same endpoint with a queue that takes messages of at most `bytes`.
    /// A verified event with a larger message is [`Delivery::Unusable`]: retrying cannot help.
    ///
    /// [`Delivery::Unusable`]: crate::Delivery::Unusable
    pub fn with_message_limit(mut self, bytes: usize) -> Self {
        self.message_limit = Some(bytes);
        self
    }

    /// The largest message the queue takes, in bytes ([`Outgoing::size`](crate::Outgoing::size)).
    pub fn message_limit(&self) -> Option<usize> {
        self.message_limit
    }

    /// The same endpoint with another replay window.
    pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
        self.window = window;
        self
    }

    /// The endpoint's id.
    pub fn id(&self) -> &EndpointId {
        &self.id
    }

    /// The platform this endpoint receives from.
    pub fn source(&self) -> Source {
        self.id.source()
    }

    /// The replay window of its signed or encrypted requests.
    pub fn replay_window(&self) -> ReplayWindow {
        self.window
    }

    /// The current Encrypt Key.
    pub fn current_key(&self) -> Option<&EncryptKey> {
        self.current.key.as_ref()
    }

    /// Until when the previous pair is accepted.
    pub fn previous_until(&self) -> Option<SystemTime> {
        self.previous.as_ref().map(|(_, until)| *until)
    }

    /// The pairs a request received at `now` may check out with, current first.
    pub(crate) fn candidates(&self, now: SystemTime) -> Vec<(Credentials, &Pair)> {
        let mut pairs = vec![(Credentials::Current, &self.current)];
        if let Some((pair, until)) = &self.previous
            && now < *until
        {
            pairs.push((Credentials::Previous, pair));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn ids_read_and_write_as_in_the_url() {
        for text in [
            "feishu",
            "feilian",
            "feishu/lark-global",
            "feilian/0",
            "feishu/a-b-c",
        ] {
            assert_eq!(EndpointId::parse(text).unwrap().as_str(), text);
        }
        let id = EndpointId::parse("feishu/lark-global").unwrap();
        assert_eq!(
            (id.source(), id.name(), id.is_default()),
            (Source::Feishu, Some("lark-global"), false)
        );
        let default = EndpointId::default_of(Source::Feilian);
        assert_eq!((default.as_str(), default.name()), ("feilian", None));
        assert!(default.is_default());
    }

    #[test]
    fn names_are_lower_case_letters_digits_and_dashes_up_to_40() {
        let forty = "a".repeat(40);
        assert!(is_valid_name(&forty));
        let forty_one = "a".repeat(41);
        for bad in [
            "",
            "-lead",
            "Lark",
            "lark_global",
            "lark.global",
            "lark/global",
            "飞书",
            forty_one.as_str(),
            "feishu",
            "feilian",
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
        for bad in ["dingtalk", "feishu/", "feishu/Lark", "/x", "feishu/a/b", ""] {
            assert!(EndpointId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_path_names_an_endpoint_by_its_last_one_or_two_segments() {
        for (path, expected) in [
            ("/feishu", Some("feishu")),
            ("/prod/feishu/", Some("feishu")),
            ("feilian", Some("feilian")),
            ("/feishu/lark-global", Some("feishu/lark-global")),
            ("/prod/feilian/sub-1/", Some("feilian/sub-1")),
            // A default endpoint under a prefix that happens to be a source.
            ("/feishu/feilian", Some("feilian")),
            ("/", None),
            ("", None),
            ("/lark-global", None),
            ("/feishu/Lark", None),
            ("/feishu/lark/extra", None),
            ("/feishux", None),
            ("/feishu?x=1", None),
        ] {
            assert_eq!(
                EndpointId::from_path(path).as_ref().map(EndpointId::as_str),
                expected,
                "{path:?}"
            );
        }
    }

    #[test]
    fn the_previous_pair_is_a_candidate_only_before_its_expiry() {
        let until = UNIX_EPOCH + Duration::from_secs(1_000);
        let endpoint = Endpoint::new(Source::Feishu, VerificationToken::new("new"), None)
            .with_previous(VerificationToken::new("old"), None, until);
        let credentials = |now| {
            endpoint
                .candidates(now)
                .iter()
                .map(|(credentials, _)| *credentials)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            credentials(until - Duration::from_secs(1)),
            [Credentials::Current, Credentials::Previous]
        );
        assert_eq!(credentials(until), [Credentials::Current]);
        assert_eq!(endpoint.previous_until(), Some(until));
    }
}
