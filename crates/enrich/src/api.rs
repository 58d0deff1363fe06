//! The two CoreHR batch reads (`docs/current-object.md`, "Departments" and "Custom orgs").

use std::time::Duration;

use serde::Serialize;

/// Departments take up to 100 ids; custom orgs take 200 but page at 100. At 100 ids with
/// `page_size=100`, no page loop is needed.
pub(crate) const IDS_PER_CALL: usize = 100;

/// Without `fields` the API returns only the id. All allowed values, so `current` is the
/// whole department the app may see.
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

/// Every documented field. Custom fields need per-tenant api names, so they are left out.
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
    /// As log lines name it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Api::Departments => "corehr/v2/departments/batch_get",
            Api::CustomOrgs => "corehr/v2/custom_orgs/query",
        }
    }

    /// The URL to POST. Events carry CoreHR department ids, so the request names that id type.
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

    /// The documented per-app caps, as (window, calls). Departments: 1000/min and 50/s.
    /// Custom orgs: 5/s, no minute cap stated.
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

    /// The JSON body reading `ids`. Never empty: an empty custom-org filter returns every org.
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

#[derive(Serialize)]
struct DepartmentsRequest<'a> {
    department_id_list: &'a [&'a str],
    fields: &'a [&'a str],
}

/// `active` is left out so that disabled orgs come back too.
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
