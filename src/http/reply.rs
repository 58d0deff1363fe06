//! The one place where outcomes and errors become HTTP responses.
//!
//! The platforms read only the status: 200 acknowledges, anything else is retried later
//! (`docs/protocol.md`, "Delivery and retries"). So 200 means every message is on the
//! queue. 4xx means the request is wrong, or 422 that a message can never be enqueued. 503
//! means "send it again".

use lambda_http::http::header::{ALLOW, CONTENT_TYPE};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use super::route::RouteError;
use crate::config::{ChallengeReply, setting_place};
use crate::queue::{Cause, PublishError};
use org_change_core::{Challenge, EndpointId, EventRef, Rejection, Setting, Source};

#[derive(Debug)]
pub enum Handled {
    Challenge {
        challenge: Challenge,
        reply: ChallengeReply,
    },
    Enqueued {
        event: EventRef,
        count: usize,
    },
    Ignored(EventRef),
    /// A verified event that cannot become messages, on the quarantine queue.
    Quarantined {
        event: EventRef,
        /// The error code it would have been refused with.
        reason: &'static str,
    },
}

#[derive(Debug)]
pub enum Failure {
    /// lambda_http could not turn the Lambda event into an HTTP request (see
    /// `handle_event`). `at` is where it panicked, never the panic's message, which can
    /// quote the body.
    UnreadableEvent {
        at: Option<String>,
    },
    Route(RouteError),
    SourceDisabled(Source),
    Rejected(Rejection),
    Enqueue {
        event: EventRef,
        error: PublishError,
    },
    /// The quarantine queue did not take an event that belongs there.
    Quarantine {
        event: EventRef,
        error: PublishError,
    },
}

impl Failure {
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::UnreadableEvent { .. } => StatusCode::BAD_REQUEST,
            Failure::Route(RouteError::NotFound) | Failure::SourceDisabled(_) => {
                StatusCode::NOT_FOUND
            }
            Failure::Route(RouteError::MethodNotAllowed) => StatusCode::METHOD_NOT_ALLOWED,
            Failure::Rejected(rejection) => match rejection {
                Rejection::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                Rejection::InvalidJson
                | Rejection::EncryptKeyMissing { .. }
                | Rejection::MalformedEnvelope { .. }
                | Rejection::MalformedEvent { .. } => StatusCode::BAD_REQUEST,
                // Retrying never helps, and it is not the sender's fault either.
                Rejection::MessageTooLarge { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                // For Feilian, which signs nothing, the key is the proof, as the signature
                // is for Feishu. So a ciphertext no key opens is unauthenticated. One
                // status for every cause gives no oracle.
                Rejection::Undecryptable { .. }
                | Rejection::PlaintextRefused { .. }
                | Rejection::MissingSignature
                | Rejection::BadSignature
                | Rejection::StaleRequest { .. }
                | Rejection::BadToken { .. } => StatusCode::UNAUTHORIZED,
            },
            Failure::Enqueue { .. } | Failure::Quarantine { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Failure::UnreadableEvent { .. } => "unreadable_request",
            Failure::Route(RouteError::NotFound) => "not_found",
            Failure::Route(RouteError::MethodNotAllowed) => "method_not_allowed",
            Failure::SourceDisabled(_) => "source_disabled",
            Failure::Rejected(rejection) => rejection.code(),
            Failure::Enqueue { error, .. } if matches!(error.cause, Cause::Timeout { .. }) => {
                "enqueue_timeout"
            }
            Failure::Enqueue { .. } => "enqueue_failed",
            Failure::Quarantine { .. } => "quarantine_failed",
        }
    }

    /// What went wrong and what to do, for the log line. `endpoint` says where a setting
    /// lives. The answer's `message` withholds what SQS said of a failed call, which may
    /// name the account, the role or a host: only the log line carries that.
    pub fn message(&self, endpoint: Option<&EndpointId>, withhold_sqs: bool) -> String {
        let publication = |error: &PublishError| {
            if withhold_sqs {
                format!(
                    "{} of {} messages enqueued (the cause is in the relay's log)",
                    error.enqueued, error.total
                )
            } else {
                error.to_string()
            }
        };
        match self {
            Failure::UnreadableEvent { .. } => "the request could not be read: an invalid Host header or path, or a body marked base64 that is not base64".into(),
            Failure::Route(RouteError::NotFound) => {
                "no such route: POST to a path ending in /feishu or /feilian, or /feishu/<name> or /feilian/<name> for a named endpoint configured in ENDPOINTS".into()
            }
            Failure::Route(RouteError::MethodNotAllowed) => "only POST is allowed".into(),
            Failure::SourceDisabled(source) => format!(
                "the {} route is disabled: {} is not set",
                source.as_str(),
                setting_place(&EndpointId::default_of(*source), Setting::VerificationToken)
            ),
            // The core names the setting. Where it is configured is ours to say.
            Failure::Rejected(rejection) => match (rejection.setting(), endpoint) {
                (Some((_, setting)), Some(id)) if !id.is_default() => format!(
                    "{rejection} (endpoint {id}: set by {})",
                    setting_place(id, setting)
                ),
                (Some((source, setting)), _) => format!(
                    "{rejection} (set by {})",
                    setting_place(&EndpointId::default_of(source), setting)
                ),
                (None, _) => rejection.to_string(),
            },
            Failure::Enqueue { error, .. } => format!(
                "not enqueued, the platform will retry: {}",
                publication(error)
            ),
            Failure::Quarantine { error, .. } => format!(
                "the event cannot be relayed and the quarantine queue did not take it; the platform will retry: {}",
                publication(error)
            ),
        }
    }
}

/// The body of a 200 to an event, its fields in this order.
#[derive(Serialize)]
struct Ack<'a> {
    ok: bool,
    enqueued: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored_event_type: Option<&'a str>,
    /// Why the event went to the quarantine queue instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    quarantined: Option<&'a str>,
}

fn ack(enqueued: usize, ignored_event_type: Option<&str>, quarantined: Option<&str>) -> String {
    let ack = Ack {
        ok: true,
        enqueued,
        ignored_event_type,
        quarantined,
    };
    // A number and strings: serializing cannot fail.
    serde_json::to_string(&ack).unwrap_or_default()
}

pub fn respond(
    outcome: &Result<Handled, Failure>,
    endpoint: Option<&EndpointId>,
) -> Response<Body> {
    let body = match outcome {
        Ok(Handled::Challenge { challenge, reply }) => match reply {
            ChallengeReply::Plain => {
                let value = challenge.value().to_owned();
                return response(StatusCode::OK, "text/plain; charset=utf-8", value);
            }
            ChallengeReply::Json => json!({ "challenge": challenge.value() }),
            // Feilian's `echo` reply, in its field order. The token goes back only to a
            // sender that proved it knows it.
            ChallengeReply::Echo => json!({
                "challenge": challenge.value(),
                "token": challenge.token(),
                "type": "url_verification",
            }),
        }
        .to_string(),
        Ok(Handled::Enqueued { count, .. }) => ack(*count, None, None),
        Ok(Handled::Ignored(event)) => ack(0, Some(&event.event_type), None),
        Ok(Handled::Quarantined { reason, .. }) => ack(0, None, Some(reason)),
        Err(failure) => {
            json!({ "error": failure.code(), "message": failure.message(endpoint, true) })
                .to_string()
        }
    };
    let mut response = response(status(outcome), "application/json", body);
    if matches!(outcome, Err(Failure::Route(RouteError::MethodNotAllowed))) {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

pub fn status(outcome: &Result<Handled, Failure>) -> StatusCode {
    outcome
        .as_ref()
        .map_or_else(Failure::status, |_| StatusCode::OK)
}

fn response(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
