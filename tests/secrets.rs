//! The tokens and keys from a real Secrets Manager (moto's): read once at start,
//! then the relay verifies with them; a missing or malformed secret stops the start
//! with one error naming the secret and never its content.

mod common;

use common::*;
use org_change_relay::http::App;
use org_change_relay::queue::sqs::SqsQueue;
use org_change_relay::secrets::{StartError, load_config};
use serde_json::Value;

#[tokio::test]
async fn the_relay_verifies_with_the_tokens_and_keys_of_the_secret() {
    let Setup { client, queue } = setup(false).await;
    let sdk = sdk_config(&moto_endpoint()).await;
    let arn = create_secret(Some(&secrets_json())).await;

    let config = load_config(&sdk, lookup(&[("QUEUE_URL", &queue), ("SECRET_ID", &arn)]))
        .await
        .expect("the configuration loads from the secret");
    let queue_client = SqsQueue::new(client.clone(), &config.queue);
    let app = App::new(config, queue_client, None);

    let feishu = send(
        &app,
        &feishu_event(&sample("feishu/corehr.department.created_v1.json")),
    )
    .await;
    assert_eq!(feishu.status, 200, "{}", feishu.body);
    let feilian = send(
        &app,
        &feilian_event(&sample("feilian/department.v1.update.json")),
    )
    .await;
    assert_eq!(feilian.status, 200, "{}", feilian.body);
    // A request sealed with another key is refused: the keys really come from the secret.
    let forged = send(
        &app,
        &HttpRequest::post(
            "/feilian",
            encrypt("not-the-key", &sample("feilian/department.v1.update.json")),
        ),
    )
    .await;
    assert_eq!(
        (forged.status, forged.error_code()),
        (401, "undecryptable".into())
    );

    let sources: Vec<String> = drain(&client, &queue)
        .await
        .iter()
        .map(|message| {
            message.body["source"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        sources.contains(&"feishu".to_owned()) && sources.contains(&"feilian".to_owned()),
        "{sources:?}"
    );
}

#[tokio::test]
async fn a_secret_that_cannot_be_used_stops_the_start_with_one_clear_error() {
    let Setup { queue, .. } = setup(false).await;
    let sdk = sdk_config(&moto_endpoint()).await;
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-secret-AbCdEf";
    let binary = create_secret(None).await;
    let malformed = create_secret(Some(r#"{"FEISHU_TOKEN": "s3cr3t"}"#)).await;
    let empty = create_secret(Some(r#"{"FEISHU_VERIFICATION_TOKEN": ""}"#)).await;

    for (id, expected) in [
        (missing, "ResourceNotFoundException"),
        (binary.as_str(), "no SecretString"),
        (malformed.as_str(), "unknown key \"FEISHU_TOKEN\""),
        (empty.as_str(), "no source is enabled"),
    ] {
        let err = load_config(&sdk, lookup(&[("QUEUE_URL", &queue), ("SECRET_ID", id)]))
            .await
            .expect_err("the start is refused");
        let text = err.to_string();
        assert!(text.contains(expected), "{id}: {text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        if matches!(err, StartError::Secret { .. }) {
            assert!(
                text.starts_with("SECRET_ID: cannot read secret") && text.contains(id),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn a_secret_setting_may_not_also_sit_in_the_environment() {
    let Setup { queue, .. } = setup(false).await;
    let sdk = sdk_config(&moto_endpoint()).await;
    let arn = create_secret(Some(r#"{"FEISHU_VERIFICATION_TOKEN": "t"}"#)).await;
    let err = load_config(
        &sdk,
        lookup(&[
            ("QUEUE_URL", &queue),
            ("SECRET_ID", &arn),
            ("FEISHU_VERIFICATION_TOKEN", "t"),
        ]),
    )
    .await
    .expect_err("refused");
    assert!(
        err.to_string()
            .contains("FEISHU_VERIFICATION_TOKEN is invalid"),
        "{err}"
    );
}

#[tokio::test]
async fn a_secret_that_gives_a_key_twice_is_refused_naming_the_key_not_the_value() {
    let Setup { queue, .. } = setup(false).await;
    let sdk = sdk_config(&moto_endpoint()).await;
    for (text, place) in [
        (
            r#"{"FEISHU_VERIFICATION_TOKEN": "t", "FEISHU_ENCRYPT_KEY": "s3cr3t-key", "FEISHU_ENCRYPT_KEY": ""}"#,
            "FEISHU_ENCRYPT_KEY",
        ),
        (
            r#"{"ENDPOINTS": {"feishu/x": {"verification_token": "t", "encrypt_key": "s3cr3t-key", "encrypt_key": ""}}}"#,
            r#"ENDPOINTS["feishu/x"].encrypt_key"#,
        ),
    ] {
        let arn = create_secret(Some(text)).await;
        let err = load_config(&sdk, lookup(&[("QUEUE_URL", &queue), ("SECRET_ID", &arn)]))
            .await
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            format!(
                "{place} is given more than once in the secret named by SECRET_ID; give each name once (a repeated name silently replaces the one before it)"
            )
        );
    }
}

#[tokio::test]
async fn a_secret_setting_in_the_environment_is_refused_before_the_secret_is_read() {
    let Setup { queue, .. } = setup(false).await;
    let sdk = sdk_config(&moto_endpoint()).await;
    // No such secret: a read would fail with ResourceNotFoundException.
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-secret-AbCdEf";
    let err = load_config(
        &sdk,
        lookup(&[
            ("QUEUE_URL", &queue),
            ("SECRET_ID", missing),
            ("FEILIAN_ENCRYPT_KEY", "s3cr3t-key"),
        ]),
    )
    .await
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "FEILIAN_ENCRYPT_KEY is invalid: it is set in the environment although SECRET_ID is; keep secrets in the secret only"
    );
}

#[tokio::test]
async fn an_app_secret_in_the_secret_is_fingerprinted_at_start_and_never_printed() {
    let Setup { queue, .. } = setup(false).await;
    let app_secret = "App-s3cr3t-that-must-not-leak";
    let secret = serde_json::json!({
        "FEISHU_VERIFICATION_TOKEN": "t",
        "FEISHU_APP_ID": "cli_a1b2c3",
        "FEISHU_APP_SECRET": app_secret,
        "ENDPOINTS": {"feishu/lark-global": {
            "verification_token": "t2", "app_id": "cli_lark", "app_secret": app_secret, "api_host": "lark"
        }},
    });
    let arn = create_secret(Some(&secret.to_string())).await;
    let moto = moto_endpoint();
    // The relay as Lambda starts it. Nothing answers at the runtime's address, so it exits
    // after its start-up lines.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_org-change-relay"))
        .env_clear()
        .envs([
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
            ("AWS_LAMBDA_FUNCTION_NAME", "org-change-relay"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", moto.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("QUEUE_URL", queue.as_str()),
            ("SECRET_ID", arn.as_str()),
            ("FEISHU_API_HOST", "lark"),
        ])
        .output()
        .expect("the binary runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let fingerprints: Vec<(String, String)> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("secret fingerprint"))
        })
        .map(|line| {
            let field = |name: &str| line["fields"][name].as_str().unwrap_or_default().to_owned();
            (field("variable"), field("fingerprint"))
        })
        .collect();
    // printf 'org-change-relay/fingerprint/v1:%s' App-s3cr3t-that-must-not-leak | sha256sum | cut -c1-8
    let expected = "007a7e74";
    for place in [
        "FEISHU_APP_SECRET",
        r#"ENDPOINTS["feishu/lark-global"].app_secret"#,
    ] {
        assert!(
            fingerprints.contains(&(place.to_owned(), expected.to_owned())),
            "{place}: {fingerprints:?}"
        );
    }
    assert!(
        !fingerprints
            .iter()
            .any(|(place, _)| place.contains("APP_ID") || place.ends_with("app_id")),
        "{fingerprints:?}"
    );
    assert!(
        !stdout.contains(app_secret) && !stderr.contains(app_secret),
        "{stdout}{stderr}"
    );
}
