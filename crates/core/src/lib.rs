//! The org-change-relay protocol core: the raw body and signature headers of a
//! Feishu (Lark) or Feilian webhook in, a verified [`Delivery`] or a [`Rejection`] out.
//!
//! Nothing in here does I/O or knows about AWS, Lambda, HTTP or an async runtime, so
//! every step can be unit-tested, fuzzed (`fuzz/`) and benchmarked (`benches/`) on its
//! own. The path a request takes:
//!
//! 1. [`receive`] — the pipeline: unwrap, authenticate, decrypt, parse, check the token
//!    and the [`window`] (the current time is passed in: nothing here reads a clock),
//!    for one [`endpoint`] (`feishu`, `feishu/<name>`) with its current token and key
//!    and, during a rotation, its previous ones ([`Credentials`] says which matched);
//! 2. [`signature`] and [`cipher`] — Feishu's request signature and the AES envelope
//!    both platforms share;
//! 3. `envelope`, then `feishu` / `feilian` — each platform's envelopes, in the
//!    platform's vocabulary (`event_id`, `field_changes`, `old_object`);
//! 4. `verified` — the only place that vouches for an envelope;
//! 5. [`Outgoing`] — each message serialized for a queue, in our vocabulary
//!    ([`org_change_contract::Message`]: `entity`, `action`, `changed_fields`).
//!
//! The platform facts each module relies on are in `docs/protocol.md` of the
//! repository, with the official pages they come from.
//!
//! # Only a verified request can be published
//!
//! A sink (a queue) sends [`Outgoing`] messages, and the only way to get one is a
//! [`Batch`] from [`receive`], after every check has passed. Neither can be built
//! outside this crate. Each example below names every field, so that privacy is the
//! only reason it does not compile; the error code it must fail with is checked by
//! rustdoc on a nightly toolchain (`scripts/test.sh` runs `cargo +nightly test --doc`
//! on this crate: stable rustdoc only checks that the example fails to compile).
//!
//! ```compile_fail,E0451
//! use org_change_core::Outgoing;
//! // error[E0451]: the fields of `Outgoing` are private.
//! let forged = Outgoing {
//!     id: "feishu:x".into(),
//!     body: "{}".into(),
//!     tenant_group: "feishu:x".into(),
//!     unit_group: "feishu:x".into(),
//!     kind: todo!(),
//! };
//! ```
//!
//! ```compile_fail,E0451
//! use org_change_core::Batch;
//! // error[E0451]: `Batch` has no public constructor and private fields.
//! let forged = Batch { event: todo!(), messages: Vec::new() };
//! ```
//!
//! ```compile_fail,E0423
//! use org_change_core::{EndpointId, Source, Verified};
//! // error[E0423]: the tuple fields are private; only the token check creates a `Verified`.
//! let forged = Verified((), &EndpointId::default_of(Source::Feishu));
//! ```

#![warn(missing_docs)]

pub mod cipher;
pub mod endpoint;
mod envelope;
mod error;
mod feilian;
mod feishu;
mod outgoing;
mod platform;
mod quarantine;
mod receive;
mod secret;
pub mod signature;
mod snapshot;
#[cfg(test)]
mod testing;
mod timestamp;
mod verified;
pub mod window;

pub use endpoint::{Credentials, Endpoint, EndpointId, InvalidEndpoint};
pub use envelope::EventRef;
pub use error::{Rejection, Setting};
pub use org_change_contract::{Action, Entity, Message, SCHEMA_VERSION, Source};
pub use outgoing::{ATTRIBUTE_DATA_TYPE, GroupBy, Outgoing};
pub use quarantine::{Quarantine, REDACTED};
pub use receive::{Batch, Challenge, Delivery, Inbound, receive};
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
