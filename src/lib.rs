//! org-change-relay: Feishu People (CoreHR) and Feilian org-change webhooks in,
//! one normalized message per change on Amazon SQS out.
//!
//! The path of a webhook, module by module:
//! [`http`] (the Lambda adapter: route, size limit, reply) →
//! [`org_change_core`] (verify, decrypt, parse, normalize; no I/O, its own crate) →
//! [`queue`] (publish every message, or answer 503).
//! The message consumers read is [`org_change_contract::Message`].
//! [`config`] reads the environment once, at start, and [`secrets`] the tokens and
//! keys from Secrets Manager; [`startup`] checks and logs what `main` starts with.

pub mod aws;
pub mod config;
pub mod http;
pub mod queue;
pub mod secrets;
pub mod startup;
