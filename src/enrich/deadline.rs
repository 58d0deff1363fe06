//! How long an invocation may spend reading the platform's API.
//!
//! A rate limit may ask to wait a minute, longer than the function's timeout. Past its
//! deadline Lambda retries the whole batch. Stopping the reads first fails only the records
//! that needed one.

use std::time::{Duration, SystemTime};

use lambda_http::lambda_runtime::Context;

/// Kept for the sends after the reads. Each SQS call ends within 2 s (`aws::with_deadlines`),
/// and a batch's calls mostly go at once.
pub const SEND_RESERVE: Duration = Duration::from_secs(5);

/// The time left for reading at `now`. `None` for a hand-built context without a deadline;
/// Lambda always sets one.
pub fn read_budget(context: &Context, now: SystemTime) -> Option<Duration> {
    if context.deadline == 0 {
        return None;
    }
    let left = context.deadline().duration_since(now).unwrap_or_default();
    Some(left.saturating_sub(SEND_RESERVE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(deadline_ms: u64) -> Context {
        let mut context = Context::default();
        context.deadline = deadline_ms;
        context
    }

    #[test]
    fn the_budget_is_the_time_left_less_the_sends_reserve() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let in_25_s = context(1_025_000);
        assert_eq!(read_budget(&in_25_s, now), Some(Duration::from_secs(20)));
        let in_3_s = context(1_003_000);
        assert_eq!(read_budget(&in_3_s, now), Some(Duration::ZERO));
        let past = context(999_000);
        assert_eq!(read_budget(&past, now), Some(Duration::ZERO));
        assert_eq!(read_budget(&Context::default(), now), None);
    }
}
