//! The JSON message org-change-relay puts on Amazon SQS, one per change to one
//! organization unit. Consumers deserialize each SQS message body into a [`Message`]:
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
//! // Without an `endpoint` field: the default endpoint of its source.
//! assert_eq!(message.endpoint_id(), "feishu");
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # How the contract evolves
//!
//! Within one [`SCHEMA_VERSION`], the relay only adds fields and enum values.
//! A consumer must ignore unknown fields, and the enums read an unknown value as `Other`.
//! Any other change bumps `schema_version`, announced in the changelog first.
//!
//! The doc comments below are the JSON Schema's descriptions, written for a reader of the queue.

#![warn(missing_docs)]

#[cfg(feature = "schema")]
pub mod schema;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The version of the message layout, bumped only on a breaking change.
pub const SCHEMA_VERSION: u32 = 1;

/// The platform the change comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Source {
    /// Feishu (Lark): `corehr.department.*`, `corehr.custom_org.*` and `contact.department.*_v3`.
    Feishu,
    /// Feilian (飞连): `department.v1.*`.
    Feilian,
    /// Unknown to this version; never written.
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
    /// A department.
    Department,
    /// A Feishu People custom organization; its type's code is in `object_api_name`.
    CustomOrg,
    /// Unknown to this version; never written.
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

/// What happened to it. Feishu People sends a future-dated change on its effective date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// The unit was created (`*.created_v*`, `department.v1.create`).
    Created,
    /// The unit changed (`*.updated_v*`, `department.v1.update`).
    Updated,
    /// The unit was deleted (`*.deleted_v*`, `department.v1.delete`).
    Deleted,
    /// Unknown to this version; never written.
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
/// Every field is always present, the optional ones as `null`, except the three the
/// enricher adds (`current`, `current_at`, `current_missing`): all three or none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Message<'a> {
    /// The layout version: `1`, changed only by a change that breaks a consumer.
    #[cfg_attr(feature = "schema", schemars(extend("const" = SCHEMA_VERSION)))]
    pub schema_version: u32,
    /// Unique per change and stable across retries: `<endpoint>:<event_id>`.
    /// Feilian adds `:<index in data.events>`, as one request can carry several changes.
    /// Deduplicate on it: the platforms retry for about 7 hours, and SQS delivers at least once.
    #[cfg_attr(feature = "schema", schemars(pattern(ID_PATTERN)))]
    pub id: Cow<'a, str>,
    /// The platform the change comes from.
    pub source: Source,
    /// The relay endpoint that received it: `feishu`, `feilian`, or a named one like
    /// `feishu/lark-global`. It tells apps apart where `tenant_key` is absent.
    /// A message without it came from the default endpoint of `source`.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "String", pattern(ENDPOINT_PATTERN))
    )]
    pub endpoint: Option<Cow<'a, str>>,
    /// The platform's event type as received, e.g. `corehr.department.updated_v2`,
    /// `contact.department.updated_v3`, `department.v1.update`.
    pub event_type: Cow<'a, str>,
    /// The platform's event id as received: `header.event_id`, or `uuid` in Feishu schema 1.0.
    pub event_id: Cow<'a, str>,
    /// What kind of organization unit changed.
    pub entity: Entity,
    /// What happened to it.
    pub action: Action,
    /// The unit's id in the platform's id space: `department_id`, `org_id`,
    /// `open_department_id` or Feilian's `open_id`.
    /// A lone UTF-16 surrogate is written as its escape's six characters, in lower case.
    pub entity_id: Cow<'a, str>,
    /// A custom organization's type code (`object_api_name`), needed to query it.
    /// `null` for departments.
    pub object_api_name: Option<Cow<'a, str>>,
    /// The fields that changed, as the platform listed them (`field_changes`, `update_fields`).
    /// Without a list, an update names the keys of `before` whose JSON value differs in
    /// `after`, sorted.
    /// Empty when nothing says which fields changed.
    pub changed_fields: Vec<Cow<'a, str>>,
    /// When the platform created the event, in RFC 3339 UTC with milliseconds.
    /// `null` when absent or unreadable. It is not the change's effective date.
    #[cfg_attr(feature = "schema", schemars(pattern(OCCURRED_AT_PATTERN)))]
    pub occurred_at: Option<String>,
    /// Feishu's `header.tenant_key`; `null` for Feilian.
    pub tenant_key: Option<Cow<'a, str>>,
    /// The receiving app or subscription, `header.app_id`.
    pub app_id: Option<Cow<'a, str>>,
    /// The unit before the change (`old_object`), byte for byte as the platform sent it.
    /// It may hold a lone surrogate escape, which `Message` reads but `serde_json::Value` refuses.
    /// Feishu contacts' updates carry only the changed fields' previous values.
    /// `null` for creations and for Feishu People (`corehr.*`) events.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Snapshot>"))]
    pub before: Option<Cow<'a, RawValue>>,
    /// The unit after the change (`object`), byte for byte as the platform sent it.
    /// `null` for Feishu People (`corehr.*`) events: query its API for the state.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Snapshot>"))]
    pub after: Option<Cow<'a, RawValue>>,
    /// Added by the optional enricher, on its own queue only; absent from the relay's messages.
    /// For Feishu People (`corehr.*`) department and custom-org creations and updates: the
    /// object as the platform's query API returned it when read, byte for byte (U+FFFE and
    /// U+FFFF, which SQS refuses, as escapes). `null` when there is none: `current_missing`
    /// says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Snapshot>"))]
    pub current: Option<Cow<'a, RawValue>>,
    /// Added by the optional enricher next to `current`: when the platform answered, in RFC 3339
    /// UTC with milliseconds. `null` when `current` is `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(OCCURRED_AT_PATTERN)))]
    pub current_at: Option<String>,
    /// Added by the optional enricher next to `current`: why `current` is `null`.
    /// `null` when `current` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_missing: Option<CurrentMissing>,
}

/// Why the enricher's message has no `current` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CurrentMissing {
    /// What the platform said about the object.
    pub reason: MissingReason,
    /// The platform's error code, e.g. `1160103` for `forbidden`; `null` when it gave none.
    pub code: Option<i64>,
}

/// Why the platform's query API gave no object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MissingReason {
    /// The event is a deletion: the API no longer returns the object, so none was asked for.
    Deleted,
    /// The API did not return the object, even after the platform's lag had passed.
    NotFound,
    /// The object is outside the app's data permission range (`code` says which error).
    Forbidden,
    /// The object was read, but the message with it would be over the queue's size limit:
    /// read it from the API.
    TooLarge,
    /// A reason this version does not know yet; never written.
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Other,
}

impl MissingReason {
    /// The name as it appears in messages: `deleted`, `not_found`, `forbidden`, `too_large`.
    pub fn as_str(self) -> &'static str {
        match self {
            MissingReason::Deleted => "deleted",
            MissingReason::NotFound => "not_found",
            MissingReason::Forbidden => "forbidden",
            MissingReason::TooLarge => "too_large",
            MissingReason::Other => "other",
        }
    }
}

impl Message<'_> {
    /// [`endpoint`](Self::endpoint), or the default endpoint of `source` when it is absent.
    pub fn endpoint_id(&self) -> &str {
        self.endpoint.as_deref().unwrap_or(self.source.as_str())
    }
}

/// [`Message::endpoint`].
#[cfg(feature = "schema")]
const ENDPOINT_PATTERN: &str = "^(feishu|feilian)(/[a-z0-9][a-z0-9-]{0,39})?$";

/// [`Message::id`].
#[cfg(feature = "schema")]
const ID_PATTERN: &str = "^(feishu(/[a-z0-9][a-z0-9-]{0,39})?:.*|feilian(/[a-z0-9][a-z0-9-]{0,39})?:.*:(0|[1-9][0-9]*))$";

/// [`Message::occurred_at`], as `humantime::format_rfc3339_millis` writes it.
#[cfg(feature = "schema")]
const OCCURRED_AT_PATTERN: &str =
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$";

/// A snapshot: any JSON object.
#[cfg(feature = "schema")]
type Snapshot = serde_json::Map<String, serde_json::Value>;
