//! The Lambda function. `main` does four things, in order: logging, configuration
//! (environment and secret), clients, and the runtime loop. Everything expensive happens here, once.

use lambda_http::{Error, lambda_runtime, service_fn};
use org_change_relay::aws::load_sdk_config;
use org_change_relay::http::{App, handle_event};
use org_change_relay::queue::sqs::SqsQueue;
use org_change_relay::secrets::load_config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // JSON lines when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_http::tracing::init_default_subscriber();

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
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), &config.queue);
    let app = App::new(config, queue);

    // What `lambda_http::run` does, with the event's conversion into an HTTP request
    // guarded: `handle_event` answers even the events lambda_http cannot read.
    lambda_runtime::run(service_fn(|event| handle_event(&app, event))).await
}
