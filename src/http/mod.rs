//! The Lambda HTTP adapter: an API Gateway (REST or HTTP API) or Function URL
//! request in, a response out. It routes, applies the size limit, hands the raw
//! body to the protocol core, publishes what the core verified, and writes one log
//! line and one metrics line.
//!
//! [`handle_event`] is what the Lambda runtime calls: it turns the event into an HTTP
//! request with lambda_http's own conversion, guarded against the inputs on which
//! that conversion panics, and hands the request to [`handle`].

pub mod metrics;
pub mod reply;
pub mod route;

use std::convert::Infallible;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use lambda_http::request::LambdaRequest;
use lambda_http::{
    Adapter, Body, LambdaEvent, Request, Response, Service, TransformResponse, service_fn, tracing,
};
use serde::Serialize;

use crate::config::{ChallengeReply, Config};
use crate::protocol::signature::{NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::protocol::{Delivery, Inbound, Rejection, SignatureHeaders, Source, receive};
use crate::queue::{PublishPolicy, Queue, publish};
use metrics::{Counts, Outcome};
use reply::{Failure, Handled};

/// How long the relay waits for SQS before answering 503: inside the platforms'
/// 3-second deadline, whatever the SDK is doing (PROTOCOL.md, "Delivery"). It caps
/// the whole publication of a request ([`PublishPolicy::deadline`]).
pub const ENQUEUE_DEADLINE: Duration = Duration::from_millis(2_500);

/// Everything a request needs, built once at start.
pub struct App<Q> {
    pub config: Config,
    pub queue: Q,
    pub publish: PublishPolicy,
}

impl<Q: Queue> App<Q> {
    pub fn new(config: Config, queue: Q) -> Self {
        Self {
            config,
            queue,
            publish: PublishPolicy::default(),
        }
    }
}

/// The Lambda function: an API Gateway (REST or HTTP API) or Function URL event in,
/// the response in that event's format out. It never fails: every event gets a JSON
/// answer from the relay.
///
/// lambda_http (1.3) converts the event into an HTTP request with `expect`s and
/// `unwrap`s, and so panics, before any handler runs, on a `Host` header that is not
/// a valid host (`a b`), a path too long for an `http::Uri` (64 KiB), or a body
/// marked `isBase64Encoded` that is not base64 (`into_api_gateway_v2_request`,
/// `into_proxy_request`, `build_request_uri` in its `request.rs`;
/// `Body::from_maybe_encoded` in aws_lambda_events). The runtime would catch the
/// panic and report an error, which API Gateway turns into a 502 without a body.
/// Here the conversion, which `Adapter::call` does before it returns the future,
/// runs inside `catch_unwind`, and a panic in it is answered 400
/// `unreadable_request`, in the response format of the event's origin (lambda_http's
/// own, through the same `TransformResponse`). The release profile must keep
/// `panic = "unwind"` (the default) for this to work.
pub async fn handle_event<Q: Queue>(
    app: &App<Q>,
    event: LambdaEvent<LambdaRequest>,
) -> Result<impl Serialize + use<Q>, Infallible> {
    let started = Instant::now();
    let origin = event.payload.request_origin();
    let mut adapter = Adapter::from(service_fn(|request| handle(app, request)));
    let answer = match catch_unwind(AssertUnwindSafe(|| adapter.call(event))) {
        Ok(answer) => answer,
        Err(_panic) => {
            // The panic's text names the parse error, and the default hook has
            // written it to stderr already; it is not repeated in the answer.
            let outcome = Err(Failure::UnreadableEvent);
            let response = reply::respond(&outcome);
            record(
                &app.config.metrics_namespace,
                None,
                &outcome,
                response.status().as_u16(),
                started.elapsed(),
            );
            TransformResponse::Response(origin, Box::pin(std::future::ready(response)))
        }
    };
    answer.await
}

/// The HTTP handler. It never fails: every outcome is a response.
pub async fn handle<Q: Queue>(
    app: &App<Q>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let routed = route::route(request.method(), request.uri().path());
    let outcome = match &routed {
        Ok(source) => process(app, *source, &request).await,
        Err(err) => Err(Failure::Route(err.clone())),
    };
    let response = reply::respond(&outcome);
    record(
        &app.config.metrics_namespace,
        routed.ok(),
        &outcome,
        response.status().as_u16(),
        started.elapsed(),
    );
    Ok(response)
}

async fn process<Q: Queue>(
    app: &App<Q>,
    source: Source,
    request: &Request,
) -> Result<Handled, Failure> {
    let endpoint = app
        .config
        .endpoint(source)
        .ok_or(Failure::SourceDisabled(source))?;
    let body: &[u8] = request.body().as_ref();
    if body.len() > app.config.max_body_bytes {
        return Err(Failure::Rejected(Rejection::BodyTooLarge {
            size: body.len(),
            limit: app.config.max_body_bytes,
        }));
    }
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let signature = match (
        header(TIMESTAMP_HEADER),
        header(NONCE_HEADER),
        header(SIGNATURE_HEADER),
    ) {
        (Some(timestamp), Some(nonce), Some(signature)) => Some(SignatureHeaders {
            timestamp,
            nonce,
            signature,
        }),
        _ => None,
    };

    match receive(endpoint, Inbound { body, signature }).map_err(Failure::Rejected)? {
        Delivery::Challenge(value) => Ok(Handled::Challenge {
            value,
            reply: match source {
                Source::Feishu => ChallengeReply::Json,
                Source::Feilian => app.config.feilian_challenge_reply,
            },
        }),
        Delivery::Ignored(event) => Ok(Handled::Ignored(event)),
        Delivery::Changes(batch) => {
            let event = batch.event().clone();
            // Capped by `app.publish.deadline` (ENQUEUE_DEADLINE).
            match publish(&app.queue, &batch, app.publish).await {
                Ok(count) => Ok(Handled::Enqueued { event, count }),
                Err(error) => Err(Failure::Enqueue { event, error }),
            }
        }
    }
}

/// One structured log line and one metrics line per request. Neither carries a
/// secret or any decrypted content: error messages are written so that they cannot.
fn record(
    namespace: &str,
    source: Option<Source>,
    outcome: &Result<Handled, Failure>,
    status: u16,
    elapsed: Duration,
) {
    let (event, enqueued) = match outcome {
        Ok(Handled::Challenge { .. }) => (None, 0),
        Ok(Handled::Enqueued { event, count }) => (Some(event), *count),
        Ok(Handled::Ignored(event)) => (Some(event), 0),
        Err(Failure::Enqueue { event, error }) => (Some(event), error.enqueued),
        Err(failure) => (failure.event(), 0),
    };
    let counts = Counts {
        source,
        outcome: match outcome {
            Ok(Handled::Challenge { .. }) => Outcome::Challenge,
            Ok(Handled::Enqueued { .. }) => Outcome::Enqueued,
            Ok(Handled::Ignored(_)) => Outcome::Ignored,
            Err(failure) if failure.not_enqueued() || status >= 500 => Outcome::Failed,
            Err(_) => Outcome::Rejected,
        },
        reason: outcome.as_ref().err().map(Failure::code),
        enqueued,
    };
    metrics::emit(namespace, &counts);

    let source = source.map(Source::as_str);
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let event_type = event.map(|e| e.event_type.as_str());
    let event_id = event.map(|e| e.event_id.as_str());
    let outcome_name = counts.outcome.as_str();
    match outcome {
        Ok(_) => {
            tracing::info!(
                source,
                event_type,
                event_id,
                outcome = outcome_name,
                status,
                enqueued,
                duration_ms,
                "request handled"
            );
        }
        Err(failure) => {
            let (error, message) = (failure.code(), failure.message());
            if counts.outcome == Outcome::Failed {
                tracing::error!(
                    source,
                    event_type,
                    event_id,
                    outcome = outcome_name,
                    error,
                    detail = message.as_str(),
                    status,
                    enqueued,
                    duration_ms,
                    "not enqueued"
                );
            } else {
                tracing::warn!(
                    source,
                    outcome = outcome_name,
                    error,
                    detail = message.as_str(),
                    status,
                    enqueued,
                    duration_ms,
                    "request rejected"
                );
            }
        }
    }
}
