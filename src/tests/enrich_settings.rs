use std::collections::HashMap;

use super::*;
use crate::config::tests::invalid_var;
use crate::config::{fingerprint, with_secret};
use crate::enrich::startup::endpoint_line;

const ENRICHED: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/org-changes-enriched";
const SECRET: &str = "app-secret-value";

/// `vars` as the environment.
fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

/// The default Feishu endpoint with an app, a Lark endpoint with one, and Feilian without.
fn vars() -> Vec<(&'static str, &'static str)> {
    vec![
        (ENRICHED_QUEUE_URL_VAR, ENRICHED),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
        ("FEISHU_APP_ID", "cli_default"),
        ("FEISHU_APP_SECRET", SECRET),
        ("FEILIAN_VERIFICATION_TOKEN", "f"),
        (
            "ENDPOINTS",
            r#"{"feishu/lark": {"verification_token": "l", "app_id": "cli_lark", "app_secret": "lark-secret", "api_host": "lark"}}"#,
        ),
    ]
}

fn with(extra: &[(&'static str, &'static str)]) -> Result<Settings, ConfigError> {
    let mut all = vars();
    all.retain(|(name, _)| extra.iter().all(|(other, _)| other != name));
    all.extend_from_slice(extra);
    Settings::from_lookup(lookup(&all))
}

#[test]
fn the_endpoints_apps_and_queue_are_read_as_the_relay_reads_them() {
    let settings = with(&[]).unwrap();
    assert_eq!(settings.endpoints, ["feilian", "feishu", "feishu/lark"]);
    let apps = settings.logic_apps();
    let hosts: Vec<(&str, &str, &str)> = apps
        .values()
        .map(|app| {
            (
                app.endpoint.as_str(),
                app.app_id.as_str(),
                app.api_base.as_str(),
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [
            ("feishu", "cli_default", "https://open.feishu.cn"),
            ("feishu/lark", "cli_lark", "https://open.larksuite.com"),
        ]
    );
    assert_eq!(apps["feishu"].app_secret, SECRET);
    assert_eq!(
        settings.queue,
        EnrichedQueueConfig {
            url: ENRICHED.into(),
            fifo: false
        }
    );
    assert_eq!(settings.share, 1.0);
}

#[test]
fn each_endpoint_says_whether_it_enriches() {
    let settings = with(&[]).unwrap();
    let lines: Vec<(String, String)> = settings
        .endpoints
        .iter()
        .map(|id| (id.clone(), endpoint_line(settings.apps.get(id))))
        .collect();
    let expected = [
        (
            "feilian",
            "passes its messages through unchanged (no app credentials)",
        ),
        (
            "feishu",
            "enriches with app cli_default at https://open.feishu.cn",
        ),
        (
            "feishu/lark",
            "enriches with app cli_lark at https://open.larksuite.com",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(id, line)| (id.to_string(), line.to_string()))
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn the_app_secrets_are_fingerprinted_and_never_shown() {
    let settings = with(&[]).unwrap();
    assert!(
        settings
            .fingerprints
            .contains(&("FEISHU_APP_SECRET".into(), fingerprint(SECRET))),
        "{:?}",
        settings.fingerprints
    );
    let shown = format!("{settings:?}");
    assert!(
        !shown.contains(SECRET) && !shown.contains("lark-secret"),
        "{shown}"
    );
}

#[test]
fn a_fifo_enriched_queue_is_known_by_its_name() {
    let fifo = "https://sqs.us-east-1.amazonaws.com/123456789012/enriched.fifo";
    let settings = with(&[(ENRICHED_QUEUE_URL_VAR, fifo)]).unwrap();
    assert!(settings.queue.fifo);
}

#[test]
fn the_enriched_queue_is_required_and_checked() {
    let mut without = vars();
    without.retain(|(name, _)| *name != ENRICHED_QUEUE_URL_VAR);
    assert_eq!(
        invalid_var(Settings::from_lookup(lookup(&without))),
        ENRICHED_QUEUE_URL_VAR
    );
    for bad in [
        "not a url",
        "https://sqs.us-east-1.amazonaws.com/only-a-name",
        "ftp://x/1/q",
    ] {
        assert_eq!(
            invalid_var(with(&[(ENRICHED_QUEUE_URL_VAR, bad)])),
            ENRICHED_QUEUE_URL_VAR,
            "{bad}"
        );
    }
}

#[test]
fn the_share_is_a_number_above_zero_and_at_most_one() {
    assert_eq!(with(&[(SHARE_VAR, "0.25")]).unwrap().share, 0.25);
    assert_eq!(with(&[(SHARE_VAR, "1")]).unwrap().share, 1.0);
    for bad in ["0", "-0.5", "1.5", "half", "NaN", "inf"] {
        assert_eq!(invalid_var(with(&[(SHARE_VAR, bad)])), SHARE_VAR, "{bad}");
    }
}

#[test]
fn an_app_missing_its_secret_stops_the_start_naming_the_variable() {
    let mut half = vars();
    half.retain(|(name, _)| *name != "FEISHU_APP_SECRET");
    let err = Settings::from_lookup(lookup(&half)).unwrap_err();
    assert!(err.to_string().contains("FEISHU_APP_ID"), "{err}");
}

#[test]
fn the_secret_holds_the_apps_when_secret_id_is_set() {
    let env = lookup(&[
        (ENRICHED_QUEUE_URL_VAR, ENRICHED),
        ("SECRET_ID", "relay-secret"),
    ]);
    let secret = format!(
        r#"{{"FEISHU_VERIFICATION_TOKEN": "t", "FEISHU_APP_ID": "cli_s", "FEISHU_APP_SECRET": "{SECRET}"}}"#
    );
    let settings = Settings::from_lookup(with_secret(env, &secret).unwrap()).unwrap();
    assert_eq!(settings.apps["feishu"].app_id, "cli_s");
    assert_eq!(settings.apps["feishu"].app_secret.expose(), SECRET);
}

#[test]
fn a_variable_given_twice_is_refused() {
    let env = lookup(&[("AWS_REGION", "us-east-1")]);
    let names = vec![ENRICHED_QUEUE_URL_VAR, "AWS_REGION", ENRICHED_QUEUE_URL_VAR];
    assert_eq!(
        check(env, names),
        Err(ConfigError::Repeated {
            place: ENRICHED_QUEUE_URL_VAR.into(),
            within: IN_ENVIRONMENT
        })
    );
}
