//! The platform's lag: an id missing from an answer may just be late.

use std::time::{Duration, SystemTime};

/// An object may be invisible for this long after its creation (`docs/current-object.md`,
/// "Departments" and "Custom orgs", **Lag**).
pub(crate) const LAG: Duration = Duration::from_secs(2);

/// The wait before reading an object: until its event is [`LAG`] old. A clock ahead of ours
/// waits [`LAG`] at most.
pub(crate) fn wait(occurred_at: Option<SystemTime>, now: SystemTime) -> Duration {
    occurred_at
        .and_then(|at| (at + LAG).duration_since(now).ok())
        .unwrap_or_default()
        .min(LAG)
}

/// True if the event occurred within `grace` of `now`. Without a time nothing says it is
/// recent, so it is not found.
pub(crate) fn may_still_appear(
    occurred_at: Option<SystemTime>,
    now: SystemTime,
    grace: Duration,
) -> bool {
    occurred_at.is_some_and(|at| now.duration_since(at).unwrap_or_default() < grace)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(60);

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_000 + ms)
    }

    #[test]
    fn a_read_waits_until_the_event_is_two_seconds_old() {
        assert_eq!(wait(Some(at(0)), at(500)), Duration::from_millis(1_500));
        assert_eq!(wait(Some(at(0)), at(2_000)), Duration::ZERO);
        assert_eq!(wait(Some(at(0)), at(9_000)), Duration::ZERO);
        assert_eq!(wait(None, at(0)), Duration::ZERO);
        assert_eq!(
            wait(Some(at(60_000)), at(0)),
            LAG,
            "a clock ahead waits 2 s at most"
        );
    }

    #[test]
    fn a_missing_id_may_still_appear_only_within_the_grace() {
        assert!(may_still_appear(Some(at(0)), at(59_999), GRACE));
        assert!(!may_still_appear(Some(at(0)), at(60_000), GRACE));
        assert!(!may_still_appear(None, at(0), GRACE));
        assert!(
            may_still_appear(Some(at(5_000)), at(0), GRACE),
            "a clock ahead is recent"
        );
    }
}
