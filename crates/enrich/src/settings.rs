//! The enricher's settings: its share of the rate limits, and how long a missing object
//! may still be on its way.

use std::time::Duration;

/// How long after its event an object missing from an answer is retried rather than
/// forwarded as `not_found`. Well past the documented 2 s lag: with a visibility timeout
/// of 30 s, SQS redelivers the record at least once within it.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(60);

/// A setting the enricher refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingError {
    /// The share must leave some calls and cannot exceed the app's limit.
    #[error("the rate-limit share must be above 0 and at most 1, got {0}")]
    Share(f64),
}

/// The enricher's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    /// The part of each documented rate limit this instance may use, in (0, 1].
    pub(crate) share: f64,
    pub(crate) grace: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            share: 1.0,
            grace: DEFAULT_GRACE,
        }
    }
}

/// `share` if it is one: above 0 and at most 1.
pub(crate) fn share(share: f64) -> Result<f64, SettingError> {
    if share > 0.0 && share <= 1.0 {
        Ok(share)
    } else {
        Err(SettingError::Share(share))
    }
}
