//! The protocol core: a webhook's raw body and signature headers in, a [`Delivery`] or a
//! [`Rejection`] out. It does no I/O and reads no clock, so it can be fuzzed and benchmarked.
//! The platform facts, and their sources, are in `docs/protocol.md`.
//!
//! # Only a verified request can be published
//!
//! Neither a [`Batch`] nor an [`Outgoing`] can be built outside this crate.
//! `scripts/test.sh` checks these examples' error codes with nightly rustdoc.
//!
//! ```compile_fail,E0451
//! use org_change_core::Outgoing;
//! let forged = Outgoing {
//!     id: "feishu:x".into(),
//!     body: "{}".into(),
//!     tenant_group: "feishu:x".into(),
//!     unit_group: "feishu:x".into(),
//!     attributes: Vec::new(),
//! };
//! ```
//!
//! ```compile_fail,E0451
//! use org_change_core::Batch;
//! let forged = Batch { event: todo!(), messages: Vec::new() };
//! ```
//!
//! ```compile_fail,E0423
//! use org_change_core::{EndpointId, Source, Verified};
//! // Only the token check creates a `Verified`.
//! let forged = Verified((), &EndpointId::default_of(Source::Feishu));
//! ```

#![warn(missing_docs)]

pub mod cipher;
mod delivery;
pub mod endpoint;
mod envelope;
mod error;
mod feilian;
mod feishu;
mod outer;
mod outgoing;
mod platform;
mod quarantine;
mod receive;
mod secret;
pub mod signature;
mod snapshot;
#[cfg(test)]
#[path = "tests/testing.rs"]
mod testing;
mod timestamp;
mod verified;
pub mod window;

pub use delivery::{Batch, Challenge, Delivery};
pub use endpoint::{Credentials, Endpoint, EndpointId, InvalidEndpoint};
pub use envelope::EventRef;
pub use error::{Rejection, Setting};
pub use org_change_contract::{Action, Entity, Message, SCHEMA_VERSION, Source};
pub use outgoing::{ATTRIBUTE_DATA_TYPE, GroupBy, Outgoing};
pub use quarantine::{Quarantine, REDACTED};
pub use receive::{Inbound, receive};
pub use secret::{EncryptKey, VerificationToken};
pub use signature::SignatureHeaders;
pub use timestamp::occurred_at;
pub use verified::Verified;
pub use window::ReplayWindow;

/// Every event type the relay relays, per source, with the change it reports.
pub fn event_types(source: Source) -> &'static [(&'static str, Entity, Action)] {
    match source {
        Source::Feishu => &feishu::EVENT_TYPES,
        Source::Feilian => &feilian::EVENT_TYPES,
        _ => &[],
    }
}
