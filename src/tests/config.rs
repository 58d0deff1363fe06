use std::collections::HashMap;

use super::*;
use org_change_core::Source;

fn feishu() -> EndpointId {
    EndpointId::default_of(Source::Feishu)
}

fn feilian() -> EndpointId {
    EndpointId::default_of(Source::Feilian)
}

const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/org-changes";

/// `vars` as the environment.
fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_lookup(lookup(vars))
}

/// The variable or place a configuration error names; the enricher's settings use it too.
pub(crate) fn invalid_var<T: std::fmt::Debug>(result: Result<T, ConfigError>) -> String {
    match result {
        Err(ConfigError::Invalid { place, .. }) => place,
        Err(ConfigError::Missing { var, .. }) => var.to_owned(),
        other => panic!("expected an invalid variable, got {other:?}"),
    }
}

#[test]
fn minimal_feishu_configuration_has_the_defaults() {
    let config = config(&[("QUEUE_URL", QUEUE), ("FEISHU_VERIFICATION_TOKEN", "t")]).unwrap();
    assert!(config.endpoint(&feishu()).is_some() && config.endpoint(&feilian()).is_none());
    assert_eq!(
        config.queue,
        QueueConfig {
            url: QUEUE.into(),
            fifo: false,
            group_by: GroupBy::Tenant,
            delay_seconds: None
        }
    );
    assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    assert_eq!(config.feilian_challenge_reply, ChallengeReply::Echo);
    assert_eq!(config.metrics_namespace, DEFAULT_METRICS_NAMESPACE);
    let feishu = config.endpoint(&feishu()).unwrap();
    assert_eq!(
        feishu.replay_window(),
        ReplayWindow::new(Duration::from_secs(86_400))
    );
    assert_eq!(config.quarantine, None);
}

#[test]
fn the_quarantine_queue_is_optional_and_validated_like_the_queue() {
    let with = |url| {
        config(&[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            ("QUARANTINE_QUEUE_URL", url),
        ])
    };
    let quarantine = "https://sqs.us-east-1.amazonaws.com/123456789012/org-changes-quarantine";
    assert_eq!(
        with(quarantine).unwrap().quarantine,
        Some(QueueConfig {
            url: quarantine.into(),
            fifo: false,
            group_by: GroupBy::Unit,
            delay_seconds: None
        })
    );
    assert!(with("https://h/1/q.fifo").unwrap().quarantine.unwrap().fifo);
    for bad in ["quarantine", "https://host/q", "https://host/1/q?x=1"] {
        assert_eq!(invalid_var(with(bad)), "QUARANTINE_QUEUE_URL", "{bad}");
    }
}

#[test]
fn full_configuration_is_read() {
    let config = config(&[
        (
            "QUEUE_URL",
            "http://127.0.0.1:5000/123456789012/changes.fifo",
        ),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
        ("FEISHU_ENCRYPT_KEY", "k"),
        ("FEILIAN_VERIFICATION_TOKEN", "t2"),
        ("FEILIAN_CHALLENGE_REPLY", "plain"),
        ("MAX_BODY_BYTES", "4096"),
    ])
    .unwrap();
    assert!(config.queue.fifo);
    assert!(config.endpoint(&feishu()).is_some() && config.endpoint(&feilian()).is_some());
    assert_eq!(config.feilian_challenge_reply, ChallengeReply::Plain);
    assert_eq!(config.max_body_bytes, 4096);
}

#[test]
fn queue_url_is_required_and_must_be_a_queue_url() {
    assert_eq!(
        invalid_var(config(&[("FEISHU_VERIFICATION_TOKEN", "t")])),
        "QUEUE_URL"
    );
    for bad in [
        "sqs-queue",
        "ftp://host/1/q",
        "https:///1/q",
        "https://host/q",
        "https://host/1/bad name",
        "https://host/1/q?x=1",
        "https://host/1/.fifo",
    ] {
        assert_eq!(
            invalid_var(config(&[
                ("QUEUE_URL", bad),
                ("FEISHU_VERIFICATION_TOKEN", "t")
            ])),
            "QUEUE_URL",
            "{bad}"
        );
    }
}

#[test]
fn at_least_one_source_must_be_enabled() {
    assert_eq!(
        config(&[("QUEUE_URL", QUEUE)]).unwrap_err(),
        ConfigError::NoSource
    );
    assert_eq!(
        config(&[("QUEUE_URL", QUEUE), ("FEISHU_VERIFICATION_TOKEN", "")]).unwrap_err(),
        ConfigError::NoSource
    );
}

#[test]
fn an_encrypt_key_without_its_token_is_refused() {
    let result = config(&[
        ("QUEUE_URL", QUEUE),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
        ("FEILIAN_ENCRYPT_KEY", "k"),
    ]);
    assert_eq!(invalid_var(result), "FEILIAN_ENCRYPT_KEY");
}

#[test]
fn delay_must_be_0_to_900_and_only_on_standard_queues() {
    let with_delay = |queue: &str, delay: &str| {
        config(&[
            ("QUEUE_URL", queue),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            ("QUEUE_DELAY_SECONDS", delay),
        ])
    };
    assert_eq!(
        with_delay(QUEUE, "900").unwrap().queue.delay_seconds,
        Some(900)
    );
    for bad in ["901", "-1", "1.5", "soon"] {
        assert_eq!(
            invalid_var(with_delay(QUEUE, bad)),
            "QUEUE_DELAY_SECONDS",
            "{bad}"
        );
    }
    assert_eq!(
        invalid_var(with_delay("https://h/1/q.fifo", "0")),
        "QUEUE_DELAY_SECONDS"
    );
}

#[test]
fn numbers_and_choices_are_validated() {
    let with = |var, value| {
        config(&[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            (var, value),
        ])
    };
    for bad in ["0", "-5", "1MB"] {
        assert_eq!(invalid_var(with("MAX_BODY_BYTES", bad)), "MAX_BODY_BYTES");
    }
    assert_eq!(
        invalid_var(with("FEILIAN_CHALLENGE_REPLY", "xml")),
        "FEILIAN_CHALLENGE_REPLY"
    );
    let too_long = "n".repeat(256);
    for bad in ["AWS/Lambda", "org{changes}", too_long.as_str()] {
        assert_eq!(
            invalid_var(with("METRICS_NAMESPACE", bad)),
            "METRICS_NAMESPACE"
        );
    }
    assert_eq!(
        with("METRICS_NAMESPACE", "Platform/OrgChanges")
            .unwrap()
            .metrics_namespace,
        "Platform/OrgChanges"
    );
}

#[test]
fn the_challenge_reply_is_echo_json_or_plain() {
    for (value, expected) in [
        ("echo", ChallengeReply::Echo),
        ("json", ChallengeReply::Json),
        ("plain", ChallengeReply::Plain),
    ] {
        let config = config(&[
            ("QUEUE_URL", QUEUE),
            ("FEILIAN_VERIFICATION_TOKEN", "t"),
            ("FEILIAN_CHALLENGE_REPLY", value),
        ])
        .unwrap();
        assert_eq!(config.feilian_challenge_reply, expected);
    }
}

#[test]
fn the_maximum_request_age_is_a_positive_number_of_seconds_applied_to_both_sources() {
    let with = |value| {
        config(&[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            ("FEILIAN_VERIFICATION_TOKEN", "t"),
            ("MAX_REQUEST_AGE_SECONDS", value),
        ])
    };
    let config = with("3600").unwrap();
    for source in [Source::Feishu, Source::Feilian] {
        assert_eq!(
            config
                .endpoint(&EndpointId::default_of(source))
                .unwrap()
                .replay_window(),
            ReplayWindow::new(Duration::from_secs(3600))
        );
    }
    for bad in ["0", "-1", "1.5", "1h", "99999999999999999999999"] {
        assert_eq!(invalid_var(with(bad)), "MAX_REQUEST_AGE_SECONDS", "{bad}");
    }
}

/// Every way a pasted secret goes wrong, and what the error says.
const PASTED_WRONG: [(&str, &str); 9] = [
    ("s3cr3t-value\n", "has a trailing newline"),
    (
        "s3cr3t-value\r\n",
        "has a trailing carriage return and newline",
    ),
    ("s3cr3t-value\r", "has a trailing carriage return"),
    ("s3cr3t-value ", "has trailing whitespace"),
    (" s3cr3t-value", "has leading whitespace"),
    ("\ts3cr3t-value", "has leading whitespace"),
    ("\"s3cr3t-value\"", "is wrapped in quotes"),
    ("'s3cr3t-value'", "is wrapped in quotes"),
    ("s3cr3t\u{7}value", "contains a control character"),
];

#[test]
fn a_secret_pasted_with_whitespace_or_quotes_is_refused_naming_the_variable() {
    for var in SECRET_VARS {
        for (value, problem) in PASTED_WRONG {
            let mut vars = vec![("QUEUE_URL", QUEUE)];
            // A key needs its token: give it one when the key is the bad value.
            if var.ends_with("_ENCRYPT_KEY") {
                vars.push((var.replace("ENCRYPT_KEY", "VERIFICATION_TOKEN").leak(), "t"));
            }
            vars.push((var, value));
            let err = config(&vars).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { place, .. } if place == var),
                "{var} {value:?}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains(var) && text.contains(problem), "{text}");
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }
}

#[test]
fn a_secret_key_pasted_with_whitespace_or_quotes_is_refused_naming_the_key() {
    for key in SECRET_VARS {
        for (value, problem) in PASTED_WRONG {
            let secret = serde_json::json!({ key: value }).to_string();
            let err = from_secret(&[("QUEUE_URL", QUEUE)], &secret).unwrap_err();
            assert!(
                matches!(err, ConfigError::Secret { .. }),
                "{key} {value:?}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains(key) && text.contains(problem), "{text}");
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }
}

#[test]
fn values_that_only_look_odd_are_accepted() {
    // Quotes or spaces inside, a lone quote, and empty (unset) values are fine.
    for value in ["a b", "a\"b", "\"abc", "it's", "x"] {
        let config = config(&[("QUEUE_URL", QUEUE), ("FEISHU_VERIFICATION_TOKEN", value)]);
        assert!(config.is_ok(), "{value:?}: {config:?}");
    }
    let config = config(&[
        ("QUEUE_URL", QUEUE),
        ("FEISHU_VERIFICATION_TOKEN", "t"),
        ("FEISHU_ENCRYPT_KEY", ""),
    ])
    .unwrap();
    assert_eq!(config.fingerprints.len(), 1);
}

#[test]
fn each_set_secret_has_a_fingerprint_the_shell_can_reproduce() {
    // printf 'org-change-relay/fingerprint/v1:%s' 'rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV' | sha256sum | cut -c1-8
    assert_eq!(fingerprint("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV"), "df2f1adc");
    // printf 'org-change-relay/fingerprint/v1:%s' '' | sha256sum | cut -c1-8
    assert_eq!(fingerprint(""), "c9dbf46a");
    // printf 'org-change-relay/fingerprint/v1:%s' t | sha256sum | cut -c1-8
    assert_eq!(fingerprint("t"), "9412736d");
    let config = config(&[
        ("QUEUE_URL", QUEUE),
        (
            "FEISHU_VERIFICATION_TOKEN",
            "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV",
        ),
        ("FEILIAN_VERIFICATION_TOKEN", "t"),
        ("FEILIAN_ENCRYPT_KEY", "k"),
    ])
    .unwrap();
    let fingerprints: Vec<(&str, &str)> = config
        .fingerprints
        .iter()
        .map(|(place, print)| (place.as_str(), print.as_str()))
        .collect();
    assert_eq!(
        fingerprints,
        [
            ("FEISHU_VERIFICATION_TOKEN", "df2f1adc"),
            ("FEILIAN_VERIFICATION_TOKEN", "9412736d"),
            // printf 'org-change-relay/fingerprint/v1:%s' k | sha256sum | cut -c1-8
            ("FEILIAN_ENCRYPT_KEY", "0142a987"),
        ]
    );
    assert!(!format!("{config:?}").contains("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV"));
}

fn from_secret(env: &[(&str, &str)], secret: &str) -> Result<Config, ConfigError> {
    from_secret_at(env, secret, SystemTime::now())
}

fn from_secret_at(
    env: &[(&str, &str)],
    secret: &str,
    now: SystemTime,
) -> Result<Config, ConfigError> {
    // As `secrets::load_lookup` reads it.
    secrets_beside_secret_id(&lookup(env))?;
    Config::from_lookup_at(with_secret(lookup(env), secret)?, now)
}

#[test]
fn secrets_come_from_the_secret_and_the_rest_from_the_environment() {
    let config = from_secret(
            &[("QUEUE_URL", QUEUE), ("MAX_BODY_BYTES", "2048")],
            r#"{"FEILIAN_VERIFICATION_TOKEN": "t", "FEILIAN_ENCRYPT_KEY": "k", "FEISHU_VERIFICATION_TOKEN": ""}"#,
        )
        .unwrap();
    assert!(config.endpoint(&feilian()).is_some() && config.endpoint(&feishu()).is_none());
    assert_eq!(config.max_body_bytes, 2048);
    assert_eq!(
        from_secret(&[("QUEUE_URL", QUEUE)], "{}").unwrap_err(),
        ConfigError::NoSource
    );
}

#[test]
fn a_secret_setting_in_the_environment_beside_the_secret_is_refused() {
    let result = from_secret(
        &[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_ENCRYPT_KEY", "plain-text-key"),
        ],
        r#"{"FEISHU_VERIFICATION_TOKEN": "t"}"#,
    );
    assert_eq!(invalid_var(result), "FEISHU_ENCRYPT_KEY");
}

#[test]
fn a_malformed_secret_is_refused_without_quoting_it() {
    for (secret, expected) in [
        ("not json at all", "not a JSON object of strings"),
        (r#"["s3cr3t-value"]"#, "not a JSON object of strings"),
        (
            r#"{"FEISHU_VERIFICATION_TOKEN": 12345678}"#,
            "not a JSON object of strings",
        ),
        (
            r#"{"FEISHU_TOKEN": "s3cr3t-value"}"#,
            "unknown key \"FEISHU_TOKEN\"",
        ),
    ] {
        let err = from_secret(&[("QUEUE_URL", QUEUE)], secret).unwrap_err();
        assert!(
            matches!(err, ConfigError::Secret { .. }),
            "{secret}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.contains(expected), "{secret}: {text}");
        assert!(
            !text.contains("s3cr3t") && !text.contains("12345678"),
            "{text}"
        );
    }
}

#[test]
fn errors_never_repeat_a_secret() {
    let err = config(&[
        ("QUEUE_URL", QUEUE),
        ("FEISHU_ENCRYPT_KEY", "super-secret-key"),
    ])
    .unwrap_err();
    assert!(!err.to_string().contains("super-secret-key"), "{err}");
}

#[test]
fn the_fingerprint_of_a_key_is_not_the_start_of_its_aes_key() {
    // The AES key is SHA-256 of the key string (docs/protocol.md, "Encryption").
    let aes_key = hex::encode(Sha256::digest(b"k"));
    assert_eq!(&aes_key[..8], "8254c329");
    assert_eq!(fingerprint("k"), "0142a987");
}

/// A place given twice, and the value that must never be repeated.
const KEY: &str = "K3y-that-must-not-leak";

fn repeated(result: Result<Config, ConfigError>) -> (String, String) {
    let err = result.expect_err("a name given twice is refused");
    match &err {
        ConfigError::Repeated { place, .. } => (place.clone(), err.to_string()),
        other => panic!("expected a name given twice, got {other:?}"),
    }
}

#[test]
fn a_field_or_an_endpoint_given_twice_in_endpoints_is_refused_naming_it_never_the_value() {
    for (endpoints, place) in [
        (
            format!(
                r#"{{"feishu/x": {{"verification_token": "t", "encrypt_key": "{KEY}", "encrypt_key": ""}}}}"#
            ),
            r#"ENDPOINTS["feishu/x"].encrypt_key"#,
        ),
        (
            format!(
                r#"{{"feishu/x": {{"verification_token": "t", "encrypt_key": "{KEY}"}}, "feishu/x": {{"verification_token": "t"}}}}"#
            ),
            r#"ENDPOINTS["feishu/x"]"#,
        ),
    ] {
        let result = config(&[("QUEUE_URL", QUEUE), ("ENDPOINTS", &endpoints)]);
        let (named, text) = repeated(result);
        assert_eq!(named, place);
        assert_eq!(
            text,
            format!(
                "{place} is given more than once; give each name once (a repeated name silently replaces the one before it)"
            )
        );
        assert!(!text.contains(KEY), "{text}");
    }
}

#[test]
fn a_key_given_twice_in_the_secret_is_refused_naming_it_never_the_value() {
    for (secret, place) in [
        (
            format!(
                r#"{{"FEISHU_VERIFICATION_TOKEN": "t", "FEISHU_ENCRYPT_KEY": "{KEY}", "FEISHU_ENCRYPT_KEY": ""}}"#
            ),
            "FEISHU_ENCRYPT_KEY",
        ),
        (
            format!(
                r#"{{"ENDPOINTS": {{"feilian/x": {{"verification_token": "t", "encrypt_key": "{KEY}", "encrypt_key": ""}}}}}}"#
            ),
            r#"ENDPOINTS["feilian/x"].encrypt_key"#,
        ),
        (
            format!(
                r#"{{"ENDPOINTS": {{"feilian/x": {{"verification_token": "{KEY}"}}}}, "ENDPOINTS": {{}}}}"#
            ),
            "ENDPOINTS",
        ),
    ] {
        let (named, text) = repeated(from_secret(&[("QUEUE_URL", QUEUE)], &secret));
        assert_eq!(named, place);
        assert_eq!(
            text,
            format!(
                "{place} is given more than once in the secret named by SECRET_ID; give each name once (a repeated name silently replaces the one before it)"
            )
        );
        assert!(!text.contains(KEY), "{text}");
    }
}

#[test]
fn the_environment_is_checked_before_the_sdk_and_the_secret_are_read() {
    let region = [("AWS_REGION", "us-east-1")];
    let check = |vars: &[(&str, &str)], names: &[&str]| check_environment(lookup(vars), names);
    assert_eq!(check(&region, &["AWS_REGION", "PATH"]), Ok(()));
    // The SDK reads either variable.
    assert_eq!(check(&[("AWS_DEFAULT_REGION", "us-east-1")], &[]), Ok(()));
    let err = check(&[], &[]).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Missing {
                var: "AWS_REGION",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        check(
            &region,
            &["AWS_REGION", "FEISHU_ENCRYPT_KEY", "FEISHU_ENCRYPT_KEY"]
        ),
        Err(ConfigError::Repeated {
            place: "FEISHU_ENCRYPT_KEY".into(),
            within: IN_ENVIRONMENT,
        })
    );
    // A name the relay does not read may repeat.
    assert_eq!(check(&region, &["OTHER", "OTHER"]), Ok(()));
    let beside = [
        ("AWS_REGION", "us-east-1"),
        ("SECRET_ID", "relay"),
        ("FEILIAN_ENCRYPT_KEY", KEY),
    ];
    let err = secrets_beside_secret_id(&lookup(&beside)).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid { ref place, .. } if place == "FEILIAN_ENCRYPT_KEY"
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains(KEY), "{err}");
}

/// 2025-11-30T10:53:20Z.
fn start() -> SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs(1_764_500_000)
}

const NAMED: &str = r#"{"feishu/lark-global": {"verification_token": "t2", "encrypt_key": "k2"},
        "feilian/sub": {"verification_token": "t3"},
        "feishu": {"previous_verification_token": "t0", "previous_encrypt_key": "k0",
                   "previous_until": "2025-12-01T00:00:00Z"}}"#;

#[test]
fn named_endpoints_and_previous_pairs_come_from_endpoints_in_the_environment() {
    let config = Config::from_lookup_at(
        lookup(&[
            ("QUEUE_URL", QUEUE),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
            ("FEISHU_ENCRYPT_KEY", "k"),
            ("MAX_REQUEST_AGE_SECONDS", "60"),
            ("ENDPOINTS", NAMED),
        ]),
        start(),
    )
    .unwrap();
    let ids: Vec<&str> = config.endpoints.keys().map(String::as_str).collect();
    assert_eq!(ids, ["feilian/sub", "feishu", "feishu/lark-global"]);
    // The replay window applies to every endpoint.
    for endpoint in config.endpoints.values() {
        assert_eq!(
            endpoint.replay_window(),
            ReplayWindow::new(Duration::from_secs(60))
        );
    }
    assert!(
        config
            .endpoint(&feishu())
            .unwrap()
            .previous_until()
            .is_some()
    );
    // Every secret has its fingerprint line, named where it is set.
    let places: Vec<&str> = config
        .fingerprints
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(places.len(), 2 + 5, "{places:?}");
    assert!(places.contains(&r#"ENDPOINTS["feishu"].previous_encrypt_key"#));
    assert!(!format!("{config:?}").contains("\"k0\""));
    // A named endpoint alone is enough.
    let config = Config::from_lookup_at(
        lookup(&[
            ("QUEUE_URL", QUEUE),
            (
                "ENDPOINTS",
                r#"{"feilian/sub": {"verification_token": "t3"}}"#,
            ),
        ]),
        start(),
    )
    .unwrap();
    assert_eq!(config.endpoints.len(), 1);
}

#[test]
fn endpoints_come_from_the_secret_as_an_object_and_never_beside_it() {
    let secret = format!(r#"{{"FEISHU_VERIFICATION_TOKEN": "t", "ENDPOINTS": {NAMED}}}"#);
    let config = from_secret_at(&[("QUEUE_URL", QUEUE)], &secret, start()).unwrap();
    assert_eq!(config.endpoints.len(), 3);
    let err = from_secret_at(
        &[("QUEUE_URL", QUEUE), ("ENDPOINTS", NAMED)],
        r#"{"FEISHU_VERIFICATION_TOKEN": "t"}"#,
        start(),
    )
    .unwrap_err();
    assert_eq!(invalid_var::<Config>(Err(err)), "ENDPOINTS");
    // In the secret it is an object, not JSON text in a string.
    let err = from_secret_at(
        &[("QUEUE_URL", QUEUE)],
        &serde_json::json!({"FEISHU_VERIFICATION_TOKEN": "t", "ENDPOINTS": NAMED}).to_string(),
        start(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("must be a JSON object"), "{err}");
    // A mistake inside is named by endpoint and field.
    let bad = r#"{"FEISHU_VERIFICATION_TOKEN": "t", "ENDPOINTS": {"feishu/x": {"verification_token": "s3cr3t ", "encrypt_key": "k"}}}"#;
    let err = from_secret_at(&[("QUEUE_URL", QUEUE)], bad, start()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            r#"ENDPOINTS["feishu/x"].verification_token is invalid: it has trailing whitespace"#
        ),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[test]
fn an_expired_previous_pair_is_a_warning_and_one_too_far_ahead_an_error() {
    let with = |until: &str| {
        Config::from_lookup_at(
            lookup(&[
                ("QUEUE_URL", QUEUE),
                ("FEISHU_VERIFICATION_TOKEN", "t"),
                (
                    "ENDPOINTS",
                    &format!(
                        r#"{{"feishu": {{"previous_verification_token": "t0", "previous_until": "{until}"}}}}"#
                    ),
                ),
            ]),
            start(),
        )
    };
    let config = with("2025-11-29T00:00:00Z").unwrap();
    assert_eq!(config.endpoint(&feishu()).unwrap().previous_until(), None);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    let err = with("2025-12-08T00:00:00Z").unwrap_err();
    assert!(
        matches!(&err, ConfigError::Invalid { place, .. } if place == r#"ENDPOINTS["feishu"].previous_until"#),
        "{err:?}"
    );
    assert!(with("2025-12-07T10:53:20Z").unwrap().warnings.is_empty());
}

/// The default Feishu endpoint, enabled, with `vars` besides.
fn feishu_with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut all = vec![("QUEUE_URL", QUEUE), ("FEISHU_VERIFICATION_TOKEN", "t")];
    all.extend_from_slice(vars);
    config(&all)
}

const APP_SECRET: &str = "App-s3cr3t-that-must-not-leak";

#[test]
fn the_default_endpoints_app_comes_from_its_variables_with_its_api_host() {
    let app = |host: Option<&str>| {
        let mut vars = vec![
            ("FEISHU_APP_ID", "cli_a1"),
            ("FEISHU_APP_SECRET", APP_SECRET),
        ];
        vars.extend(host.map(|host| ("FEISHU_API_HOST", host)));
        let config = feishu_with(&vars).unwrap();
        assert_eq!(config.open_apps.len(), 1, "{:?}", config.open_apps);
        config.open_apps["feishu"].clone()
    };
    let feishu = app(None);
    assert_eq!(feishu.app_id, "cli_a1");
    assert_eq!(feishu.app_secret.expose(), APP_SECRET);
    assert_eq!(feishu.api_base, "https://open.feishu.cn");
    for (host, base) in [
        ("feishu", "https://open.feishu.cn"),
        ("lark", "https://open.larksuite.com"),
        ("http://127.0.0.1:8088/", "http://127.0.0.1:8088"),
        (
            "https://proxy.example/feishu//",
            "https://proxy.example/feishu",
        ),
    ] {
        assert_eq!(app(Some(host)).api_base, base, "{host}");
    }
    assert!(
        feishu_with(&[]).unwrap().open_apps.is_empty(),
        "no app without its credentials"
    );
}

#[test]
fn an_app_needs_both_its_id_and_its_secret_and_the_error_names_the_one_given() {
    for (vars, named, missing) in [
        (
            vec![("FEISHU_APP_ID", "cli_a1")],
            "FEISHU_APP_ID",
            "FEISHU_APP_SECRET",
        ),
        (
            vec![("FEISHU_APP_SECRET", APP_SECRET)],
            "FEISHU_APP_SECRET",
            "FEISHU_APP_ID",
        ),
        (
            vec![("FEISHU_API_HOST", "lark")],
            "FEISHU_API_HOST",
            "FEISHU_APP_ID",
        ),
    ] {
        let err = feishu_with(&vars).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { place, .. } if place == named),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains(&format!("{missing} is not")), "{text}");
        assert!(!text.contains(APP_SECRET), "{text}");
    }
}

#[test]
fn an_api_host_is_feishu_lark_or_an_absolute_http_url() {
    for bad in [
        "open.feishu.cn",
        "larksuite",
        "ftp://host",
        "https://",
        "https://h/?q=1",
        "http://proxy.example.com",
        "https://user:PASSWORD@proxy.example.com",
    ] {
        let result = feishu_with(&[
            ("FEISHU_APP_ID", "cli_a1"),
            ("FEISHU_APP_SECRET", APP_SECRET),
            ("FEISHU_API_HOST", bad),
        ]);
        // A query or user info may hold a credential: never quoted back.
        let message = result.as_ref().err().map(ToString::to_string);
        let message = message.unwrap_or_default();
        assert!(
            !message.contains("PASSWORD") && !message.contains("q=1"),
            "{message}"
        );
        assert_eq!(invalid_var(result), "FEISHU_API_HOST", "{bad}");
    }
}

#[test]
fn an_app_of_a_disabled_default_endpoint_is_refused() {
    let result = config(&[
        ("QUEUE_URL", QUEUE),
        ("FEILIAN_VERIFICATION_TOKEN", "t"),
        ("FEISHU_APP_ID", "cli_a1"),
        ("FEISHU_APP_SECRET", APP_SECRET),
    ]);
    assert_eq!(invalid_var(result), "FEISHU_APP_ID");
}

#[test]
fn the_app_secret_is_fingerprinted_never_shown_and_the_app_id_is_no_secret() {
    let config = feishu_with(&[
        ("FEISHU_APP_ID", "cli_a1"),
        ("FEISHU_APP_SECRET", APP_SECRET),
    ])
    .unwrap();
    let places: Vec<&str> = config
        .fingerprints
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(places, ["FEISHU_VERIFICATION_TOKEN", "FEISHU_APP_SECRET"]);
    assert_eq!(config.fingerprints[1].1, fingerprint(APP_SECRET));
    let debug = format!("{config:?}");
    assert!(
        !debug.contains(APP_SECRET) && debug.contains("cli_a1"),
        "{debug}"
    );
}

#[test]
fn app_credentials_come_from_the_secret_and_never_beside_it() {
    let secret = serde_json::json!({
        "FEISHU_VERIFICATION_TOKEN": "t",
        "FEISHU_APP_ID": "cli_a1",
        "FEISHU_APP_SECRET": APP_SECRET,
    })
    .to_string();
    let env = [("QUEUE_URL", QUEUE), ("FEISHU_API_HOST", "lark")];
    let config = from_secret(&env, &secret).unwrap();
    let app = &config.open_apps["feishu"];
    assert_eq!(
        (
            app.app_id.as_str(),
            app.app_secret.expose(),
            app.api_base.as_str()
        ),
        ("cli_a1", APP_SECRET, "https://open.larksuite.com")
    );
    for var in ["FEISHU_APP_ID", "FEISHU_APP_SECRET"] {
        let result = from_secret(
            &[("QUEUE_URL", QUEUE), (var, APP_SECRET)],
            r#"{"FEISHU_VERIFICATION_TOKEN": "t"}"#,
        );
        let err = result.unwrap_err();
        assert_eq!(invalid_var::<Config>(Err(err.clone())), var);
        assert!(!err.to_string().contains(APP_SECRET), "{err}");
    }
}

#[test]
fn named_endpoints_apps_are_read_beside_the_default_one() {
    let endpoints = serde_json::json!({
        "feishu/lark-global": {"verification_token": "t2", "app_id": "cli_l", "app_secret": APP_SECRET, "api_host": "lark"},
        "feishu/plain": {"verification_token": "t3"},
    })
    .to_string();
    let config = feishu_with(&[
        ("FEISHU_APP_ID", "cli_a1"),
        ("FEISHU_APP_SECRET", "s"),
        ("ENDPOINTS", &endpoints),
    ])
    .unwrap();
    let apps: Vec<(&str, &str, &str)> = config
        .open_apps
        .iter()
        .map(|(id, app)| (id.as_str(), app.app_id.as_str(), app.api_base.as_str()))
        .collect();
    assert_eq!(
        apps,
        [
            ("feishu", "cli_a1", "https://open.feishu.cn"),
            ("feishu/lark-global", "cli_l", "https://open.larksuite.com"),
        ]
    );
    assert!(config.fingerprints.iter().any(|(place, print)| place
        == r#"ENDPOINTS["feishu/lark-global"].app_secret"#
        && *print == fingerprint(APP_SECRET)));
    assert!(
        !config
            .fingerprints
            .iter()
            .any(|(place, _)| place.ends_with(".app_id") || place.ends_with(".api_host"))
    );
}

#[test]
fn the_enricher_reads_the_same_apps_without_a_queue_and_refuses_the_same_mistakes() {
    let vars = [
        ("FEISHU_VERIFICATION_TOKEN", "t"),
        ("FEISHU_APP_ID", "cli_a1"),
        ("FEISHU_APP_SECRET", APP_SECRET),
        ("FEISHU_API_HOST", "http://127.0.0.1:8088/"),
    ];
    let apps = open_app::from_lookup(&lookup(&vars)).unwrap();
    let mut with_queue = vec![("QUEUE_URL", QUEUE)];
    with_queue.extend(vars);
    assert_eq!(apps, config(&with_queue).unwrap().open_apps);
    for (var, value) in [
        ("FEISHU_APP_SECRET", ""),
        ("FEISHU_APP_SECRET", "App-s3cr3t-that-must-not-leak\n"),
        ("FEISHU_API_HOST", "open.feishu.cn"),
    ] {
        let mut bad = vars.to_vec();
        bad.retain(|(name, _)| *name != var);
        bad.push((var, value));
        let err = open_app::from_lookup(&lookup(&bad)).unwrap_err();
        assert_eq!(
            err,
            config(&[&[("QUEUE_URL", QUEUE)][..], &bad].concat()).unwrap_err()
        );
        assert!(!err.to_string().contains(APP_SECRET), "{err}");
    }
}
