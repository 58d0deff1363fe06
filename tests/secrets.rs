//! The tokens and keys from a real Secrets Manager (moto's): read once at start,
//! then the relay verifies with them; a missing or malformed secret stops the start
//! with one error naming the secret and never its content.

mod common;

use std::collections::HashMap;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_secretsmanager::config::{Credentials, Region};
use aws_sdk_secretsmanager::primitives::Blob;
use common::*;
use org_change_relay::http::App;
use org_change_relay::queue::sqs::{SqsQueue, with_deadlines};
use org_change_relay::secrets::{StartError, load_config};
use serde_json::json;

async fn sdk() -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto_endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"));
    with_deadlines(loader).load().await
}

/// A new secret on moto holding `text`; its ARN.
async fn create_secret(sdk: &SdkConfig, name: &str, text: Option<&str>) -> String {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let name = format!("relay-test-{}-{name}", std::process::id());
    let request = client.create_secret().name(name);
    let request = match text {
        Some(text) => request.secret_string(text),
        None => request.secret_binary(Blob::new(b"\x00binary".to_vec())),
    };
    let output = request.send().await.expect("moto creates the secret");
    output.arn().expect("an ARN").to_owned()
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

#[tokio::test]
async fn the_relay_verifies_with_the_tokens_and_keys_of_the_secret() {
    let Setup { client, queue } = setup(false).await;
    let sdk = sdk().await;
    let secret = json!({
        "FEISHU_VERIFICATION_TOKEN": FEISHU_TOKEN,
        "FEISHU_ENCRYPT_KEY": FEISHU_KEY,
        "FEILIAN_VERIFICATION_TOKEN": FEILIAN_TOKEN,
        "FEILIAN_ENCRYPT_KEY": FEILIAN_KEY,
    });
    let arn = create_secret(&sdk, "good", Some(&secret.to_string())).await;

    let config = load_config(&sdk, env(&[("QUEUE_URL", &queue), ("SECRET_ID", &arn)]))
        .await
        .expect("the configuration loads from the secret");
    let queue_client = SqsQueue::new(client.clone(), &config.queue);
    let app = App::new(config, queue_client);

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
    assert_eq!(forged.error_code(), "undecryptable");

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
    let sdk = sdk().await;
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-secret-AbCdEf";
    let binary = create_secret(&sdk, "binary", None).await;
    let malformed = create_secret(&sdk, "malformed", Some(r#"{"FEISHU_TOKEN": "s3cr3t"}"#)).await;
    let empty = create_secret(&sdk, "empty", Some(r#"{"FEISHU_VERIFICATION_TOKEN": ""}"#)).await;

    for (id, expected) in [
        (missing, "ResourceNotFoundException"),
        (binary.as_str(), "no SecretString"),
        (malformed.as_str(), "unknown key \"FEISHU_TOKEN\""),
        (empty.as_str(), "no source is enabled"),
    ] {
        let err = load_config(&sdk, env(&[("QUEUE_URL", &queue), ("SECRET_ID", id)]))
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
    let sdk = sdk().await;
    let arn = create_secret(
        &sdk,
        "doubled",
        Some(r#"{"FEISHU_VERIFICATION_TOKEN": "t"}"#),
    )
    .await;
    let err = load_config(
        &sdk,
        env(&[
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
