//! The protocol core: raw body bytes and signature headers in, a verified, typed
//! [`Delivery`] out.
//!
//! Nothing in here does I/O or knows about AWS or Lambda, so every step can be
//! unit-tested, fuzzed and benchmarked on its own. The path a request takes:
//!
//! 1. [`receive`] — the pipeline: unwrap, authenticate, decrypt, parse, check the token;
//! 2. [`signature`] and [`cipher`] — Feishu's request signature and the AES envelope;
//! 3. [`feishu`] / [`feilian`] — each platform's envelopes, in the platform's vocabulary;
//! 4. [`message`] — the normalized message consumers read (the public contract);
//!    with the `schema` feature, `schema` generates its JSON Schema.

pub mod cipher;
mod envelope;
mod error;
pub mod feilian;
pub mod feishu;
pub mod message;
mod receive;
#[cfg(feature = "schema")]
pub mod schema;
mod secret;
pub mod signature;
mod snapshot;
mod timestamp;

pub use error::Rejection;
pub use message::{Action, Entity, Message, Outgoing, Source};
pub use receive::{Batch, Delivery, Endpoint, EventRef, Inbound, receive};
pub use secret::{EncryptKey, VerificationToken};
pub use signature::SignatureHeaders;
pub use timestamp::occurred_at;
