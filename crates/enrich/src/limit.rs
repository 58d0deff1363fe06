//! A per-app rate limit that counts the last calls' times in each window. A token bucket's
//! burst could let through twice the cap in one window (`docs/current-object.md`, "Rate limiting").

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
struct Window {
    span: Duration,
    cap: usize,
    /// The latest calls, oldest first, at most `cap`.
    calls: VecDeque<SystemTime>,
}

/// One app's limit on one API: every window must allow a call.
#[derive(Debug, Clone)]
pub(crate) struct RateLimit {
    windows: Vec<Window>,
}

impl RateLimit {
    /// The documented `caps` scaled by `share`, since several Lambda instances call at once.
    /// A window allows at least one call.
    pub(crate) fn new(caps: &[(Duration, u32)], share: f64) -> RateLimit {
        let windows = caps
            .iter()
            .map(|&(span, cap)| {
                // Rounding up could let the instances exceed the cap.
                let scaled = (f64::from(cap) * share).floor() as usize;
                Window {
                    span,
                    cap: scaled.max(1),
                    calls: VecDeque::new(),
                }
            })
            .collect();
        RateLimit { windows }
    }

    /// The wait before a call at `now` fits every window.
    pub(crate) fn wait(&self, now: SystemTime) -> Duration {
        self.windows
            .iter()
            .map(|window| window.wait(now))
            .max()
            .unwrap_or_default()
    }

    /// Counts a call made at `now`.
    pub(crate) fn record(&mut self, now: SystemTime) {
        for window in &mut self.windows {
            if window.calls.len() == window.cap {
                window.calls.pop_front();
            }
            window.calls.push_back(now);
        }
    }
}

impl Window {
    /// Until the oldest of the last `cap` calls leaves the window. A clock that went back
    /// waits at most one span, never forever.
    fn wait(&self, now: SystemTime) -> Duration {
        if self.calls.len() < self.cap {
            return Duration::ZERO;
        }
        let Some(oldest) = self.calls.front() else {
            return Duration::ZERO;
        };
        let free_at = *oldest + self.span;
        free_at
            .duration_since(now)
            .unwrap_or_default()
            .min(self.span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_window_allows_its_cap_then_waits_for_the_oldest_call_to_leave() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut limit = RateLimit::new(&[(SECOND, 3)], 1.0);
        for ms in [0, 100, 200] {
            let at = start + Duration::from_millis(ms);
            assert_eq!(limit.wait(at), Duration::ZERO);
            limit.record(at);
        }
        let at = start + Duration::from_millis(300);
        assert_eq!(limit.wait(at), Duration::from_millis(700));
        assert_eq!(limit.wait(start + SECOND), Duration::ZERO);
    }

    #[test]
    fn the_longest_wait_of_all_windows_wins() {
        let start = SystemTime::UNIX_EPOCH;
        let minute = Duration::from_secs(60);
        let mut limit = RateLimit::new(&[(SECOND, 50), (minute, 2)], 1.0);
        limit.record(start);
        limit.record(start);
        assert_eq!(limit.wait(start), minute);
    }

    #[test]
    fn a_share_scales_each_cap_down_but_never_to_zero() {
        let start = SystemTime::UNIX_EPOCH;
        let mut limit = RateLimit::new(&[(SECOND, 50)], 0.25);
        for _ in 0..12 {
            assert_eq!(limit.wait(start), Duration::ZERO);
            limit.record(start);
        }
        assert_eq!(limit.wait(start), SECOND, "50 × 0.25 = 12 calls a second");
        let mut tiny = RateLimit::new(&[(SECOND, 5)], 0.01);
        tiny.record(start);
        assert_eq!(tiny.wait(start), SECOND, "one call a second at least");
    }

    #[test]
    fn a_clock_gone_back_waits_one_span_at_most() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut limit = RateLimit::new(&[(SECOND, 1)], 1.0);
        limit.record(start);
        assert_eq!(limit.wait(start - Duration::from_secs(30)), SECOND);
    }
}
