//! The replay window: how old, or how far ahead, a request's own time may be
//! (`docs/protocol.md`, "Replay window"). It applies only to a time under an Encrypt Key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far ahead of the relay's clock a request's time may be, for clock skew.
pub const MAX_FUTURE: Duration = Duration::from_secs(300);

/// The default of [`ReplayWindow::max_age`]: 24 hours.
/// The platforms retry for about 7.1 hours, so no genuine retry can fail it.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(86_400);

/// The longest `X-Lark-Request-Timestamp` read: Unix seconds until the year 33658.
pub const MAX_TIMESTAMP_DIGITS: usize = 12;

/// The ages a request's time may have: up to [`max_age`](Self::max_age) past, [`MAX_FUTURE`] ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayWindow {
    max_age: Duration,
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self {
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

/// Why a request's time is outside the window. Its text completes "the request ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Staleness {
    /// `X-Lark-Request-Timestamp` is not Unix seconds.
    #[error(
        "has an X-Lark-Request-Timestamp that is not Unix seconds: 1 to 12 ASCII digits, no sign, spaces or fraction (milliseconds, 13 digits, are not read)"
    )]
    Unreadable,
    /// Older than the window allows.
    #[error(
        "is {age_seconds} s old; at most {max_age_seconds} s (MAX_REQUEST_AGE_SECONDS) is accepted"
    )]
    TooOld {
        /// How old, in whole seconds.
        age_seconds: u64,
        /// The window's [`max_age`](ReplayWindow::max_age), in seconds.
        max_age_seconds: u64,
    },
    /// Further ahead of the relay's clock than [`MAX_FUTURE`].
    #[error("is dated {ahead_seconds} s in the future; at most 300 s is accepted")]
    InTheFuture {
        /// How far ahead, in whole seconds.
        ahead_seconds: u64,
    },
    /// An encrypted Feilian event without `header.create_time`.
    #[error("has no header.create_time, so its age cannot be checked")]
    MissingTime,
    /// An encrypted Feilian event whose `header.create_time` is not a time.
    #[error("has a header.create_time that is not Unix milliseconds, so its age cannot be checked")]
    UnreadableTime,
}

impl ReplayWindow {
    /// A window accepting requests up to `max_age` old.
    pub fn new(max_age: Duration) -> Self {
        Self { max_age }
    }

    /// How old a request may be.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Checks Feishu's `X-Lark-Request-Timestamp`.
    ///
    /// # Errors
    ///
    /// [`Staleness`] when it is unreadable or outside the window.
    pub fn check_header_timestamp(&self, header: &str, now: SystemTime) -> Result<(), Staleness> {
        let seconds = header_seconds(header).ok_or(Staleness::Unreadable)?;
        self.check(Duration::from_secs(seconds), now)
    }

    /// Checks a time given as Unix milliseconds (Feilian's `header.create_time`).
    ///
    /// # Errors
    ///
    /// [`Staleness`] when it lies outside the window.
    pub fn check_unix_millis(&self, millis: u64, now: SystemTime) -> Result<(), Staleness> {
        self.check(Duration::from_millis(millis), now)
    }

    /// Checks a time at full precision, reporting whole seconds.
    fn check(&self, since_epoch: Duration, now: SystemTime) -> Result<(), Staleness> {
        // A clock before 1970 reads as the epoch.
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        if let Some(age) = now.checked_sub(since_epoch) {
            if age > self.max_age {
                return Err(Staleness::TooOld {
                    age_seconds: age.as_secs(),
                    max_age_seconds: self.max_age.as_secs(),
                });
            }
        } else if let Some(ahead) = since_epoch.checked_sub(now)
            && ahead > MAX_FUTURE
        {
            return Err(Staleness::InTheFuture {
                ahead_seconds: ahead.as_secs(),
            });
        }
        Ok(())
    }
}

/// `X-Lark-Request-Timestamp` as Unix seconds: 1 to [`MAX_TIMESTAMP_DIGITS`] ASCII digits only.
fn header_seconds(text: &str) -> Option<u64> {
    let digits = (1..=MAX_TIMESTAMP_DIGITS).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_500_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn header(window: ReplayWindow, seconds: i64) -> Result<(), Staleness> {
        let at = NOW.checked_add_signed(seconds).unwrap();
        window.check_header_timestamp(&at.to_string(), now())
    }

    #[test]
    fn the_default_window_is_24_hours_back_and_300_seconds_ahead() {
        let window = ReplayWindow::default();
        assert_eq!(window.max_age(), Duration::from_secs(86_400));
        for accepted in [0, -1, -86_399, -86_400, 1, 299, 300] {
            assert_eq!(header(window, accepted), Ok(()), "now{accepted:+}");
        }
        assert_eq!(
            header(window, -86_401),
            Err(Staleness::TooOld {
                age_seconds: 86_401,
                max_age_seconds: 86_400
            })
        );
        assert_eq!(
            header(window, 301),
            Err(Staleness::InTheFuture { ahead_seconds: 301 })
        );
    }

    #[test]
    fn a_captured_request_is_refused_30_days_later_and_at_zero() {
        let window = ReplayWindow::default();
        assert_eq!(
            header(window, -30 * 86_400),
            Err(Staleness::TooOld {
                age_seconds: 30 * 86_400,
                max_age_seconds: 86_400
            })
        );
        assert_eq!(
            window.check_header_timestamp("0", now()),
            Err(Staleness::TooOld {
                age_seconds: NOW,
                max_age_seconds: 86_400
            })
        );
    }

    #[test]
    fn the_header_must_be_ascii_digits_of_bounded_length() {
        let window = ReplayWindow::default();
        let forty = "1".repeat(40);
        let thirteen = format!("0{NOW:012}");
        for bad in [
            "",
            "+1764500000",
            "-1764500000",
            " 1764500000",
            "1764500000 ",
            "1764500000.5",
            "1764500000\n",
            "1_764_500_000",
            "１７６４５０００００", // full-width digits
            "0x6931a5a0",
            forty.as_str(),
            thirteen.as_str(),
        ] {
            assert_eq!(
                window.check_header_timestamp(bad, now()),
                Err(Staleness::Unreadable),
                "{bad:?}"
            );
        }
        // Twelve digits are read (and are far in the future).
        assert!(matches!(
            window.check_header_timestamp(&format!("{NOW:012}"), now()),
            Ok(())
        ));
        assert!(matches!(
            window.check_header_timestamp("999999999999", now()),
            Err(Staleness::InTheFuture { .. })
        ));
    }

    #[test]
    fn digits_moved_between_timestamp_and_nonce_leave_the_window() {
        // The signature hashes timestamp + nonce: "1764500000" + "7" and
        // "17645000007" + "" sign alike, and so do "176450000" + "07".
        let window = ReplayWindow::default();
        let now = now();
        assert_eq!(window.check_header_timestamp("1764500000", now), Ok(()));
        assert!(matches!(
            window.check_header_timestamp("17645000007", now),
            Err(Staleness::InTheFuture { .. })
        ));
        assert!(matches!(
            window.check_header_timestamp("176450000", now),
            Err(Staleness::TooOld { .. })
        ));
    }

    #[test]
    fn milliseconds_are_compared_at_full_precision() {
        let window = ReplayWindow::default();
        let now_ms = NOW * 1000;
        for accepted in [
            now_ms,
            now_ms - 86_399_000,
            now_ms - 86_400_000,
            now_ms + 299_000,
            now_ms + 300_000,
        ] {
            assert_eq!(
                window.check_unix_millis(accepted, now()),
                Ok(()),
                "{accepted}"
            );
        }
        assert_eq!(
            window.check_unix_millis(now_ms - 86_400_001, now()),
            Err(Staleness::TooOld {
                age_seconds: 86_400,
                max_age_seconds: 86_400
            })
        );
        assert!(matches!(
            window.check_unix_millis(now_ms + 300_001, now()),
            Err(Staleness::InTheFuture { .. })
        ));
    }

    #[test]
    fn the_maximum_age_is_configurable() {
        let window = ReplayWindow::new(Duration::from_secs(60));
        assert_eq!(header(window, -60), Ok(()));
        assert!(matches!(header(window, -61), Err(Staleness::TooOld { .. })));
        // The future bound does not change with it.
        assert_eq!(header(window, 300), Ok(()));
    }
}
