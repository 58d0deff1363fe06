//! One structured log line and one metrics line per request. Neither carries a secret or
//! decrypted content: error messages are written so that they cannot.

use std::time::Instant;

use lambda_http::tracing;

use super::metrics::{self, Counts, Outcome};
use super::reply::{self, Failure, Handled};
use org_change_core::{Credentials, EndpointId, Rejection};

/// What made a body undecryptable, at DEBUG only. The answer is the same for every cause,
/// so it is no oracle.
pub(super) fn debug_cause(endpoint: &EndpointId, rejection: &Rejection) {
    if let Rejection::Undecryptable { cause, .. } = rejection {
        tracing::debug!(
            source = endpoint.source().as_str(),
            endpoint = endpoint.as_str(),
            cause,
            "undecryptable"
        );
    }
}

/// Writes both lines from one [`Counts`]. `endpoint` is a configured or default one.
pub(super) fn record(
    namespace: &str,
    endpoint: Option<&EndpointId>,
    outcome: &Result<Handled, Failure>,
    started: Instant,
) {
    // The event the request carried, when it got far enough to tell.
    let event = match outcome {
        Ok(Handled::Enqueued { event, .. } | Handled::Ignored(event))
        | Ok(Handled::Quarantined { event, .. })
        | Err(Failure::Enqueue { event, .. } | Failure::Quarantine { event, .. }) => Some(event),
        _ => None,
    };
    let counts = Counts {
        endpoint,
        credentials: match outcome {
            Ok(Handled::Challenge { challenge, .. }) => Some(challenge.credentials()),
            _ => event.map(|event| event.credentials),
        },
        outcome: outcome_of(outcome),
        reason: outcome.as_ref().err().map(Failure::code),
        enqueued: match outcome {
            Ok(Handled::Enqueued { count, .. }) => *count,
            Err(Failure::Enqueue { error, .. }) => error.enqueued,
            _ => 0,
        },
    };
    metrics::emit(namespace, &counts);
    // A malformed event is verified, so its type and id are worth logging. They find it in
    // the platform's event log.
    let named = match outcome {
        Err(Failure::Rejected(Rejection::MalformedEvent {
            event_type,
            event_id,
            ..
        })) => Some((event_type.as_str(), event_id.as_str())),
        _ => event.map(|event| (event.event_type.as_str(), event.event_id.as_str())),
    };
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    log_line(&counts, named, outcome, duration_ms);
}

fn outcome_of(outcome: &Result<Handled, Failure>) -> Outcome {
    match outcome {
        Ok(Handled::Challenge { .. }) => Outcome::Challenge,
        Ok(Handled::Enqueued { .. }) => Outcome::Enqueued,
        Ok(Handled::Ignored(_)) => Outcome::Ignored,
        Ok(Handled::Quarantined { .. }) => Outcome::Quarantined,
        // The request was good, but not all its messages are on the queue.
        Err(Failure::Enqueue { .. } | Failure::Quarantine { .. }) => Outcome::Failed,
        Err(_) => Outcome::Rejected,
    }
}

/// The request's log line: at WARN when it was rejected or quarantined, at ERROR when it
/// was not enqueued.
fn log_line(
    counts: &Counts<'_>,
    event: Option<(&str, &str)>,
    outcome: &Result<Handled, Failure>,
    duration_ms: f64,
) {
    // The fields every line has, around those of its kind.
    macro_rules! write_line {
        ($level:ident, $message:literal, $($field:tt)*) => {
            tracing::$level!(
                source = counts.endpoint.map(|id| id.source().as_str()),
                endpoint = counts.endpoint.map(EndpointId::as_str),
                credentials = counts.credentials.map(Credentials::as_str),
                event_type = event.map(|(event_type, _)| event_type),
                event_id = event.map(|(_, event_id)| event_id),
                outcome = counts.outcome.as_str(),
                $($field)*
                status = reply::status(outcome).as_u16(),
                duration_ms,
                $message
            )
        };
    }
    match outcome {
        // Verified but not relayable: an operator has to look (`docs/operations.md`,
        // "Quarantine").
        Ok(Handled::Quarantined { reason, .. }) => {
            write_line!(warn, "event quarantined", reason,);
        }
        Ok(_) => write_line!(info, "request handled", enqueued = counts.enqueued,),
        Err(failure) if counts.outcome == Outcome::Failed => write_line!(
            error,
            "not enqueued",
            error = failure.code(),
            detail = failure.message(counts.endpoint, false).as_str(),
            enqueued = counts.enqueued,
        ),
        Err(failure) => {
            let conversion_stopped_at = match failure {
                Failure::UnreadableEvent { at } => at.as_deref(),
                _ => None,
            };
            write_line!(
                warn,
                "request rejected",
                error = failure.code(),
                detail = failure.message(counts.endpoint, false).as_str(),
                conversion_stopped_at,
                enqueued = counts.enqueued,
            );
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use lambda_http::tracing::subscriber;

    use super::*;
    use org_change_core::Source;

    /// A log sink for one test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What `f` logs at `level` and above, as text lines.
    pub(in crate::http) fn logged(level: tracing::Level, f: impl FnOnce()) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(level)
            .finish();
        tracing::dispatcher::with_default(&tracing::Dispatch::new(subscriber), f);
        let bytes = captured.0.lock().expect("not poisoned").clone();
        String::from_utf8(bytes).expect("UTF-8 logs")
    }

    fn feilian() -> EndpointId {
        EndpointId::parse("feilian/sub").expect("an endpoint id")
    }

    #[test]
    fn the_rejected_line_of_an_unreadable_event_says_where_the_conversion_stopped() {
        let outcome = Err(Failure::UnreadableEvent {
            at: Some("lambda_http/src/request.rs:123:45".into()),
        });
        let log = logged(tracing::Level::INFO, || {
            record("Ns", None, &outcome, Instant::now());
        });
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(
            log.contains("request rejected")
                && log.contains("unreadable_request")
                && log.contains("conversion_stopped_at")
                && log.contains("lambda_http/src/request.rs:123:45"),
            "{log}"
        );
    }

    #[test]
    fn what_made_a_body_undecryptable_is_logged_at_debug_only() {
        let rejection = Rejection::Undecryptable {
            platform: Source::Feilian,
            cause: "bad padding (wrong key or altered data)",
        };
        let debug = logged(tracing::Level::DEBUG, || {
            debug_cause(&feilian(), &rejection)
        });
        assert!(
            debug.contains("DEBUG") && debug.contains("bad padding"),
            "{debug}"
        );
        let info = logged(tracing::Level::INFO, || debug_cause(&feilian(), &rejection));
        assert_eq!(info, "");
        // Nor is it in the answer.
        assert!(!rejection.to_string().contains("padding"), "{rejection}");
    }
}
