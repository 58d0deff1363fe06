//! Named endpoints and rotation without a gap, end to end: platform-shaped requests
//! through the real lambda_http adapter, messages read back from a real (moto) SQS
//! queue. Two Feishu apps with different keys and a named Feilian subscription each
//! receive their own events, and refuse each other's; during a rotation both the
//! previous and the current pair are accepted, never a mix, and the previous one
//! stops at its expiry.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use org_change_relay::config::Config;
use org_change_relay::http::App;
use org_change_relay::queue::sqs::SqsQueue;
use org_change_relay::secrets::load_config;
use serde_json::{Value, json};

/// The second Feishu app (Lark, abroad) and a Feilian subsidiary's subscription.
const LARK_TOKEN: &str = "lark-global-token";
const LARK_KEY: &str = "lark-global-key";
const SUB_TOKEN: &str = "subsidiary-token";
const SUB_KEY: &str = "subsidiary-key";

/// `ENDPOINTS` of the multi-app tests.
fn named_endpoints() -> String {
    json!({
        "feishu/lark-global": {"verification_token": LARK_TOKEN, "encrypt_key": LARK_KEY},
        "feilian/subsidiary": {"verification_token": SUB_TOKEN, "encrypt_key": SUB_KEY},
    })
    .to_string()
}

/// Both default endpoints (the test secrets) and the named ones, publishing to `queue`.
fn multi_app(setup: &Setup) -> App<SqsQueue> {
    let endpoints = named_endpoints();
    let mut vars = vec![
        ("QUEUE_URL", setup.queue.as_str()),
        ("ENDPOINTS", endpoints.as_str()),
    ];
    vars.extend(SECRETS);
    app(&setup.client, &vars)
}

/// `plaintext` with the token where the platform puts it set to `token`.
fn with_token(plaintext: &str, token: &str) -> String {
    let mut envelope: Value = serde_json::from_str(plaintext).expect("a JSON sample");
    match envelope.get_mut("header") {
        Some(header) => header["token"] = json!(token),
        None => envelope["token"] = json!(token),
    }
    envelope.to_string()
}

/// A Feishu event for `path` carrying `token`, encrypted and signed with `key`, now.
fn feishu_to(path: &str, token: &str, key: &str, sample_name: &str) -> HttpRequest {
    let plaintext = with_token(&sample(&format!("feishu/{sample_name}.json")), token);
    let mut request = feishu_signed(&encrypt(key, &plaintext), key);
    request.path = path.to_owned();
    request
}

/// A Feilian event for `path` carrying `token`, dated now and encrypted with `key`.
fn feilian_to(path: &str, token: &str, key: &str) -> HttpRequest {
    let plaintext = with_token(&sample("feilian/department.v1.update.json"), token);
    HttpRequest::post(path, encrypt(key, &dated(&plaintext, now_millis())))
}

/// Sends each `(what, request, (status, error code))` and checks its answer.
async fn assert_refused<const N: usize>(
    app: &App<SqsQueue>,
    cases: [(&str, HttpRequest, (u16, &str)); N],
) {
    for (what, request, (status, code)) in cases {
        let answer = send(app, &request).await;
        assert_eq!(
            outcome(&answer),
            (status, code.to_owned()),
            "{what}: {}",
            answer.body
        );
    }
}

/// Status and error code of an answer.
fn outcome(answer: &Answer) -> (u16, String) {
    let code = if answer.status == 200 {
        String::new()
    } else {
        answer.error_code()
    };
    (answer.status, code)
}

#[tokio::test]
async fn two_feishu_apps_and_a_named_feilian_subscription_each_receive_their_own_events() {
    let setup = setup(false).await;
    let app = multi_app(&setup);
    for (request, endpoint) in [
        (
            feishu_to(
                "/feishu",
                FEISHU_TOKEN,
                FEISHU_KEY,
                "corehr.department.updated_v2",
            ),
            "feishu",
        ),
        (
            feishu_to(
                "/prod/feishu/lark-global",
                LARK_TOKEN,
                LARK_KEY,
                "contact.department.updated_v3",
            ),
            "feishu/lark-global",
        ),
        (
            feilian_to("/feilian/subsidiary", SUB_TOKEN, SUB_KEY),
            "feilian/subsidiary",
        ),
        (
            feilian_to("/feilian", FEILIAN_TOKEN, FEILIAN_KEY),
            "feilian",
        ),
    ] {
        let answer = send(&app, &request).await;
        assert_eq!(
            (answer.status, answer.json()),
            (200, json!({"ok": true, "enqueued": 1})),
            "{endpoint}"
        );
        let received = drain(&setup.client, &setup.queue).await;
        assert_eq!(received.len(), 1, "{endpoint}");
        assert_eq!(received[0].body["endpoint"], endpoint, "{endpoint}");
        assert_eq!(
            received[0].body["source"],
            endpoint.split('/').next().unwrap(),
            "{endpoint}"
        );
    }
}

#[tokio::test]
async fn each_endpoint_refuses_the_requests_of_the_others() {
    let setup = setup(false).await;
    let app = multi_app(&setup);
    let updated = "corehr.department.updated_v2";
    assert_refused(
        &app,
        [
            // Feishu: the signature is checked with the endpoint's own key first.
            (
                "the default app's request at lark-global",
                feishu_to("/feishu/lark-global", FEISHU_TOKEN, FEISHU_KEY, updated),
                (401, "bad_signature"),
            ),
            (
                "lark-global's request at the default endpoint",
                feishu_to("/feishu", LARK_TOKEN, LARK_KEY, updated),
                (401, "bad_signature"),
            ),
            // The other app's token under this app's key: signed, decrypted, refused.
            (
                "lark-global's token with the default key",
                feishu_to("/feishu", LARK_TOKEN, FEISHU_KEY, updated),
                (401, "bad_token"),
            ),
            // Feilian signs nothing: another subscription's key does not decrypt, the
            // same answer as any wrong key (no oracle), 401 like a wrong token.
            (
                "the default subscription's request at subsidiary",
                feilian_to("/feilian/subsidiary", FEILIAN_TOKEN, FEILIAN_KEY),
                (401, "undecryptable"),
            ),
            (
                "subsidiary's request at the default endpoint",
                feilian_to("/feilian", SUB_TOKEN, SUB_KEY),
                (401, "undecryptable"),
            ),
            (
                "subsidiary's token with the default key",
                feilian_to("/feilian", SUB_TOKEN, FEILIAN_KEY),
                (401, "bad_token"),
            ),
            (
                "the default token with subsidiary's key",
                feilian_to("/feilian/subsidiary", FEILIAN_TOKEN, SUB_KEY),
                (401, "bad_token"),
            ),
        ],
    )
    .await;
    // A refusal at a named endpoint says where its setting lives.
    let answer = send(
        &app,
        &feishu_to("/feishu/lark-global", LARK_TOKEN, FEISHU_KEY, updated),
    )
    .await;
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains(r#"ENDPOINTS["feishu/lark-global"].encrypt_key"#),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains(LARK_KEY));
    assert!(drain(&setup.client, &setup.queue).await.is_empty());
}

#[tokio::test]
async fn an_unknown_name_is_not_found_like_an_unknown_path() {
    let setup = setup(false).await;
    let app = multi_app(&setup);
    for path in [
        "/feishu/no-such-app",
        "/prod/feilian/no-such-subscription",
        "/feishu/lark-global/extra",
        "/feishu/Lark-Global",
    ] {
        let request = feishu_to(path, LARK_TOKEN, LARK_KEY, "corehr.department.updated_v2");
        let answer = send(&app, &request).await;
        assert_eq!(outcome(&answer), (404, "not_found".to_owned()), "{path}");
    }
    // A default endpoint without its token stays `source_disabled`.
    let only_named = app_with(
        &setup,
        &[("FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN)],
        &json!({"feilian/subsidiary": {"verification_token": SUB_TOKEN, "encrypt_key": SUB_KEY}})
            .to_string(),
    );
    let answer = send(
        &only_named,
        &feilian_to("/feilian", FEILIAN_TOKEN, FEILIAN_KEY),
    )
    .await;
    assert_eq!(outcome(&answer), (404, "source_disabled".to_owned()));
    let answer = send(
        &only_named,
        &feilian_to("/feilian/subsidiary", SUB_TOKEN, SUB_KEY),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(drain(&setup.client, &setup.queue).await.len(), 1);
}

/// An app with `vars` (no QUEUE_URL) and `ENDPOINTS` = `endpoints`.
fn app_with(setup: &Setup, vars: &[(&str, &str)], endpoints: &str) -> App<SqsQueue> {
    let mut all = vec![
        ("QUEUE_URL", setup.queue.as_str()),
        ("ENDPOINTS", endpoints),
    ];
    all.extend_from_slice(vars);
    app(&setup.client, &all)
}

#[tokio::test]
async fn the_challenge_is_answered_at_a_named_endpoint() {
    let setup = setup(false).await;
    let app = multi_app(&setup);
    let challenge = |token: &str| {
        json!({"challenge": "named-1", "token": token, "type": "url_verification"}).to_string()
    };
    let answer = send(
        &app,
        &HttpRequest::post(
            "/feishu/lark-global",
            encrypt(LARK_KEY, &challenge(LARK_TOKEN)),
        ),
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"challenge": "named-1"}))
    );
    let answer = send(
        &app,
        &HttpRequest::post(
            "/feilian/subsidiary",
            encrypt(SUB_KEY, &challenge(SUB_TOKEN)),
        ),
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            200,
            json!({"challenge": "named-1", "token": SUB_TOKEN, "type": "url_verification"})
        )
    );
    // Another app's challenge is refused there.
    let answer = send(
        &app,
        &HttpRequest::post(
            "/feishu/lark-global",
            encrypt(LARK_KEY, &challenge(FEISHU_TOKEN)),
        ),
    )
    .await;
    assert_eq!(outcome(&answer), (401, "bad_token".to_owned()));
    assert!(drain(&setup.client, &setup.queue).await.is_empty());
}

// Rotation.

const OLD_TOKEN: &str = "the-token-before-rotation";
const OLD_KEY: &str = "the-key-before-rotation";
const NEW_TOKEN: &str = "the-token-after-rotation";
const NEW_KEY: &str = "the-key-after-rotation";

/// A previous pair valid for one more hour of real time.
fn until_in_an_hour() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(3600)).to_string()
}

/// Two hours from now: the relay's clock once the previous pairs have expired.
fn two_hours_later() -> SystemTime {
    SystemTime::now() + Duration::from_secs(2 * 3600)
}

/// The default Feishu and Feilian endpoints, `feishu/lark-global` and
/// `feilian/subsidiary` mid-rotation: new values current, old ones previous until an
/// hour from now. The default Feilian endpoint rotates only its token (its key
/// stays); the others rotate both.
fn rotating_app(setup: &Setup) -> App<SqsQueue> {
    let until = until_in_an_hour();
    let endpoints = json!({
        "feishu": {"previous_verification_token": OLD_TOKEN, "previous_encrypt_key": OLD_KEY,
                   "previous_until": until},
        "feilian": {"previous_verification_token": OLD_TOKEN, "previous_until": until},
        "feishu/lark-global": {"verification_token": NEW_TOKEN, "encrypt_key": NEW_KEY,
                               "previous_verification_token": OLD_TOKEN,
                               "previous_encrypt_key": OLD_KEY, "previous_until": until},
        "feilian/subsidiary": {"verification_token": NEW_TOKEN, "encrypt_key": NEW_KEY,
                               "previous_verification_token": OLD_TOKEN,
                               "previous_encrypt_key": OLD_KEY, "previous_until": until},
    })
    .to_string();
    app_with(
        setup,
        &[
            ("FEISHU_VERIFICATION_TOKEN", NEW_TOKEN),
            ("FEISHU_ENCRYPT_KEY", NEW_KEY),
            ("FEILIAN_VERIFICATION_TOKEN", NEW_TOKEN),
            ("FEILIAN_ENCRYPT_KEY", FEILIAN_KEY),
        ],
        &endpoints,
    )
}

#[tokio::test]
async fn during_the_overlap_the_previous_and_the_current_pair_are_both_accepted() {
    let setup = setup(false).await;
    let app = rotating_app(&setup);
    let updated = "corehr.department.updated_v2";
    for (what, request, endpoint) in [
        (
            "feishu, previous",
            feishu_to("/feishu", OLD_TOKEN, OLD_KEY, updated),
            "feishu",
        ),
        (
            "feishu, current",
            feishu_to("/feishu", NEW_TOKEN, NEW_KEY, updated),
            "feishu",
        ),
        (
            "lark-global, previous",
            feishu_to("/feishu/lark-global", OLD_TOKEN, OLD_KEY, updated),
            "feishu/lark-global",
        ),
        (
            "lark-global, current",
            feishu_to("/feishu/lark-global", NEW_TOKEN, NEW_KEY, updated),
            "feishu/lark-global",
        ),
        (
            "feilian, previous token",
            feilian_to("/feilian", OLD_TOKEN, FEILIAN_KEY),
            "feilian",
        ),
        (
            "feilian, current token",
            feilian_to("/feilian", NEW_TOKEN, FEILIAN_KEY),
            "feilian",
        ),
        (
            "subsidiary, previous",
            feilian_to("/feilian/subsidiary", OLD_TOKEN, OLD_KEY),
            "feilian/subsidiary",
        ),
        (
            "subsidiary, current",
            feilian_to("/feilian/subsidiary", NEW_TOKEN, NEW_KEY),
            "feilian/subsidiary",
        ),
    ] {
        let answer = send(&app, &request).await;
        assert_eq!(answer.status, 200, "{what}: {}", answer.body);
        let received = drain(&setup.client, &setup.queue).await;
        assert_eq!(received.len(), 1, "{what}");
        assert_eq!(received[0].body["endpoint"], endpoint, "{what}");
    }
    // The challenge, with the old pair, while the console still has it.
    let challenge =
        json!({"challenge": "r-1", "token": OLD_TOKEN, "type": "url_verification"}).to_string();
    let answer = send(
        &app,
        &HttpRequest::post("/feishu", encrypt(OLD_KEY, &challenge)),
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"challenge": "r-1"}))
    );
}

#[tokio::test]
async fn one_pair_s_token_with_the_other_s_key_is_refused() {
    let setup = setup(false).await;
    let app = rotating_app(&setup);
    let updated = "corehr.department.updated_v2";
    for path in ["/feishu", "/feishu/lark-global"] {
        for (token, key) in [(OLD_TOKEN, NEW_KEY), (NEW_TOKEN, OLD_KEY)] {
            let answer = send(&app, &feishu_to(path, token, key, updated)).await;
            assert_eq!(
                outcome(&answer),
                (401, "bad_token".to_owned()),
                "{path} {token} {key}: {}",
                answer.body
            );
        }
    }
    // A third token, under the key both Feilian pairs share.
    let answer = send(&app, &feilian_to("/feilian", "a-third-token", FEILIAN_KEY)).await;
    assert_eq!(outcome(&answer), (401, "bad_token".to_owned()));
    // Feilian, each pair's token sealed with the other pair's key.
    for (token, key) in [(OLD_TOKEN, NEW_KEY), (NEW_TOKEN, OLD_KEY)] {
        let answer = send(&app, &feilian_to("/feilian/subsidiary", token, key)).await;
        assert_eq!(
            outcome(&answer),
            (401, "bad_token".to_owned()),
            "subsidiary {token} {key}: {}",
            answer.body
        );
    }
    assert!(drain(&setup.client, &setup.queue).await.is_empty());
}

#[tokio::test]
async fn after_the_expiry_the_previous_pair_is_refused() {
    let setup = setup(false).await;
    let mut app = rotating_app(&setup);
    app.clock = two_hours_later;
    let updated = "corehr.department.updated_v2";
    assert_refused(
        &app,
        [
            (
                "feishu, previous",
                feishu_to("/feishu", OLD_TOKEN, OLD_KEY, updated),
                (401, "bad_signature"),
            ),
            (
                "lark-global, previous",
                feishu_to("/feishu/lark-global", OLD_TOKEN, OLD_KEY, updated),
                (401, "bad_signature"),
            ),
            (
                "feilian, previous token",
                feilian_to("/feilian", OLD_TOKEN, FEILIAN_KEY),
                (401, "bad_token"),
            ),
            // Feilian signs nothing: the expired key no longer decrypts anything.
            (
                "subsidiary, previous",
                feilian_to("/feilian/subsidiary", OLD_TOKEN, OLD_KEY),
                (401, "undecryptable"),
            ),
        ],
    )
    .await;
    // The current pair goes on.
    let answer = send(&app, &feishu_to("/feishu", NEW_TOKEN, NEW_KEY, updated)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(drain(&setup.client, &setup.queue).await.len(), 1);
}

#[tokio::test]
async fn named_endpoints_and_previous_pairs_come_from_the_secret() {
    let setup = setup(false).await;
    let sdk = sdk_config(&moto_endpoint()).await;
    let mut secret: Value = serde_json::from_str(&secrets_json()).unwrap();
    secret["FEISHU_VERIFICATION_TOKEN"] = json!(NEW_TOKEN);
    secret["FEISHU_ENCRYPT_KEY"] = json!(NEW_KEY);
    secret["ENDPOINTS"] = json!({
        "feishu": {"previous_verification_token": OLD_TOKEN, "previous_encrypt_key": OLD_KEY,
                   "previous_until": until_in_an_hour()},
        "feishu/lark-global": {"verification_token": LARK_TOKEN, "encrypt_key": LARK_KEY},
    });
    let arn = create_secret(Some(&secret.to_string())).await;
    let config: Config = load_config(
        &sdk,
        lookup(&[("QUEUE_URL", &setup.queue), ("SECRET_ID", &arn)]),
    )
    .await
    .expect("the configuration loads from the secret");
    let queue = SqsQueue::new(setup.client.clone(), &config.queue);
    let app = App::new(config, queue, None);
    let updated = "corehr.department.updated_v2";
    for request in [
        feishu_to("/feishu", OLD_TOKEN, OLD_KEY, updated),
        feishu_to("/feishu", NEW_TOKEN, NEW_KEY, updated),
        feishu_to("/feishu/lark-global", LARK_TOKEN, LARK_KEY, updated),
    ] {
        let answer = send(&app, &request).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let endpoints: Vec<String> = drain(&setup.client, &setup.queue)
        .await
        .iter()
        .map(|message| message.body["endpoint"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(endpoints, ["feishu", "feishu", "feishu/lark-global"]);

    // ENDPOINTS beside SECRET_ID is refused, like every secret.
    let err = load_config(
        &sdk,
        lookup(&[
            ("QUEUE_URL", &setup.queue),
            ("SECRET_ID", &arn),
            ("ENDPOINTS", &named_endpoints()),
        ]),
    )
    .await
    .expect_err("refused");
    assert!(err.to_string().starts_with("ENDPOINTS is invalid"), "{err}");
}

#[tokio::test]
async fn one_event_id_at_two_endpoints_is_two_messages_and_a_retry_at_one_is_dropped() {
    // FIFO deduplicates on the message id, which names a named endpoint.
    let setup = setup(true).await;
    let app = multi_app(&setup);
    let plaintext = dated(&sample("feilian/department.v1.update.json"), now_millis());
    let to = |path: &str, token: &str, key: &str| {
        HttpRequest::post(path, encrypt(key, &with_token(&plaintext, token)))
    };
    for request in [
        to("/feilian", FEILIAN_TOKEN, FEILIAN_KEY),
        to("/feilian/subsidiary", SUB_TOKEN, SUB_KEY),
        to("/feilian/subsidiary", SUB_TOKEN, SUB_KEY),
    ] {
        let answer = send(&app, &request).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let event_id = serde_json::from_str::<Value>(&plaintext).expect("JSON")["header"]["event_id"]
        .as_str()
        .expect("an event id")
        .to_owned();
    let received = drain(&setup.client, &setup.queue).await;
    let ids: Vec<(&str, Option<&str>)> = received
        .iter()
        .map(|m| {
            (
                m.body["id"].as_str().unwrap_or_default(),
                m.dedup_id.as_deref(),
            )
        })
        .collect();
    let default = format!("feilian:{event_id}:0");
    let named = format!("feilian/subsidiary:{event_id}:0");
    assert_eq!(
        ids,
        [
            (default.as_str(), Some(default.as_str())),
            (named.as_str(), Some(named.as_str())),
        ]
    );
}
