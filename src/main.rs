//! The Lambda function. `main` sets up logging, configuration, clients, and the runtime
//! loop, in that order. Everything expensive happens here, once.

use std::fmt::Display;
use std::sync::Arc;

use lambda_http::{Error, lambda_runtime, service_fn};
use org_change_relay::aws::load_sdk_config;
use org_change_relay::config::check_environment;
use org_change_relay::http::{App, handle_event, install_panic_hook};
use org_change_relay::queue::sqs::SqsQueue;
use org_change_relay::secrets::load_config;
use org_change_relay::startup;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // JSON lines when the function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT`).
    lambda_http::tracing::init_default_subscriber();
    install_panic_hook();

    let env = |name: &str| std::env::var(name).ok();
    // Run by hand, the runtime would panic on its first missing variable.
    if let Some(message) = startup::outside_lambda(env) {
        eprintln!("{message}");
        std::process::exit(2);
    }
    // Without a region the SDK would ask IMDS.
    let names = std::env::vars_os().map(|(name, _)| name);
    check_environment(env, names).unwrap_or_else(|err| refuse(err));
    // The secret is read during init, before the first request. SQS is first connected by
    // the first event, so a URL verification does not wait for it.
    let sdk = load_sdk_config().await;
    let config = load_config(&sdk, env)
        .await
        .unwrap_or_else(|err| refuse(err));
    // Fingerprints, never the secrets.
    startup::log(&config);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = SqsQueue::new(sqs.clone(), &config.queue);
    let quarantine = config
        .quarantine
        .as_ref()
        .map(|quarantine| SqsQueue::new(sqs, quarantine));
    let app = Arc::new(App::new(config, queue, quarantine));

    // `lambda_http::run`, with the event's conversion guarded by `handle_event`.
    // `run_concurrent` polls one event at a time unless `AWS_LAMBDA_MAX_CONCURRENCY` is
    // above 1. `run` would warn whenever that is set.
    lambda_runtime::run_concurrent(service_fn(move |event| {
        let app = Arc::clone(&app);
        async move { handle_event(&app, event).await }
    }))
    .await
}

/// One clear line, then a non-zero exit. Lambda reports an init error, and no request meets
/// a half-valid configuration.
fn refuse(err: impl Display) -> ! {
    eprintln!("org-change-relay: configuration error: {err}");
    std::process::exit(2);
}
