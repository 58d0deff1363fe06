//! The enricher, `org-change-enricher`: a second function, fed by the relay's queue. It adds
//! the platform's current object to CoreHR department and custom-org messages, and writes
//! every message to the enriched queue.
//!
//! A batch goes through [`handler`], the logic of [`org_change_enrich`] over [`transport`],
//! then [`forward`] in the order [`order`] sets. All of it fits the invocation's
//! [`deadline`]. [`settings`] and [`startup`] run once, at start.

pub mod deadline;
pub mod forward;
pub mod handler;
pub mod order;
pub mod settings;
pub mod startup;
pub mod transport;
