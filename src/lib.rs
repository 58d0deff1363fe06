//! org-change-relay: Feishu People (CoreHR) and Feilian org-change webhooks in, one
//! normalized message per change on Amazon SQS out.
//!
//! A webhook goes through [`http`] (route, size limit, reply), then [`org_change_core`]
//! (verify, decrypt, normalize, no I/O), then [`queue`]. Consumers read
//! [`org_change_contract::Message`]. [`config`], [`secrets`] and [`startup`] run once, at
//! start. [`enrich`] is the optional second function, `org-change-enricher`.

pub mod aws;
pub mod config;
pub mod enrich;
pub mod http;
pub mod queue;
pub mod secrets;
pub mod startup;
