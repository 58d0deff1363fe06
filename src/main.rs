//! The Lambda function. `main` does four things, in order: logging, configuration,
//! clients, and the runtime loop. Everything expensive happens here, once.

use lambda_http::{Error, service_fn};
use org_change_relay::config::Config;
use org_change_relay::http::{App, handle};
use org_change_relay::queue::sqs::{SqsQueue, load_sdk_config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // JSON lines when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_http::tracing::init_default_subscriber();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            // One clear line, then a non-zero exit: Lambda reports an init error and
            // no request is ever taken with a half-valid configuration.
            eprintln!("org-change-relay: configuration error: {err}");
            std::process::exit(2);
        }
    };

    // The SDK configuration is read here, once; credentials are resolved lazily and
    // the first connection is made by the first event, so the URL verification
    // (which never touches SQS) is answered without waiting for either.
    let sdk = load_sdk_config().await;
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), &config.queue);
    let app = App::new(config, queue);

    lambda_http::run(service_fn(|request| handle(&app, request))).await
}
