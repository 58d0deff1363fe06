//! The enricher's share of the rate limits, and how long a missing object may be late.

use std::time::Duration;

/// How long after its event a missing object is retried rather than forwarded as
/// `not_found`. Well past the 2 s lag: with a 30 s visibility timeout, SQS redelivers at
/// least once within it.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(60);

/// A setting the enricher refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingError {
    /// The share must leave some calls and cannot exceed the app's limit.
    #[error("the rate-limit share must be above 0 and at most 1, got {0}")]
    Share(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    /// Of each documented rate limit, in (0, 1].
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

/// `share` if it is in (0, 1].
pub fn share(share: f64) -> Result<f64, SettingError> {
    if share > 0.0 && share <= 1.0 {
        Ok(share)
    } else {
        Err(SettingError::Share(share))
    }
}
