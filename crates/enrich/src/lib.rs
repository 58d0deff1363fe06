//! Adds to each relayed message the object the platform's query API returns now
//! (`current`), for Feishu People departments and custom orgs. No I/O: the adapter supplies a
//! [`Transport`] and sends each [`Verdict`] on. Platform facts: `docs/current-object.md`.
//!
//! ```text
//! records ──► target (what each needs) ──► batch (one call per app, API, ≤100 ids)
//!         ──► call (rate limit, token, one renewal) ──► answer ──► outcome ──► merge
//!         ──► group (a FIFO group fails from its first failure on) ──► verdicts
//! ```

#![warn(missing_docs)]

mod answer;
mod api;
mod app;
mod batch;
mod call;
mod enricher;
mod group;
mod lag;
mod limit;
mod merge;
mod outcome;
mod record;
mod settings;
mod target;
mod token;
mod transport;
mod verdict;

#[cfg(test)]
#[path = "tests/testing.rs"]
mod testing;

pub use app::App;
pub use enricher::Enricher;
pub use group::fail_rest_of_group;
pub use outcome::too_large;
pub use record::Record;
pub use settings::{DEFAULT_GRACE, SettingError, share};
pub use transport::Transport;
pub use verdict::Verdict;
