//! One structured log line and one metrics line per request. Neither carries a secret or
//! decrypted content: error messages are written so that they cannot.

use std::time::Duration;

use lambda_http::tracing;

use super::metrics::{self, Counts, Outcome};
use super::reply::{Failure, Handled};
use org_change_core::{Credentials, EndpointId, Rejection, Source};

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

/// One log line and one metrics line per request. `endpoint` is set when it is a configured
/// or default one.
pub(super) fn record(
    namespace: &str,
    endpoint: Option<&EndpointId>,
    outcome: &Result<Handled, Failure>,
    status: u16,
    elapsed: Duration,
) {
    let (event, enqueued) = match outcome {
        Ok(Handled::Challenge { .. }) => (None, 0),
        Ok(Handled::Enqueued { event, count }) => (Some(event), *count),
        Ok(Handled::Ignored(event)) => (Some(event), 0),
        Ok(Handled::Quarantined { event, .. }) => (Some(event), 0),
        Err(Failure::Enqueue { event, error }) => (Some(event), error.enqueued),
        Err(failure) => (failure.event(), 0),
    };
    let credentials = match outcome {
        Ok(handled) => Some(handled.credentials()),
        Err(_) => event.map(|event| event.credentials),
    };
    let counts = Counts {
        source: endpoint.map(EndpointId::source),
        endpoint: endpoint.map(EndpointId::as_str),
        outcome: outcome_of(outcome, status),
        reason: outcome.as_ref().err().map(Failure::code),
        enqueued,
        previous_credentials: credentials == Some(Credentials::Previous),
    };
    metrics::emit(namespace, &counts);
    let line = Line {
        source: counts.source.map(Source::as_str),
        endpoint: counts.endpoint,
        credentials: credentials.map(Credentials::as_str),
        event_type: event.map(|e| e.event_type.as_str()),
        event_id: event.map(|e| e.event_id.as_str()),
        outcome: counts.outcome.as_str(),
        status,
        enqueued,
        duration_ms: elapsed.as_secs_f64() * 1000.0,
    };
    match outcome {
        Ok(Handled::Quarantined { reason, .. }) => line.quarantined(reason),
        Ok(_) => line.handled(),
        Err(failure) if counts.outcome == Outcome::Failed => line.failed(failure, endpoint),
        Err(failure) => line.rejected(failure, endpoint),
    }
}

fn outcome_of(outcome: &Result<Handled, Failure>, status: u16) -> Outcome {
    match outcome {
        Ok(Handled::Challenge { .. }) => Outcome::Challenge,
        Ok(Handled::Enqueued { .. }) => Outcome::Enqueued,
        Ok(Handled::Ignored(_)) => Outcome::Ignored,
        Ok(Handled::Quarantined { .. }) => Outcome::Quarantined,
        Err(failure) if failure.not_enqueued() || status >= 500 => Outcome::Failed,
        Err(_) => Outcome::Rejected,
    }
}

/// The fields every line of a request has.
struct Line<'a> {
    source: Option<&'static str>,
    endpoint: Option<&'a str>,
    credentials: Option<&'static str>,
    event_type: Option<&'a str>,
    event_id: Option<&'a str>,
    outcome: &'static str,
    status: u16,
    enqueued: usize,
    duration_ms: f64,
}

impl Line<'_> {
    /// Verified but not relayable: an operator has to look (`docs/operations.md`,
    /// "Quarantine").
    fn quarantined(&self, reason: &str) {
        tracing::warn!(
            source = self.source,
            endpoint = self.endpoint,
            credentials = self.credentials,
            event_type = self.event_type,
            event_id = self.event_id,
            outcome = self.outcome,
            reason,
            status = self.status,
            duration_ms = self.duration_ms,
            "event quarantined"
        );
    }

    fn handled(&self) {
        tracing::info!(
            source = self.source,
            endpoint = self.endpoint,
            credentials = self.credentials,
            event_type = self.event_type,
            event_id = self.event_id,
            outcome = self.outcome,
            status = self.status,
            enqueued = self.enqueued,
            duration_ms = self.duration_ms,
            "request handled"
        );
    }

    fn failed(&self, failure: &Failure, endpoint: Option<&EndpointId>) {
        tracing::error!(
            source = self.source,
            endpoint = self.endpoint,
            credentials = self.credentials,
            event_type = self.event_type,
            event_id = self.event_id,
            outcome = self.outcome,
            error = failure.code(),
            detail = failure.message(endpoint).as_str(),
            status = self.status,
            enqueued = self.enqueued,
            duration_ms = self.duration_ms,
            "not enqueued"
        );
    }

    fn rejected(&self, failure: &Failure, endpoint: Option<&EndpointId>) {
        // A malformed event is verified, so its type and id are worth logging. They find it
        // in the platform's event log.
        let (event_type, event_id) = match failure {
            Failure::Rejected(Rejection::MalformedEvent {
                event_type,
                event_id,
                ..
            }) => (Some(event_type.as_str()), Some(event_id.as_str())),
            _ => (self.event_type, self.event_id),
        };
        let conversion_stopped_at = match failure {
            Failure::UnreadableEvent { at } => at.as_deref(),
            _ => None,
        };
        tracing::warn!(
            source = self.source,
            endpoint = self.endpoint,
            event_type,
            event_id,
            outcome = self.outcome,
            error = failure.code(),
            detail = failure.message(endpoint).as_str(),
            conversion_stopped_at,
            status = self.status,
            enqueued = self.enqueued,
            duration_ms = self.duration_ms,
            "request rejected"
        );
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use lambda_http::tracing::subscriber;

    use super::*;

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
            record("Ns", None, &outcome, 400, Duration::ZERO);
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
