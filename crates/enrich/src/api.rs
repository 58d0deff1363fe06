//! The two CoreHR batch reads: their URLs, request bodies, id fields and rate limits
//! (`docs/current-object.md`, "Departments" and "Custom orgs").

use std::time::Duration;

use serde::Serialize;

/// Ids per call. Departments take up to 100; custom orgs take 200 but page at 100,
/// and a call of at most 100 ids with `page_size=100` needs no page loop.
pub(crate) const IDS_PER_CALL: usize = 100;

/// The fields a department read asks for: without `fields` the API returns only the id.
/// Every allowed value, so that `current` is the whole department the app may see.
const DEPARTMENT_FIELDS: [&str; 25] = [
    "version_id",
    "sub_type",
    "manager",
    "is_root",
    "is_confidential",
    "effective_date",
    "expiration_date",
    "department_name",
    "parent_department_id",
    "tree_order",
    "list_order",
    "code",
    "active",
    "description",
    "custom_fields",
    "staffing_model",
    "cost_center_id",
    "created_time",
    "updated_time",
    "created_by",
    "updated_by",
    "record_created_time",
    "record_updated_time",
    "record_created_by",
    "record_updated_by",
];

/// The fields a custom-org read asks for: every documented one. Custom fields must be
/// named by their api names, which differ per tenant, so they are not asked for.
const CUSTOM_ORG_FIELDS: [&str; 9] = [
    "names",
    "code",
    "parent_id",
    "manager_ids",
    "description",
    "effective_time",
    "org_roles",
    "active",
    "org_id",
];

/// One of the platform's batch reads of current objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Api {
    /// `POST /open-apis/corehr/v2/departments/batch_get`.
    Departments,
    /// `POST /open-apis/corehr/v2/custom_orgs/query` (plural, unlike its page's URL).
    CustomOrgs,
}

impl Api {
    /// The call as log lines name it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Api::Departments => "corehr/v2/departments/batch_get",
            Api::CustomOrgs => "corehr/v2/custom_orgs/query",
        }
    }

    /// The URL to POST, on the app's host.
    /// The events' `department_id` is a CoreHR id; the default id type would not match it.
    pub(crate) fn url(self, api_base: &str) -> String {
        match self {
            Api::Departments => format!(
                "{api_base}/open-apis/corehr/v2/departments/batch_get?department_id_type=people_corehr_department_id"
            ),
            Api::CustomOrgs => {
                format!("{api_base}/open-apis/corehr/v2/custom_orgs/query?page_size=100")
            }
        }
    }

    /// The documented caps, each a window and the calls it allows per app.
    /// Departments: 1000/min and 50/s, both binding. Custom orgs: 5/s, no minute cap stated.
    pub(crate) fn caps(self) -> &'static [(Duration, u32)] {
        const DEPARTMENTS: [(Duration, u32); 2] = [
            (Duration::from_secs(1), 50),
            (Duration::from_secs(60), 1000),
        ];
        const CUSTOM_ORGS: [(Duration, u32); 1] = [(Duration::from_secs(1), 5)];
        match self {
            Api::Departments => &DEPARTMENTS,
            Api::CustomOrgs => &CUSTOM_ORGS,
        }
    }

    /// The JSON body reading `ids` (at most [`IDS_PER_CALL`], never empty: an empty
    /// custom-org filter returns every org of the tenant).
    pub(crate) fn request(self, object_api_name: Option<&str>, ids: &[&str]) -> Vec<u8> {
        let body = match self {
            Api::Departments => serde_json::to_vec(&DepartmentsRequest {
                department_id_list: ids,
                fields: &DEPARTMENT_FIELDS,
            }),
            Api::CustomOrgs => serde_json::to_vec(&CustomOrgsRequest {
                object_api_name: object_api_name.unwrap_or_default(),
                org_ids: ids,
                org_fields: &CUSTOM_ORG_FIELDS,
                need_match_rule: false,
            }),
        };
        // Strings and lists of strings always serialize.
        body.unwrap_or_default()
    }
}

/// The body of `departments/batch_get`.
#[derive(Serialize)]
struct DepartmentsRequest<'a> {
    department_id_list: &'a [&'a str],
    fields: &'a [&'a str],
}

/// The body of `custom_orgs/query`. `active` is left out so that disabled orgs come back too.
#[derive(Serialize)]
struct CustomOrgsRequest<'a> {
    object_api_name: &'a str,
    org_ids: &'a [&'a str],
    org_fields: &'a [&'a str],
    need_match_rule: bool,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn body(api: Api, name: Option<&str>, ids: &[&str]) -> Value {
        serde_json::from_slice(&api.request(name, ids)).expect("JSON")
    }

    #[test]
    fn a_department_read_names_the_id_type_and_lists_its_fields() {
        assert_eq!(
            Api::Departments.url("https://open.feishu.cn"),
            "https://open.feishu.cn/open-apis/corehr/v2/departments/batch_get?department_id_type=people_corehr_department_id"
        );
        let sent = body(Api::Departments, None, &["7043711774159341101"]);
        assert_eq!(sent["department_id_list"], json!(["7043711774159341101"]));
        assert_eq!(sent["fields"].as_array().map(Vec::len), Some(25));
        assert!(
            sent["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|f| f == "department_name")
        );
    }

    #[test]
    fn a_custom_org_read_names_its_type_and_pages_at_100() {
        assert_eq!(
            Api::CustomOrgs.url("http://127.0.0.1:9"),
            "http://127.0.0.1:9/open-apis/corehr/v2/custom_orgs/query?page_size=100"
        );
        let sent = body(
            Api::CustomOrgs,
            Some("custom_org_01"),
            &["7140964208476371111"],
        );
        assert_eq!(
            sent,
            json!({
                "object_api_name": "custom_org_01",
                "org_ids": ["7140964208476371111"],
                "org_fields": CUSTOM_ORG_FIELDS,
                "need_match_rule": false,
            })
        );
    }

    #[test]
    fn the_caps_are_the_documented_ones() {
        let second = Duration::from_secs(1);
        assert_eq!(
            Api::Departments.caps(),
            [(second, 50), (Duration::from_secs(60), 1000)]
        );
        assert_eq!(Api::CustomOrgs.caps(), [(second, 5)]);
    }
}
