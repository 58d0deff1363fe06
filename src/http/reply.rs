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

use super::route::RouteError;
use crate::config::{ChallengeReply, secret_var, setting_place};
use crate::queue::PublishError;
use org_change_core::{Challenge, Credentials, EndpointId, EventRef, Rejection, Setting, Source};

/// A request that was handled.
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

impl Handled {
    /// Which of the endpoint's pairs authenticated the request.
    pub fn credentials(&self) -> Credentials {
        match self {
            Handled::Challenge { challenge, .. } => challenge.credentials(),
            Handled::Enqueued { event, .. }
            | Handled::Ignored(event)
            | Handled::Quarantined { event, .. } => event.credentials,
        }
    }
}

/// A request that was not.
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
    /// Not every message is on the queue.
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

    /// Whether the request was good but not all its messages are on the queue.
    pub fn not_enqueued(&self) -> bool {
        matches!(self, Failure::Enqueue { .. } | Failure::Quarantine { .. })
    }

    pub fn code(&self) -> &'static str {
        match self {
            Failure::UnreadableEvent { .. } => "unreadable_request",
            Failure::Route(RouteError::NotFound) => "not_found",
            Failure::Route(RouteError::MethodNotAllowed) => "method_not_allowed",
            Failure::SourceDisabled(_) => "source_disabled",
            Failure::Rejected(rejection) => rejection.code(),
            Failure::Enqueue { error, .. } if error.is_timeout() => "enqueue_timeout",
            Failure::Enqueue { .. } => "enqueue_failed",
            Failure::Quarantine { .. } => "quarantine_failed",
        }
    }

    /// What went wrong and what to do. `endpoint` says where a setting lives.
    pub fn message(&self, endpoint: Option<&EndpointId>) -> String {
        self.text(endpoint, SqsError::Told)
    }

    /// The answer's `message`, without what SQS said of a failed call, which may name the
    /// account, the role or a host. Only the log line carries that.
    pub fn answer(&self, endpoint: Option<&EndpointId>) -> String {
        self.text(endpoint, SqsError::Withheld)
    }

    fn text(&self, endpoint: Option<&EndpointId>, sqs_error: SqsError) -> String {
        match self {
            Failure::UnreadableEvent { .. } => "the request could not be read: an invalid Host header or path, or a body marked base64 that is not base64".into(),
            Failure::Route(RouteError::NotFound) => {
                "no such route: POST to a path ending in /feishu or /feilian, or /feishu/<name> or /feilian/<name> for a named endpoint configured in ENDPOINTS".into()
            }
            Failure::Route(RouteError::MethodNotAllowed) => "only POST is allowed".into(),
            Failure::SourceDisabled(source) => {
                format!(
                    "the {} route is disabled: {} is not set",
                    source.as_str(),
                    secret_var(*source, Setting::VerificationToken)
                )
            }
            // The core names the setting. Where it is configured is ours to say.
            Failure::Rejected(rejection) => match (rejection.setting(), endpoint) {
                (Some((_, setting)), Some(endpoint)) if !endpoint.is_default() => format!(
                    "{rejection} (endpoint {endpoint}: set by {})",
                    setting_place(endpoint, setting)
                ),
                (Some((source, setting)), _) => {
                    format!("{rejection} (set by {})", secret_var(source, setting))
                }
                (None, _) => rejection.to_string(),
            },
            Failure::Enqueue { error, .. } => {
                format!(
                    "not enqueued, the platform will retry: {}",
                    publication(error, sqs_error)
                )
            }
            Failure::Quarantine { error, .. } => {
                format!(
                    "the event cannot be relayed and the quarantine queue did not take it; the platform will retry: {}",
                    publication(error, sqs_error)
                )
            }
        }
    }

    /// The event the request carried, when it got far enough to tell.
    pub fn event(&self) -> Option<&EventRef> {
        match self {
            Failure::Enqueue { event, .. } | Failure::Quarantine { event, .. } => Some(event),
            _ => None,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct ChallengeBody<'a> {
    challenge: &'a str,
}

/// The whole challenge object, as Feilian's `echo` reply sends it back, in the platform's
/// field order.
#[derive(Serialize)]
struct EchoBody<'a> {
    challenge: &'a str,
    token: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct AckBody<'a> {
    ok: bool,
    enqueued: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored_event_type: Option<&'a str>,
    /// Why the event went to the quarantine queue instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    quarantined: Option<&'a str>,
}

/// Whether a message tells what SQS said of a failed call.
#[derive(Clone, Copy)]
enum SqsError {
    /// In the log line.
    Told,
    /// In the answer, which goes back to the platform.
    Withheld,
}

/// How far a publication got, and what SQS said when `sqs_error` allows.
fn publication(error: &PublishError, sqs_error: SqsError) -> String {
    match sqs_error {
        SqsError::Told => error.to_string(),
        SqsError::Withheld => format!(
            "{} of {} messages enqueued (the cause is in the relay's log)",
            error.enqueued, error.total
        ),
    }
}

/// The response to a request that ended in `outcome`.
pub fn respond(
    outcome: &Result<Handled, Failure>,
    endpoint: Option<&EndpointId>,
) -> Response<Body> {
    match outcome {
        Ok(Handled::Challenge { challenge, reply }) => challenge_reply(challenge, *reply),
        Ok(Handled::Enqueued { count, .. }) => acknowledged(*count, None, None),
        Ok(Handled::Ignored(event)) => acknowledged(0, Some(&event.event_type), None),
        Ok(Handled::Quarantined { reason, .. }) => acknowledged(0, None, Some(reason)),
        Err(failure) => {
            let message = failure.answer(endpoint);
            let mut response = json(
                failure.status(),
                &ErrorBody {
                    error: failure.code(),
                    message: &message,
                },
            );
            if matches!(failure, Failure::Route(RouteError::MethodNotAllowed)) {
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
            }
            response
        }
    }
}

/// The answer to a URL verification, in the shape `reply` says.
fn challenge_reply(challenge: &Challenge, reply: ChallengeReply) -> Response<Body> {
    let value = challenge.value();
    match reply {
        ChallengeReply::Plain => response(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            value.to_owned(),
        ),
        ChallengeReply::Json => json(StatusCode::OK, &ChallengeBody { challenge: value }),
        // The token goes back only to a sender that proved it knows it.
        ChallengeReply::Echo => json(
            StatusCode::OK,
            &EchoBody {
                challenge: value,
                token: challenge.token(),
                kind: "url_verification",
            },
        ),
    }
}

fn acknowledged(
    enqueued: usize,
    ignored_event_type: Option<&str>,
    quarantined: Option<&str>,
) -> Response<Body> {
    json(
        StatusCode::OK,
        &AckBody {
            ok: true,
            enqueued,
            ignored_event_type,
            quarantined,
        },
    )
}

fn json(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| r#"{"error":"internal"}"#.to_owned());
    response(status, "application/json", text)
}

fn response(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
