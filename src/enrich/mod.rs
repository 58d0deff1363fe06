//! The enricher, `org-change-enricher`: a second function, triggered by the relay's queue,
//! that adds the platform's current object to each CoreHR department and custom-org message
//! and writes every message to the enriched queue.
//!
//! A batch goes through [`handler`] (records in, partial batch failures out), the logic of
//! [`org_change_enrich`] (no I/O) over [`transport`], then [`forward`] in the order
//! [`order`] sets, all within the invocation's [`deadline`]. [`settings`] and [`startup`]
//! run once, at start.

pub mod deadline;
pub mod forward;
pub mod handler;
pub mod order;
pub mod settings;
pub mod startup;
pub mod transport;
