//! The enricher's only way out, supplied by the adapter.

use std::future::Future;
use std::time::{Duration, SystemTime};

/// HTTP, sleep and the clock. Tests supply a fake API and a clock that advances when they
/// sleep.
pub trait Transport {
    /// POST `url` with a JSON body (`Content-Type: application/json; charset=utf-8`), and
    /// `Authorization: Bearer <bearer>` when given. `Ok((status, body))` for any HTTP answer.
    /// `Err` when none came, always transient. Its text never holds a secret.
    fn post(
        &self,
        url: &str,
        bearer: Option<&str>,
        json: &[u8],
    ) -> impl Future<Output = Result<(u16, Vec<u8>), String>> + Send;

    /// Waits for the rate limit and for the platform's lag.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;

    /// For the token's expiry, the rate limit, the lag and `current_at`.
    fn now(&self) -> SystemTime;
}
