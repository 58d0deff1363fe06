//! Groups an invocation's lookups into calls: one per app, API and custom-org type, at most
//! 100 distinct ids each.

use std::collections::HashMap;

use crate::api::{Api, IDS_PER_CALL};
use crate::target::Lookup;

/// One call's worth of lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    /// Names the app.
    pub(crate) endpoint: String,
    pub(crate) api: Api,
    pub(crate) object_api_name: Option<String>,
    /// Distinct, in the order first seen.
    pub(crate) ids: Vec<String>,
    /// The records waiting for this call.
    pub(crate) members: Vec<(usize, Lookup)>,
}

impl Batch {
    /// One call per id, each with the members waiting for it.
    pub(crate) fn one_by_one(&self) -> Vec<Batch> {
        let alone = |id: &String| Batch {
            endpoint: self.endpoint.clone(),
            api: self.api,
            object_api_name: self.object_api_name.clone(),
            ids: vec![id.clone()],
            members: (self.members.iter())
                .filter(|(_, lookup)| lookup.id == *id)
                .cloned()
                .collect(),
        };
        self.ids.iter().map(alone).collect()
    }
}

/// The calls that answer `lookups`. An id wanted twice is asked once; both records get the
/// answer.
pub(crate) fn batches(lookups: Vec<(usize, Lookup)>) -> Vec<Batch> {
    type Key = (String, Api, Option<String>);
    let mut order: Vec<Key> = Vec::new();
    let mut groups: HashMap<Key, Vec<(usize, Lookup)>> = HashMap::new();
    for (index, lookup) in lookups {
        let key = (
            lookup.endpoint.clone(),
            lookup.api,
            lookup.object_api_name.clone(),
        );
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push((index, lookup));
    }
    let mut calls = Vec::new();
    for key in order {
        let members = groups.remove(&key).unwrap_or_default();
        calls.extend(split(key, members));
    }
    calls
}

/// Splits one group into calls of at most [`IDS_PER_CALL`] distinct ids.
fn split(
    (endpoint, api, object_api_name): (String, Api, Option<String>),
    members: Vec<(usize, Lookup)>,
) -> Vec<Batch> {
    let mut calls: Vec<Batch> = Vec::new();
    let mut call_of_id: HashMap<String, usize> = HashMap::new();
    for (index, lookup) in members {
        let call = match call_of_id.get(&lookup.id) {
            Some(&call) => call,
            None => {
                if calls.last().is_none_or(|c| c.ids.len() == IDS_PER_CALL) {
                    calls.push(Batch {
                        endpoint: endpoint.clone(),
                        api,
                        object_api_name: object_api_name.clone(),
                        ids: Vec::new(),
                        members: Vec::new(),
                    });
                }
                let call = calls.len() - 1;
                calls[call].ids.push(lookup.id.clone());
                call_of_id.insert(lookup.id.clone(), call);
                call
            }
        };
        calls[call].members.push((index, lookup));
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(endpoint: &str, api: Api, type_: Option<&str>, id: &str) -> Lookup {
        Lookup {
            endpoint: endpoint.to_owned(),
            api,
            object_api_name: type_.map(str::to_owned),
            id: id.to_owned(),
            occurred_at: None,
        }
    }

    #[test]
    fn one_call_per_app_api_and_type_of_at_most_100_distinct_ids() {
        let mut lookups = Vec::new();
        for n in 0..150 {
            lookups.push((n, lookup("feishu", Api::Departments, None, &n.to_string())));
        }
        lookups.push((150, lookup("feishu/lark", Api::Departments, None, "1")));
        lookups.push((
            151,
            lookup("feishu", Api::CustomOrgs, Some("custom_org_01"), "1"),
        ));
        lookups.push((
            152,
            lookup("feishu", Api::CustomOrgs, Some("custom_org_02"), "1"),
        ));
        lookups.push((153, lookup("feishu", Api::Departments, None, "0")));
        let calls = batches(lookups);
        let shape: Vec<(&str, Api, Option<&str>, usize, usize)> = calls
            .iter()
            .map(|c| {
                (
                    c.endpoint.as_str(),
                    c.api,
                    c.object_api_name.as_deref(),
                    c.ids.len(),
                    c.members.len(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("feishu", Api::Departments, None, 100, 101),
                ("feishu", Api::Departments, None, 50, 50),
                ("feishu/lark", Api::Departments, None, 1, 1),
                ("feishu", Api::CustomOrgs, Some("custom_org_01"), 1, 1),
                ("feishu", Api::CustomOrgs, Some("custom_org_02"), 1, 1),
            ]
        );
        let twice: Vec<usize> = calls[0]
            .members
            .iter()
            .filter(|(_, l)| l.id == "0")
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(
            twice,
            [0, 153],
            "the same id twice: asked once, both wait for it"
        );
    }
}
