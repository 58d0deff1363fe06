//! The Lambda HTTP adapter: route, size limit, protocol core, queue, and one log line.
//!
//! [`handle_event`] is what the Lambda runtime calls.

mod log;
pub mod metrics;
pub mod reply;
pub mod route;

use std::cell::Cell;
use std::convert::Infallible;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Instant, SystemTime};

use lambda_http::request::LambdaRequest;
use lambda_http::{
    Adapter, Body, LambdaEvent, Request, Response, Service, TransformResponse, service_fn,
};
use serde::Serialize;

use crate::config::{ChallengeReply, Config};
use crate::queue::sqs::MAX_PAYLOAD_BYTES;
use crate::queue::{PublishPolicy, Queue, publish};
use log::{debug_cause, record};
use org_change_core::signature::{NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use org_change_core::{
    Delivery, EndpointId, Inbound, Rejection, SignatureHeaders, Source, receive,
};
use reply::{Failure, Handled};

pub struct App<Q> {
    pub config: Config,
    pub queue: Q,
    /// Where verified events that cannot become messages go (`QUARANTINE_QUEUE_URL`).
    /// Without one they are refused, and the platform retries them.
    pub quarantine: Option<Q>,
    pub publish: PublishPolicy,
    /// The replay window's clock: fixed in tests.
    pub clock: fn() -> SystemTime,
}

impl<Q: Queue> App<Q> {
    pub fn new(config: Config, queue: Q, quarantine: Option<Q>) -> Self {
        Self {
            config,
            queue,
            quarantine,
            publish: PublishPolicy::default(),
            clock: SystemTime::now,
        }
    }
}

/// The Lambda function: every event gets a JSON answer in its origin's response format.
///
/// The conversion in lambda_http 1.3 panics on some events before any handler runs: a
/// `Host` header that is not a host, a path over 64 KiB, a bad body marked base64. API
/// Gateway would answer 502 without a body. So a panic there is caught and answered 400
/// `unreadable_request`, which needs the release profile's default `panic = "unwind"`.
pub async fn handle_event<Q: Queue>(
    app: &App<Q>,
    event: LambdaEvent<LambdaRequest>,
) -> Result<impl Serialize + use<Q>, Infallible> {
    let started = Instant::now();
    let origin = event.payload.request_origin();
    let mut adapter = Adapter::from(service_fn(|request| handle(app, request)));
    let answer = match catch_conversion(|| adapter.call(event)) {
        Ok(answer) => answer,
        Err(at) => {
            // The panic's text can quote the body, so only its location is logged.
            let outcome = Err(Failure::UnreadableEvent { at });
            let response = reply::respond(&outcome, None);
            record(&app.config.metrics_namespace, None, &outcome, started);
            TransformResponse::Response(origin, Box::pin(std::future::ready(response)))
        }
    };
    answer.await
}

thread_local! {
    static CONVERTING: Cell<bool> = const { Cell::new(false) };
    /// Left by the hook of [`install_panic_hook`] for [`catch_conversion`].
    static PANICKED_AT: Cell<Option<String>> = const { Cell::new(None) };
}

/// Runs lambda_http's conversion, marked so that the panic hook stays quiet. `Err` holds
/// where it panicked, if the hook saw it.
fn catch_conversion<T>(convert: impl FnOnce() -> T) -> Result<T, Option<String>> {
    CONVERTING.set(true);
    let converted = catch_unwind(AssertUnwindSafe(convert));
    CONVERTING.set(false);
    converted.map_err(|_panic| PANICKED_AT.take())
}

/// Installs the process's panic hook, once, from `main`.
///
/// The default hook would print lambda_http's parse error, which can quote the body. So
/// during a conversion the hook keeps only the location, logged as `conversion_stopped_at`
/// and not as "panicked", which log searches use for uncaught panics.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if CONVERTING.get() {
            PANICKED_AT.set(info.location().map(ToString::to_string));
        } else {
            previous(info);
        }
    }));
}

pub async fn handle<Q: Queue>(
    app: &App<Q>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let routed = route::route(request.method(), request.uri().path());
    let outcome = match &routed {
        Ok(id) => process(app, id, &request).await,
        Err(err) => Err(Failure::Route(err.clone())),
    };
    // A name nobody configured is the sender's choice. Neither the metrics (one metric per
    // dimension value) nor the log records it.
    let endpoint = routed.as_ref().ok();
    let known = endpoint.filter(|id| id.is_default() || app.config.endpoint(id).is_some());
    record(&app.config.metrics_namespace, known, &outcome, started);
    Ok(reply::respond(&outcome, known))
}

async fn process<Q: Queue>(
    app: &App<Q>,
    id: &EndpointId,
    request: &Request,
) -> Result<Handled, Failure> {
    let source = id.source();
    let endpoint = app.config.endpoint(id).ok_or(if id.is_default() {
        Failure::SourceDisabled(source)
    } else {
        Failure::Route(route::RouteError::NotFound)
    })?;
    let body: &[u8] = request.body().as_ref();
    if body.len() > app.config.max_body_bytes {
        return Err(Failure::Rejected(Rejection::BodyTooLarge {
            size: body.len(),
            limit: app.config.max_body_bytes,
        }));
    }
    let signature = signature_headers(request);
    let delivery =
        receive(endpoint, Inbound { body, signature }, (app.clock)()).map_err(|rejection| {
            debug_cause(id, &rejection);
            Failure::Rejected(rejection)
        })?;
    match delivery {
        Delivery::Challenge(challenge) => Ok(Handled::Challenge {
            challenge,
            reply: match source {
                Source::Feilian => app.config.feilian_challenge_reply,
                _ => ChallengeReply::Json,
            },
        }),
        Delivery::Ignored(event) => Ok(Handled::Ignored(event)),
        Delivery::Changes(batch) => {
            let event = batch.event().clone();
            match publish(&app.queue, batch.messages(), app.publish).await {
                Ok(count) => Ok(Handled::Enqueued { event, count }),
                Err(error) => Err(Failure::Enqueue { event, error }),
            }
        }
        Delivery::Unusable {
            rejection,
            quarantine,
        } => {
            let Some(queue) = &app.quarantine else {
                return Err(Failure::Rejected(rejection));
            };
            let (event, reason) = (quarantine.event().clone(), quarantine.reason());
            // A quarantine larger than SQS takes is summarized, or every retry would be refused.
            let message = [quarantine.outgoing(MAX_PAYLOAD_BYTES)];
            match publish(queue, &message, app.publish).await {
                Ok(_) => Ok(Handled::Quarantined { event, reason }),
                Err(error) => Err(Failure::Quarantine { event, error }),
            }
        }
    }
}

fn signature_headers(request: &Request) -> Option<SignatureHeaders<'_>> {
    let header = |name| request.headers().get(name)?.to_str().ok();
    Some(SignatureHeaders {
        timestamp: header(TIMESTAMP_HEADER)?,
        nonce: header(NONCE_HEADER)?,
        signature: header(SIGNATURE_HEADER)?,
    })
}

#[cfg(test)]
mod tests {
    use lambda_http::tracing;

    use super::log::tests::logged;
    use super::*;

    thread_local! {
        /// The panics of this thread that the relay's hook passed on.
        static PASSED_ON: Cell<usize> = const { Cell::new(0) };
    }

    /// The relay's hook, installed once for this test binary over one that counts
    /// what it is passed (and hands it to the hook before, the test harness's).
    fn install_hooks() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let harness = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                PASSED_ON.set(PASSED_ON.get() + 1);
                harness(info);
            }));
            install_panic_hook();
        });
    }

    #[test]
    fn a_caught_conversion_panic_is_kept_from_the_default_hook_and_its_message_from_the_log() {
        install_hooks();
        let mut caught = Ok(());
        let log = logged(tracing::Level::TRACE, || {
            caught = catch_conversion(|| panic!("invalid header: token=s3cr3t"));
        });
        // Nothing printed, nothing logged: where it happened is handed back for the
        // request's line, and the message is dropped.
        assert_eq!(PASSED_ON.get(), 0, "{log}");
        assert_eq!(log, "");
        let at = caught
            .expect_err("the conversion panicked")
            .unwrap_or_default();
        assert!(at.starts_with("src/http/mod.rs:"), "{at}");
        // The mark is gone once the conversion is over: a panic elsewhere is passed
        // on, and the default hook prints it as before.
        let elsewhere = catch_unwind(|| panic!("a bug elsewhere"));
        assert!(elsewhere.is_err());
        assert_eq!(PASSED_ON.get(), 1);
    }
}
