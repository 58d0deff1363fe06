//! The enricher's start-up lines: a fingerprint per secret, as the relay logs them, and
//! whether each endpoint's messages are enriched.

use lambda_http::tracing;

use super::settings::Settings;
use crate::config::open_app::OpenApp;
use crate::startup::FINGERPRINT_MESSAGE;

/// What happens to an endpoint's messages. The App ID is no secret: every event carries it.
pub fn endpoint_line(app: Option<&OpenApp>) -> String {
    match app {
        Some(app) => format!("enriches with app {} at {}", app.app_id, app.api_base),
        None => "passes its messages through unchanged (no app credentials)".to_owned(),
    }
}

/// What `org-change-enricher` is and how it is run.
pub fn outside_lambda_message(var: &str) -> String {
    format!(
        "org-change-enricher: {var} is not set: this is an AWS Lambda function, run by Lambda with the relay's queue as its event source; deploy it with the template's enricher option"
    )
}

/// The start-up lines.
pub fn log(settings: &Settings) {
    for (variable, fingerprint) in &settings.fingerprints {
        tracing::info!(
            variable = variable.as_str(),
            fingerprint = fingerprint.as_str(),
            "{FINGERPRINT_MESSAGE}"
        );
    }
    for endpoint in &settings.endpoints {
        let line = endpoint_line(settings.apps.get(endpoint));
        tracing::info!(endpoint = endpoint.as_str(), "{line}");
    }
    tracing::info!(
        queue = settings.queue.url.as_str(),
        fifo = settings.queue.fifo,
        share = settings.share,
        "enriched queue"
    );
}
