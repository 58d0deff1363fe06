//! org-change-relay: Feishu People (CoreHR) and Feilian org-change webhooks in,
//! one normalized message per change on Amazon SQS out.
//!
//! The path of a webhook, module by module:
//! [`http`] (the Lambda adapter: route, size limit, reply) →
//! [`protocol`] (verify, decrypt, parse, normalize; no I/O) →
//! [`queue`] (publish every message, or answer 503).
//! [`config`] reads the environment once, at start, and [`secrets`] the tokens and
//! keys from Secrets Manager.

pub mod aws;
pub mod config;
pub mod http;
pub mod protocol;
pub mod queue;
pub mod secrets;
