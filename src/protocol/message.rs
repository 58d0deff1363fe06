//! The normalized message: one per change, the public contract for consumers.
//!
//! Our vocabulary (`entity`, `action`, `changed_fields`) lives here; each platform's
//! vocabulary (`field_changes`, `old_object`, ...) stays in its own module, which is
//! the one place that maps it onto these fields.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The version of the message layout below. Bumped only on a breaking change.
pub const SCHEMA_VERSION: u32 = 1;

/// The platform a change comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Feishu,
    Feilian,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Feishu, Source::Feilian];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Feishu => "feishu",
            Source::Feilian => "feilian",
        }
    }

    /// The environment variable holding this source's Verification Token.
    pub fn token_var(self) -> &'static str {
        match self {
            Source::Feishu => "FEISHU_VERIFICATION_TOKEN",
            Source::Feilian => "FEILIAN_VERIFICATION_TOKEN",
        }
    }

    /// The environment variable holding this source's Encrypt Key.
    pub fn key_var(self) -> &'static str {
        match self {
            Source::Feishu => "FEISHU_ENCRYPT_KEY",
            Source::Feilian => "FEILIAN_ENCRYPT_KEY",
        }
    }

    /// Whether the platform signs its requests (`X-Lark-Signature`). Feilian documents
    /// no signature: its only proof of origin is the token inside the encrypted body.
    pub fn signs_requests(self) -> bool {
        matches!(self, Source::Feishu)
    }
}

/// What kind of organization unit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Department,
    CustomOrg,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Department => "department",
            Entity::CustomOrg => "custom_org",
        }
    }
}

/// What happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
        }
    }
}

/// One change to one organization unit, as consumers read it from the queue.
///
/// The relay builds it borrowing from the decrypted request; consumers deserialize
/// an owned one (`Message<'static>`) with `serde_json::from_str`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message<'a> {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Unique per change and stable across the platform's retries: deduplicate on it.
    /// `feishu:<event_id>` or `feilian:<event_id>:<index in data.events>`.
    pub id: Cow<'a, str>,
    pub source: Source,
    pub event_type: Cow<'a, str>,
    pub event_id: Cow<'a, str>,
    pub entity: Entity,
    pub action: Action,
    /// `department_id`, `org_id`, Feilian's `open_id`, or contact v3's `open_department_id`.
    pub entity_id: Cow<'a, str>,
    /// The custom organization's type code; `null` for departments.
    pub object_api_name: Option<Cow<'a, str>>,
    /// The changed fields as the platform lists them or, when it lists none but sends
    /// both snapshots, the sorted top-level keys whose values differ; else empty.
    pub changed_fields: Vec<Cow<'a, str>>,
    /// When the platform created the event, RFC 3339 UTC with milliseconds.
    pub occurred_at: Option<String>,
    pub tenant_key: Option<Cow<'a, str>>,
    pub app_id: Option<Cow<'a, str>>,
    /// The snapshot before the change (`old_object`), exactly as received.
    pub before: Option<Cow<'a, RawValue>>,
    /// The snapshot after the change (`object`), exactly as received.
    pub after: Option<Cow<'a, RawValue>>,
}

impl Message<'_> {
    /// The unit whose changes must stay in order: on a FIFO queue this is the message
    /// group, `<source>:<tenant_key or app_id>:<entity>:<entity_id>`.
    pub fn ordering_key(&self) -> String {
        let tenant = self
            .tenant_key
            .as_deref()
            .or(self.app_id.as_deref())
            .unwrap_or_default();
        format!(
            "{}:{}:{}:{}",
            self.source.as_str(),
            tenant,
            self.entity.as_str(),
            self.entity_id
        )
    }
}

/// A message ready for the queue: its serialized body and what the queue needs to
/// route and deduplicate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// [`Message::id`].
    pub id: String,
    /// The JSON of the [`Message`].
    pub body: String,
    /// [`Message::ordering_key`].
    pub ordering_key: String,
    pub source: Source,
    pub event_type: String,
    pub entity: Entity,
    pub action: Action,
}

impl Outgoing {
    pub fn new(message: &Message<'_>) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: message.id.clone().into_owned(),
            body: serde_json::to_string(message)?,
            ordering_key: message.ordering_key(),
            source: message.source,
            event_type: message.event_type.clone().into_owned(),
            entity: message.entity,
            action: message.action,
        })
    }
}
