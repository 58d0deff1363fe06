//! Which records need an object read, and which pass on as they are.

use std::time::SystemTime;

use org_change_contract::{Action, Entity, Message, Source};

use crate::api::Api;

/// What a record needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Not a relay message: forwarded unchanged, since dropping it is not ours to decide.
    Unreadable(String),
    /// Nothing to add: forwarded byte for byte.
    PassThrough,
    /// A CoreHR deletion: the API can no longer return the object.
    Deleted { endpoint: String },
    /// A CoreHR creation or update: read the object.
    Lookup(Lookup),
}

/// One object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// Names the app to read with.
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
    // A body with the enricher's fields went round once: add nothing twice.
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

/// `None` for events that carry their object already (contact v3, Feilian) or are unknown.
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

/// A custom org without its type cannot be queried.
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::testing::{corehr, start};

    #[test]
    fn corehr_creations_and_updates_are_read() {
        let at = start() + Duration::from_millis(7);
        let body = corehr("custom_org", "updated", "42", Some(at));
        assert_eq!(
            of(&body),
            Target::Lookup(Lookup {
                endpoint: "feishu".to_owned(),
                api: Api::CustomOrgs,
                object_api_name: Some("custom_org_01".to_owned()),
                id: "42".to_owned(),
                occurred_at: Some(at),
            })
        );
        let Target::Lookup(created) = of(&corehr("department", "created", "7", None)) else {
            panic!("a creation is read");
        };
        assert_eq!((created.api, created.occurred_at), (Api::Departments, None));
    }

    #[test]
    fn a_deletion_names_its_endpoint() {
        let body = corehr("department", "deleted", "7", None)
            .replace(r#""endpoint":"feishu""#, r#""endpoint":"feishu/lark""#);
        assert_eq!(
            of(&body),
            Target::Deleted {
                endpoint: "feishu/lark".to_owned()
            }
        );
    }

    #[test]
    fn other_messages_pass_through() {
        let corehr = corehr("department", "updated", "7", None);
        let cases = [
            corehr.replace("corehr.department.updated_v2", "contact.department.updated_v3"),
            corehr.replace(r#""source":"feishu""#, r#""source":"feilian""#),
            corehr.replace(r#""action":"updated""#, r#""action":"moved""#),
            corehr.replace(r#""entity":"department""#, r#""entity":"custom_org""#),
            corehr.replace(r#""after":null}"#, r#""after":null,"current":null,"current_missing":{"reason":"deleted","code":null}}"#),
        ];
        for body in cases {
            assert_eq!(of(&body), Target::PassThrough, "{body}");
        }
    }

    #[test]
    fn what_is_not_a_relay_message_is_unreadable() {
        assert!(
            matches!(of("not json"), Target::Unreadable(why) if why.starts_with("not a relay message: "))
        );
        assert!(matches!(
            of(r#"{"schema_version":1}"#),
            Target::Unreadable(_)
        ));
        let untyped =
            corehr("custom_org", "updated", "7", None).replace(r#""custom_org_01""#, "null");
        assert_eq!(
            of(&untyped),
            Target::Unreadable("a custom org without object_api_name".to_owned())
        );
    }
}
