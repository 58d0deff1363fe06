//! The enricher function: `main` sets up logging, configuration, clients and the runtime
//! loop. Everything expensive happens here, once.

use std::fmt::Display;
use std::sync::Arc;

use lambda_http::lambda_runtime::{self, Error, service_fn};
use org_change_enrich::Enricher;
use org_change_relay::aws::load_sdk_config;
use org_change_relay::enrich::forward::EnrichedQueue;
use org_change_relay::enrich::handler::{Enrichment, handle};
use org_change_relay::enrich::settings::{self, load};
use org_change_relay::enrich::startup;
use org_change_relay::enrich::transport::HttpTransport;
use org_change_relay::startup::missing_lambda_var;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // JSON lines when the function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT`).
    lambda_http::tracing::init_default_subscriber();

    let env = |name: &str| std::env::var(name).ok();
    // Run by hand, the runtime would panic on its first missing variable.
    if let Some(var) = missing_lambda_var(env) {
        eprintln!("{}", startup::outside_lambda_message(var));
        std::process::exit(2);
    }
    let names: Vec<_> = std::env::vars_os().map(|(name, _)| name).collect();
    if let Err(err) = settings::check(env, names) {
        refuse(err);
    }
    let sdk = load_sdk_config().await;
    let settings = match load(&sdk, env).await {
        Ok(settings) => settings,
        Err(err) => refuse(err),
    };
    // Fingerprints and App IDs, never the secrets.
    startup::log(&settings);
    let enricher = match Enricher::new(settings.logic_apps()).with_share(settings.share) {
        Ok(enricher) => enricher,
        Err(err) => refuse(err),
    };
    let queue = EnrichedQueue::new(aws_sdk_sqs::Client::new(&sdk), &settings.queue);
    let enrichment = Arc::new(Enrichment::new(enricher, HttpTransport::default(), queue));

    // Concurrent invocations of one instance (`AWS_LAMBDA_MAX_CONCURRENCY` above 1) take
    // turns on the enricher, so they share its tokens and rate limits.
    lambda_runtime::run_concurrent(service_fn(move |event| {
        let enrichment = Arc::clone(&enrichment);
        async move { handle(&enrichment, event).await }
    }))
    .await
}

/// One clear line, then a non-zero exit. Lambda reports an init error, and no batch meets
/// a half-valid configuration.
fn refuse(err: impl Display) -> ! {
    eprintln!("org-change-enricher: configuration error: {err}");
    std::process::exit(2);
}
