use std::time::UNIX_EPOCH;

use super::*;
use org_change_core::Source;

/// 2025-11-30T10:53:20Z.
const NOW: u64 = 1_764_500_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// `vars` as the variables.
fn vars(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

/// `ENDPOINTS` beside an enabled default Feishu endpoint.
fn read_text(text: &str) -> Result<Endpoints, ConfigError> {
    read_endpoints(
        &vars(&[("FEISHU_VERIFICATION_TOKEN", "t"), ("ENDPOINTS", text)]),
        now(),
    )
}

#[test]
fn previous_until_is_rfc_3339_with_z_a_fraction_or_an_offset() {
    let until = |text: &str| {
        let entry = format!(
            r#"{{"feishu": {{"previous_verification_token": "t0", "previous_until": "{text}"}}}}"#
        );
        read_text(&entry).map(|read| read.endpoints["feishu"].previous_until())
    };
    let at = |seconds| Some(UNIX_EPOCH + Duration::from_secs(seconds));
    let hour_later = NOW + 3600;
    assert_eq!(until("2025-11-30T11:53:20Z"), Ok(at(hour_later)));
    assert_eq!(until("2025-11-30T19:53:20+08:00"), Ok(at(hour_later)));
    assert_eq!(until("2025-11-30T06:53:20-05:00"), Ok(at(hour_later)));
    assert_eq!(
        until("2025-11-30T11:53:20.500Z"),
        Ok(Some(
            UNIX_EPOCH + Duration::from_millis(hour_later * 1000 + 500)
        ))
    );
    for bad in [
        "2025-11-30",
        "2025-11-30T11:53:20",
        "tomorrow",
        "2025-11-30T11:53:20+8:00",
        "2025-11-30T11:53:20+24:00",
        "1764503600",
    ] {
        let err = until(bad).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"ENDPOINTS["feishu"].previous_until is invalid: "#)
                && err.to_string().contains("not an RFC 3339 time"),
            "{bad:?}: {err}"
        );
    }
}

fn place_of(result: Result<Endpoints, ConfigError>) -> String {
    match result {
        Err(ConfigError::Invalid { place, .. }) => place,
        other => panic!("expected an endpoint error, got {other:?}"),
    }
}

#[test]
fn named_endpoints_and_previous_pairs_are_read() {
    let read = read_text(
            r#"{"feishu/lark-global": {"verification_token": "t2", "encrypt_key": "k2"},
                "feilian/sub": {"verification_token": "t3", "previous_verification_token": "t0",
                                "previous_until": "2025-12-01T00:00:00Z"},
                "feishu": {"previous_verification_token": "t1", "previous_until": "2025-12-07T10:53:20Z"}}"#,
        )
        .unwrap();
    let ids: Vec<&str> = read.endpoints.keys().map(String::as_str).collect();
    assert_eq!(ids, ["feilian/sub", "feishu", "feishu/lark-global"]);
    let lark = &read.endpoints["feishu/lark-global"];
    assert_eq!(lark.id().name(), Some("lark-global"));
    assert_eq!(lark.previous_until(), None);
    assert_eq!(
        read.endpoints["feishu"].previous_until(),
        Some(now() + MAX_PREVIOUS_VALIDITY)
    );
    assert!(read.endpoints["feilian/sub"].previous_until().is_some());
    let places: Vec<&str> = read.fingerprints.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        places,
        [
            "FEISHU_VERIFICATION_TOKEN",
            r#"ENDPOINTS["feilian/sub"].previous_verification_token"#,
            r#"ENDPOINTS["feilian/sub"].verification_token"#,
            r#"ENDPOINTS["feishu"].previous_verification_token"#,
            r#"ENDPOINTS["feishu/lark-global"].encrypt_key"#,
            r#"ENDPOINTS["feishu/lark-global"].verification_token"#,
        ]
    );
    assert!(read.warnings.is_empty());
}

#[test]
fn an_expired_previous_pair_is_ignored_with_a_warning() {
    let read = read_text(
        r#"{"feishu": {"previous_verification_token": "t1", "previous_encrypt_key": "k1",
                           "previous_until": "2025-11-30T10:53:20Z"}}"#,
    )
    .unwrap();
    assert_eq!(read.endpoints["feishu"].previous_until(), None);
    assert_eq!(read.warnings.len(), 1);
    assert!(
        read.warnings[0]
            .contains(r#"ENDPOINTS["feishu"].previous_until expired at 2025-11-30T10:53:20Z"#),
        "{:?}",
        read.warnings
    );
    assert!(!read.warnings[0].contains("t1"));
}

#[test]
fn every_mistake_is_refused_naming_the_endpoint_and_field_never_the_value() {
    for (text, expected_place, expected) in [
        (
            r#"{"feishu/lark-global": {"encrypt_key": "s3cr3t"}}"#,
            r#"ENDPOINTS["feishu/lark-global"].verification_token"#,
            "required",
        ),
        (
            r#"{"feishu/lark-global": {"verification_token": "s3cr3t\n"}}"#,
            r#"ENDPOINTS["feishu/lark-global"].verification_token"#,
            "trailing newline",
        ),
        (
            r#"{"feishu/lark-global": {"verification_token": "t", "encrypt_key": " s3cr3t"}}"#,
            r#"ENDPOINTS["feishu/lark-global"].encrypt_key"#,
            "leading whitespace",
        ),
        (
            r#"{"feishu/lark-global": {"verification_token": "t", "encrypt_key": "'s3cr3t'"}}"#,
            r#"ENDPOINTS["feishu/lark-global"].encrypt_key"#,
            "wrapped in quotes",
        ),
        (
            r#"{"feishu/lark-global": {"verification_token": 12345678}}"#,
            r#"ENDPOINTS["feishu/lark-global"].verification_token"#,
            "not a string",
        ),
        (
            r#"{"feishu/lark-global": {"verification_token": "t", "token": "s3cr3t"}}"#,
            r#"ENDPOINTS["feishu/lark-global"]"#,
            "unknown field \"token\"",
        ),
        (
            r#"{"feishu/Lark": {"verification_token": "s3cr3t"}}"#,
            r#"ENDPOINTS["feishu/Lark"]"#,
            "not an endpoint name",
        ),
        (
            r#"{"dingtalk/x": {"verification_token": "s3cr3t"}}"#,
            r#"ENDPOINTS["dingtalk/x"]"#,
            "not an endpoint",
        ),
        (
            r#"{"feishu": {"verification_token": "s3cr3t"}}"#,
            r#"ENDPOINTS["feishu"].verification_token"#,
            "FEISHU_VERIFICATION_TOKEN",
        ),
        (
            r#"{"feilian": {"previous_verification_token": "s3cr3t", "previous_until": "2025-12-01T00:00:00Z"}}"#,
            r#"ENDPOINTS["feilian"].previous_until"#,
            "FEILIAN_VERIFICATION_TOKEN is not set",
        ),
        (
            r#"{"feishu": {"previous_encrypt_key": "s3cr3t", "previous_until": "2025-12-01T00:00:00Z"}}"#,
            r#"ENDPOINTS["feishu"].previous_encrypt_key"#,
            "previous_verification_token is not",
        ),
        (
            r#"{"feishu": {"previous_verification_token": "s3cr3t"}}"#,
            r#"ENDPOINTS["feishu"].previous_until"#,
            "required",
        ),
        (
            r#"{"feishu": {"previous_verification_token": "s3cr3t", "previous_until": "next week"}}"#,
            r#"ENDPOINTS["feishu"].previous_until"#,
            "not an RFC 3339 time",
        ),
        (
            r#"{"feishu": {"previous_verification_token": "s3cr3t", "previous_until": "2025-12-07T10:53:21Z"}}"#,
            r#"ENDPOINTS["feishu"].previous_until"#,
            "more than 7 days",
        ),
        (r#"["s3cr3t"]"#, "ENDPOINTS", "not a JSON object"),
        (r#"{"s3cr3t"#, "ENDPOINTS", "not JSON"),
        (
            r#"{"feishu/x": "s3cr3t"}"#,
            r#"ENDPOINTS["feishu/x"]"#,
            "not an object",
        ),
    ] {
        let result = read_text(text);
        let err = result.as_ref().map(|_| ()).unwrap_err().clone();
        assert_eq!(place_of(result), expected_place, "{text}");
        let message = err.to_string();
        assert!(message.contains(expected), "{text}: {message}");
        assert!(
            !message.contains("s3cr3t") && !message.contains("12345678"),
            "{message}"
        );
    }
}

#[test]
fn empty_values_are_unset_and_an_empty_default_entry_is_nothing() {
    let read = read_endpoints(
        &vars(&[(
            "ENDPOINTS",
            r#"{"feilian": {"previous_verification_token": ""}, "feishu/x": {"verification_token": "t", "encrypt_key": ""}}"#,
        )]),
        now(),
    )
    .unwrap();
    let ids: Vec<&str> = read.endpoints.keys().map(String::as_str).collect();
    assert_eq!(ids, ["feishu/x"]);
    assert_eq!(read.fingerprints.len(), 1);
}

#[test]
fn a_setting_is_named_where_it_is_configured() {
    let named = EndpointId::parse("feilian/sub").unwrap();
    assert_eq!(
        setting_place(&named, Setting::EncryptKey),
        r#"ENDPOINTS["feilian/sub"].encrypt_key"#
    );
    assert_eq!(
        setting_place(
            &EndpointId::default_of(Source::Feishu),
            Setting::VerificationToken
        ),
        "FEISHU_VERIFICATION_TOKEN"
    );
}

#[test]
fn a_previous_pair_without_its_key_keeps_the_current_key_and_never_lets_plaintext_in() {
    use org_change_core::{Credentials, Delivery, Inbound, Rejection, cipher, receive};
    let read = read_endpoints(
        &vars(&[
            ("FEILIAN_VERIFICATION_TOKEN", "new"),
            ("FEILIAN_ENCRYPT_KEY", "k"),
            (
                "ENDPOINTS",
                r#"{"feilian": {"previous_verification_token": "old", "previous_until": "2025-12-01T00:00:00Z"}}"#,
            ),
        ]),
        now(),
    )
    .unwrap();
    let endpoint = &read.endpoints["feilian"];
    let challenge = r#"{"challenge": "c", "token": "old", "type": "url_verification"}"#;
    let inbound = |body: &str| -> Result<Delivery, Rejection> {
        let body = body.to_owned();
        receive(
            endpoint,
            Inbound {
                body: body.as_bytes(),
                signature: None,
            },
            now(),
        )
    };
    assert_eq!(
        inbound(challenge).unwrap_err(),
        Rejection::PlaintextRefused {
            platform: Source::Feilian
        }
    );
    let sealed = cipher::encrypt(&EncryptKey::new("k"), challenge.as_bytes(), [1; 16]);
    let delivery = inbound(&format!(r#"{{"encrypt": "{sealed}"}}"#)).unwrap();
    assert_eq!(delivery.credentials(), Credentials::Previous);
}

#[test]
fn app_credentials_belong_to_named_feishu_endpoints_both_or_neither() {
    let both = r#"{"feishu/x": {"verification_token": "t", "app_id": "cli_x", "app_secret": "s3cr3t", "api_host": "https://proxy.example/"}}"#;
    let read = read_text(both).unwrap();
    let app = &read.apps["feishu/x"];
    assert_eq!(
        (
            app.app_id.as_str(),
            app.app_secret.expose(),
            app.api_base.as_str()
        ),
        ("cli_x", "s3cr3t", "https://proxy.example")
    );
    assert_eq!(read.apps.len(), 1);
    for (text, expected_place, expected) in [
        (
            r#"{"feishu/x": {"verification_token": "t", "app_id": "cli_x"}}"#,
            r#"ENDPOINTS["feishu/x"].app_id"#,
            "app_secret is not",
        ),
        (
            r#"{"feishu/x": {"verification_token": "t", "app_secret": "s3cr3t", "app_id": ""}}"#,
            r#"ENDPOINTS["feishu/x"].app_secret"#,
            "app_id is not",
        ),
        (
            r#"{"feishu/x": {"verification_token": "t", "api_host": "lark"}}"#,
            r#"ENDPOINTS["feishu/x"].api_host"#,
            "app_id is not",
        ),
        (
            r#"{"feishu/x": {"verification_token": "t", "app_id": "cli_x", "app_secret": "s3cr3t", "api_host": "open.larksuite.com"}}"#,
            r#"ENDPOINTS["feishu/x"].api_host"#,
            "not feishu, lark or an absolute https URL",
        ),
        (
            r#"{"feishu/x": {"verification_token": "t", "app_id": "cli_x", "app_secret": "s3cr3t\n"}}"#,
            r#"ENDPOINTS["feishu/x"].app_secret"#,
            "trailing newline",
        ),
        (
            r#"{"feishu/x": {"verification_token": "t", "app_id": "cli_x", "app_secret": 12345678}}"#,
            r#"ENDPOINTS["feishu/x"].app_secret"#,
            "not a string",
        ),
        (
            r#"{"feilian/x": {"verification_token": "t", "app_id": "cli_x", "app_secret": "s3cr3t"}}"#,
            r#"ENDPOINTS["feilian/x"].app_id"#,
            "a Feilian endpoint has no app",
        ),
        (
            r#"{"feishu": {"app_secret": "s3cr3t"}}"#,
            r#"ENDPOINTS["feishu"].app_secret"#,
            "FEISHU_APP_SECRET",
        ),
    ] {
        let result = read_text(text);
        let err = result.as_ref().map(|_| ()).unwrap_err().clone();
        assert_eq!(place_of(result), expected_place, "{text}");
        let message = err.to_string();
        assert!(message.contains(expected), "{text}: {message}");
        assert!(
            !message.contains("s3cr3t") && !message.contains("12345678"),
            "{message}"
        );
    }
}
