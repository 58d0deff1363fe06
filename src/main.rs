//! The Lambda function. `main` does four things, in order: logging, configuration
//! (environment and secret), clients, and the runtime loop. Everything expensive happens here, once.

use lambda_http::{Error, lambda_runtime, service_fn, tracing};
use org_change_relay::aws::load_sdk_config;
use org_change_relay::http::{App, handle_event, install_panic_hook};
use org_change_relay::queue::sqs::SqsQueue;
use org_change_relay::secrets::load_config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // JSON lines when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_http::tracing::init_default_subscriber();
    // A panic `handle_event` catches is logged as its request's line, not by the
    // default hook too; any other panic still is.
    install_panic_hook();

    // The SDK configuration is read here, once. With SECRET_ID set, the secret is
    // read now, before the first request: one TLS connection to Secrets Manager
    // during init. SQS is first connected by the first event, so the URL
    // verification (which never touches SQS) does not wait for it.
    let sdk = load_sdk_config().await;
    let config = match load_config(&sdk, |name| std::env::var(name).ok()).await {
        Ok(config) => config,
        Err(err) => {
            // One clear line, then a non-zero exit: Lambda reports an init error and
            // no request is ever taken with a half-valid configuration.
            eprintln!("org-change-relay: configuration error: {err}");
            std::process::exit(2);
        }
    };
    // One line per secret that is set: its fingerprint (`config::fingerprint`), to
    // compare with the console's value without the secret itself ever being logged.
    // Every named endpoint's and every previous pair's secrets included
    // (`ENDPOINTS["feishu/lark-global"].encrypt_key`).
    for (variable, fingerprint) in &config.fingerprints {
        tracing::info!(
            variable = variable.as_str(),
            fingerprint = fingerprint.as_str(),
            "secret fingerprint (printf 'org-change-relay/fingerprint/v1:%s' VALUE | sha256sum | cut -c1-8)"
        );
    }
    // One line per endpoint, and when its previous pair stops being accepted.
    for (endpoint, settings) in &config.endpoints {
        let previous_until = settings
            .previous_until()
            .map(|until| humantime::format_rfc3339_seconds(until).to_string());
        tracing::info!(
            endpoint = endpoint.as_str(),
            previous_until = previous_until.as_deref(),
            "endpoint enabled"
        );
    }
    // A previous pair already expired: ignored, and worth removing from the secret.
    for warning in &config.warnings {
        tracing::warn!(warning = warning.as_str(), "configuration warning");
    }
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = SqsQueue::new(sqs.clone(), &config.queue);
    let quarantine = config
        .quarantine
        .as_ref()
        .map(|quarantine| SqsQueue::new(sqs, quarantine));
    let app = App::new(config, queue);
    let app = match quarantine {
        Some(quarantine) => app.with_quarantine(quarantine),
        None => app,
    };

    // What `lambda_http::run` does, with the event's conversion into an HTTP request
    // guarded: `handle_event` answers even the events lambda_http cannot read.
    lambda_runtime::run(service_fn(|event| handle_event(&app, event))).await
}
