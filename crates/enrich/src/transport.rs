//! The enricher's only way out: HTTP calls, sleeping and the clock, all supplied by the adapter.

use std::future::Future;
use std::time::{Duration, SystemTime};

/// The transport: the adapter implements it with a real HTTP client and its runtime's clock.
/// Tests implement it with a fake API and a clock that advances when they sleep.
pub trait Transport {
    /// POST `url` with a JSON body (`Content-Type: application/json; charset=utf-8`),
    /// and `Authorization: Bearer <bearer>` when given.
    /// `Ok((HTTP status, response body))` for any HTTP answer; `Err(text)` when none came
    /// (connect error, timeout): always transient. The text never holds a secret.
    fn post(
        &self,
        url: &str,
        bearer: Option<&str>,
        json: &[u8],
    ) -> impl Future<Output = Result<(u16, Vec<u8>), String>> + Send;

    /// Waits `duration`: for the rate limit, and for the platform's lag after a creation.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;

    /// The current time, read for the token's expiry, the rate limit, the lag and `current_at`.
    fn now(&self) -> SystemTime;
}
