//! Which records the enricher reads an object for, and which it passes on as they are.

use std::time::SystemTime;

use org_change_contract::{Action, Entity, Message, Source};

use crate::api::Api;

/// What a record needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Not a relay message: forwarded unchanged, since dropping it is not ours to decide.
    Unreadable(String),
    /// A message the enricher adds nothing to: forwarded byte for byte.
    PassThrough,
    /// A CoreHR deletion of endpoint `endpoint`: the API can no longer return the object.
    Deleted { endpoint: String },
    /// A CoreHR creation or update: read the object.
    Lookup(Lookup),
}

/// One object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// The relay endpoint, which names the app to read with.
    pub(crate) endpoint: String,
    pub(crate) api: Api,
    /// The custom org's type; `None` for departments.
    pub(crate) object_api_name: Option<String>,
    pub(crate) id: String,
    pub(crate) occurred_at: Option<SystemTime>,
}

/// What `body` needs.
pub(crate) fn of(body: &str) -> Target {
    let message = match serde_json::from_str::<Message<'_>>(body) {
        Ok(message) => message,
        Err(err) => return Target::Unreadable(format!("not a relay message: {err}")),
    };
    // A body that already carries the enricher's fields went round once: add nothing twice.
    if message.current.is_some() || message.current_missing.is_some() {
        return Target::PassThrough;
    }
    let Some(api) = api(&message) else {
        return Target::PassThrough;
    };
    let endpoint = message.endpoint_id().to_owned();
    match message.action {
        Action::Deleted => Target::Deleted { endpoint },
        Action::Created | Action::Updated => lookup(&message, api, endpoint),
        _ => Target::PassThrough,
    }
}

/// The API that reads a Feishu People department or custom org; `None` for other events,
/// which carry their object already (contact v3, Feilian) or are unknown.
fn api(message: &Message<'_>) -> Option<Api> {
    if message.source != Source::Feishu {
        return None;
    }
    let event_type = &message.event_type;
    match message.entity {
        Entity::Department if event_type.starts_with("corehr.department.") => {
            Some(Api::Departments)
        }
        Entity::CustomOrg if event_type.starts_with("corehr.custom_org.") => Some(Api::CustomOrgs),
        _ => None,
    }
}

/// The read of a creation or update. A custom org without its type cannot be queried.
fn lookup(message: &Message<'_>, api: Api, endpoint: String) -> Target {
    let object_api_name = message.object_api_name.as_deref().map(str::to_owned);
    if api == Api::CustomOrgs && object_api_name.as_deref().is_none_or(str::is_empty) {
        return Target::Unreadable("a custom org without object_api_name".to_owned());
    }
    let occurred_at = message
        .occurred_at
        .as_deref()
        .and_then(|at| humantime::parse_rfc3339(at).ok());
    Target::Lookup(Lookup {
        endpoint,
        api,
        object_api_name,
        id: message.entity_id.to_string(),
        occurred_at,
    })
}
