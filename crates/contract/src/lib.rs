//! The message org-change-relay puts on Amazon SQS: one per change to one organization
//! unit (a department, or a Feishu People custom organization), as JSON.
//!
//! This crate is the contract between the relay and its consumers, and nothing else:
//! it depends on serde and serde_json only (and schemars, with the `schema` feature,
//! for the JSON Schema in `schema/message.schema.json`). A consumer deserializes each
//! SQS message body into a [`Message`]:
//!
//! ```
//! use org_change_contract::{Action, Message};
//!
//! let body = r#"{"schema_version":1,"id":"feishu:ev1","source":"feishu",
//!   "event_type":"corehr.department.deleted_v1","event_id":"ev1","entity":"department",
//!   "action":"deleted","entity_id":"6893014062142060039","object_api_name":null,
//!   "changed_fields":[],"occurred_at":null,"tenant_key":null,"app_id":null,
//!   "before":null,"after":null}"#;
//! let message: Message<'static> = serde_json::from_str(body)?;
//! assert_eq!(message.action, Action::Deleted);
//! // Written before the `endpoint` field: the default endpoint of its source.
//! assert_eq!(message.endpoint_id(), "feishu");
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # How the contract evolves
//!
//! Within one [`SCHEMA_VERSION`], the relay only **adds**: new fields, and new values
//! of [`Source`], [`Entity`] and [`Action`]. A consumer of version 1 must ignore fields
//! it does not know (serde does, and nothing here denies unknown fields) and must not
//! fail on a value it does not know: the enums are `#[non_exhaustive]` and read an
//! unknown value as their `Other` variant, which the relay itself never writes.
//! Anything else — a field removed or renamed, a type or a meaning changed — bumps
//! `schema_version`, and the relay says so in its changelog before it ships.
//! The Rust types follow the same rule: adding a field to [`Message`] is not a
//! breaking change for consumers (only the relay constructs messages).
//!
//! The doc comments of the types below are also the descriptions in the JSON Schema:
//! they are written for someone reading the queue.

#![warn(missing_docs)]

#[cfg(feature = "schema")]
pub mod schema;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The version of the message layout below. Bumped only on a breaking change (see
/// "How the contract evolves" above).
pub const SCHEMA_VERSION: u32 = 1;

/// The platform the change comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Source {
    /// Feishu (Lark): the Feishu People (CoreHR) `corehr.department.*` and
    /// `corehr.custom_org.*` events, and the `contact.department.*_v3` events.
    Feishu,
    /// Feilian (飞连): the `department.v1.*` events.
    Feilian,
    /// A source this version of the contract does not know yet; the relay never
    /// writes it (see "How the contract evolves").
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Other,
}

impl Source {
    /// Every source the relay receives from.
    pub const ALL: [Source; 2] = [Source::Feishu, Source::Feilian];

    /// The name as it appears in messages and URL paths: `feishu`, `feilian`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Feishu => "feishu",
            Source::Feilian => "feilian",
            Source::Other => "other",
        }
    }
}

/// What kind of organization unit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Entity {
    /// A department (Feishu People, Feishu contacts or Feilian).
    Department,
    /// A Feishu People custom organization; its type's code is in `object_api_name`.
    CustomOrg,
    /// A kind this version of the contract does not know yet; never written.
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Other,
}

impl Entity {
    /// The name as it appears in messages: `department`, `custom_org`.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Department => "department",
            Entity::CustomOrg => "custom_org",
            Entity::Other => "other",
        }
    }
}

/// What happened to it. Feishu People pushes changes to the currently effective
/// version only: a future-dated change arrives early on its effective date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// The unit was created (`*.created_v1`, `*.created_v2`, `*.created_v3`,
    /// `department.v1.create`).
    Created,
    /// The unit changed (`*.updated_v1`, `*.updated_v2`, `*.updated_v3`,
    /// `department.v1.update`); `changed_fields` says which fields, when known.
    Updated,
    /// The unit was deleted (`*.deleted_v1`, `*.deleted_v2`, `*.deleted_v3`,
    /// `department.v1.delete`).
    Deleted,
    /// An action this version of the contract does not know yet; never written.
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Other,
}

impl Action {
    /// The name as it appears in messages: `created`, `updated`, `deleted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
            Action::Other => "other",
        }
    }
}

/// One change to one organization unit, as consumers read it from the queue.
///
/// The relay builds it borrowing from the decrypted request; consumers deserialize
/// an owned one (`Message<'static>`) with `serde_json::from_str`.
///
/// Every field is always present; the optional ones are `null`. Fields may be added
/// without a new `schema_version`: ignore the ones you do not know.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Message<'a> {
    /// The layout version of this message: `1`. It changes only when the layout
    /// changes in a way that breaks a consumer.
    #[cfg_attr(feature = "schema", schemars(extend("const" = SCHEMA_VERSION)))]
    pub schema_version: u32,
    /// Unique per change and stable across the platform's retries:
    /// `<endpoint>:<event_id>` (`feishu:<event_id>`, `feishu/<name>:<event_id>`), or
    /// `<endpoint>:<event_id>:<index in data.events>` for Feilian, whose requests can
    /// carry several changes. The endpoint is part of it, so one event id sent to two
    /// endpoints is two changes. Deduplicate on it: the platforms deliver at least
    /// once and retry for about 7 hours, and SQS delivers at least once.
    #[cfg_attr(feature = "schema", schemars(pattern(ID_PATTERN)))]
    pub id: Cow<'a, str>,
    /// The platform the change comes from.
    pub source: Source,
    /// The relay endpoint that received it: `feishu` or `feilian` (each platform's
    /// default endpoint, `…/feishu`, `…/feilian`), or `feishu/<name>`,
    /// `feilian/<name>` for a named one (`…/feishu/lark-global`): one per Feishu or
    /// Lark app, or Feilian subscription, so that consumers can tell apps apart where
    /// `tenant_key` is absent. The relay always writes it. A message written by a
    /// relay version from before named endpoints has no such field: it came from
    /// the default endpoint of `source` (in Rust it reads as `None`, and
    /// `Message::endpoint_id` gives that default).
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "String", pattern(ENDPOINT_PATTERN))
    )]
    pub endpoint: Option<Cow<'a, str>>,
    /// The platform's event type as received, e.g. `corehr.department.updated_v2`,
    /// `contact.department.updated_v3`, `department.v1.update`.
    pub event_type: Cow<'a, str>,
    /// The platform's event id as received (Feishu: `header.event_id`, schema 1.0
    /// `uuid`; Feilian: `header.event_id`, shared by the changes of one request).
    pub event_id: Cow<'a, str>,
    /// What kind of organization unit changed.
    pub entity: Entity,
    /// What happened to it.
    pub action: Action,
    /// The unit's id, in the platform's own id space: Feishu People `department_id` or
    /// `org_id`, Feishu contacts' `open_department_id`, or Feilian's `open_id`. Like
    /// every string of the message but `before` and `after`, it is Unicode text: a
    /// lone UTF-16 surrogate the platform sent (legal JSON, not Unicode) is written as
    /// the six characters of its escape in lower case (`od-\ud83d`).
    pub entity_id: Cow<'a, str>,
    /// Custom organizations: the code of the custom organization's type
    /// (`object_api_name`, e.g. `custom_org_01`), needed to query it. `null` for
    /// departments, or when the platform sent none.
    pub object_api_name: Option<Cow<'a, str>>,
    /// The fields that changed: the platform's list as received (Feishu People
    /// `field_changes`, Feilian `update_fields` or `updated_fields`, or both of them
    /// together, each field once, when an entry has both). When it sends no
    /// list: for `updated` with both snapshots, the top-level keys of `before`
    /// (`old_object`) whose value differs from the same key in `after` (a key absent
    /// from `after` differs; a key only in `after` is not listed, as Feishu contacts'
    /// `old_object` carries only the previous values of the fields that changed),
    /// sorted, values compared as JSON (key order, whitespace and escapes do not
    /// matter; `1` and `1.0` differ); for `created` and `deleted`, empty (the action
    /// is the change). Empty when nothing says which fields changed.
    pub changed_fields: Vec<Cow<'a, str>>,
    /// When the platform created the event (`header.create_time`; Feishu schema 1.0:
    /// `ts`), as RFC 3339 UTC with milliseconds, e.g. `2020-12-23T12:19:49.000Z`;
    /// `null` when absent or unreadable. Not the change's effective date.
    #[cfg_attr(feature = "schema", schemars(pattern(OCCURRED_AT_PATTERN)))]
    pub occurred_at: Option<String>,
    /// Feishu's tenant key (`header.tenant_key`) as received; `null` for Feilian and
    /// when absent.
    pub tenant_key: Option<Cow<'a, str>>,
    /// The receiving app as received (`header.app_id`: Feishu's app id, Feilian's
    /// event subscription config id); `null` when absent.
    pub app_id: Option<Cow<'a, str>>,
    /// The unit before the change (`old_object`), exactly as the platform sent it
    /// (byte for byte: it may hold a lone UTF-16 surrogate escape such as
    /// `"\ud83d"`, which `Message` reads but `serde_json::Value` refuses), in
    /// its own field names: Feilian updates and deletes; Feishu
    /// `contact.department.updated_v3` (only the previous values of the fields that
    /// changed) and `contact.department.deleted_v3` (`open_department_id` and
    /// `status`). `null` when the platform sends no snapshot: every creation, and
    /// every Feishu People (`corehr.*`) event.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Snapshot>"))]
    pub before: Option<Cow<'a, RawValue>>,
    /// The unit after the change (`object`), exactly as the platform sent it, in its
    /// own field names: Feilian creates and updates (a Feilian delete's partial
    /// `object`: `open_id`, `parent_id`, `delete_time`), Feishu
    /// `contact.department.created_v3`, `updated_v3` and `deleted_v3` (the department
    /// as it was removed). `null` when the platform sends no snapshot, as for every
    /// Feishu People (`corehr.*`) event: query its API for the state.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Snapshot>"))]
    pub after: Option<Cow<'a, RawValue>>,
}

impl Message<'_> {
    /// [`endpoint`](Self::endpoint), or, for a message written before that field
    /// existed, the default endpoint of its `source` (`feishu`, `feilian`), the only
    /// endpoints there were.
    pub fn endpoint_id(&self) -> &str {
        self.endpoint.as_deref().unwrap_or(self.source.as_str())
    }
}

/// [`Message::endpoint`]: a platform, then optionally `/` and an endpoint name.
#[cfg(feature = "schema")]
const ENDPOINT_PATTERN: &str = "^(feishu|feilian)(/[a-z0-9][a-z0-9-]{0,39})?$";

/// [`Message::id`]: `<endpoint>:<event_id>`, and `:<index>` for Feilian.
#[cfg(feature = "schema")]
const ID_PATTERN: &str = "^(feishu(/[a-z0-9][a-z0-9-]{0,39})?:.*|feilian(/[a-z0-9][a-z0-9-]{0,39})?:.*:(0|[1-9][0-9]*))$";

/// [`Message::occurred_at`], as `humantime::format_rfc3339_millis` writes it.
#[cfg(feature = "schema")]
const OCCURRED_AT_PATTERN: &str =
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$";

/// A snapshot as the schema describes it: any JSON object (the relay refuses a
/// snapshot that is not one).
#[cfg(feature = "schema")]
type Snapshot = serde_json::Map<String, serde_json::Value>;
