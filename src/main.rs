//! The Lambda function. `main` does four things, in order: logging, configuration
//! (environment and secret), clients, and the runtime loop. Everything expensive happens here, once.

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
    // JSON lines when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_http::tracing::init_default_subscriber();
    // A panic `handle_event` catches is logged as its request's line, not by the
    // default hook too; any other panic still is.
    install_panic_hook();

    let env = |name: &str| std::env::var(name).ok();
    // Run by hand (`cargo run`), the runtime would panic on its first missing variable.
    if let Some(var) = startup::outside_lambda(env) {
        eprintln!("{}", startup::outside_lambda_message(var));
        std::process::exit(2);
    }
    // Before the SDK loads: without a region it would ask IMDS, and with SECRET_ID
    // beside secrets the read would be wasted.
    let names = std::env::vars_os().map(|(name, _)| name);
    if let Err(err) = check_environment(env, names) {
        refuse(err);
    }
    // The SDK configuration is read here, once. With SECRET_ID set, the secret is
    // read now, before the first request: one TLS connection to Secrets Manager
    // during init. SQS is first connected by the first event, so the URL
    // verification (which never touches SQS) does not wait for it.
    let sdk = load_sdk_config().await;
    let config = match load_config(&sdk, env).await {
        Ok(config) => config,
        Err(err) => refuse(err),
    };
    // Fingerprints (never the secrets), what each endpoint requires, warnings.
    startup::log(&config);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = SqsQueue::new(sqs.clone(), &config.queue);
    let quarantine = config
        .quarantine
        .as_ref()
        .map(|quarantine| SqsQueue::new(sqs, quarantine));
    let app = App::new(config, queue);
    let app = Arc::new(match quarantine {
        Some(quarantine) => app.with_quarantine(quarantine),
        None => app,
    });

    // What `lambda_http::run` does, with the event's conversion into an HTTP request
    // guarded: `handle_event` answers even the events lambda_http cannot read.
    // `run_concurrent` polls once at a time unless AWS_LAMBDA_MAX_CONCURRENCY is
    // above 1 (Lambda Managed Instances); `run` would warn whenever it is set.
    lambda_runtime::run_concurrent(service_fn(move |event| {
        let app = Arc::clone(&app);
        async move { handle_event(&app, event).await }
    }))
    .await
}

/// One clear line, then a non-zero exit: Lambda reports an init error and no request
/// is ever taken with a half-valid configuration.
fn refuse(err: impl Display) -> ! {
    eprintln!("org-change-relay: configuration error: {err}");
    std::process::exit(2);
}
