//! What the function checks and logs at start: that it runs under Lambda, and one line per
//! secret and per endpoint.

use lambda_http::tracing;
use org_change_core::{Endpoint, Source};

use crate::config::Config;

/// The variables the Lambda runtime panics without. Lambda and cargo-lambda's emulator set
/// all four.
pub const LAMBDA_VARS: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// The message of each secret's fingerprint line, with the shell recipe that gives the same
/// digits from the console's value.
pub const FINGERPRINT_MESSAGE: &str = "secret fingerprint (printf 'org-change-relay/fingerprint/v1:%s' VALUE | sha256sum | cut -c1-8)";

/// The first of [`LAMBDA_VARS`] that is unset or unreadable, when not run by Lambda or its
/// emulator.
pub fn missing_lambda_var(env: impl Fn(&str) -> Option<String>) -> Option<&'static str> {
    LAMBDA_VARS.into_iter().find(|var| match env(var) {
        None => true,
        Some(value) if *var == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => {
            value.trim().parse::<i32>().is_err()
        }
        Some(value) => value.trim().is_empty(),
    })
}

/// What the binary is and how to run it, when not run by Lambda or its emulator.
pub fn outside_lambda(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let var = missing_lambda_var(env)?;
    Some(format!(
        "org-change-relay: {var} is not set: this is an AWS Lambda function, run by Lambda or by cargo-lambda's emulator; locally, run `make relay` (a local queue and the relay, with the demo's settings), or `.venv/bin/cargo-lambda lambda watch` with your own (docs/testing.md, \"Samples, the local relay and the simulator\")"
    ))
}

/// What an endpoint requires of a request. A previous pair never lacks a key the current
/// pair has, so the current key decides.
pub fn requirement(endpoint: &Endpoint) -> &'static str {
    match (endpoint.source(), endpoint.current_key()) {
        (_, None) => "token only",
        (Source::Feishu, Some(_)) => "encrypted and signed",
        // Feilian signs nothing (`docs/protocol.md`, "Signature").
        (_, Some(_)) => "encrypted",
    }
}

/// The start-up lines: a fingerprint per secret, what each endpoint requires and until when
/// its previous pair holds, and the warnings.
pub fn log(config: &Config) {
    for (variable, fingerprint) in &config.fingerprints {
        tracing::info!(%variable, %fingerprint, "{FINGERPRINT_MESSAGE}");
    }
    for (endpoint, settings) in &config.endpoints {
        let previous_until = settings
            .previous_until()
            .map(|until| humantime::format_rfc3339_seconds(until).to_string());
        tracing::info!(
            endpoint = endpoint.as_str(),
            requires = requirement(settings),
            previous_until = previous_until.as_deref(),
            "endpoint enabled"
        );
    }
    // Worth removing from the secret.
    for warning in &config.warnings {
        tracing::warn!(%warning, "configuration warning");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use org_change_core::{EncryptKey, EndpointId, VerificationToken};

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(var, _)| var == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn outside_lambda_the_first_missing_runtime_variable_is_named() {
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_NAME", "relay"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ];
        let missing = |vars: &[(&str, &str)]| {
            let message = outside_lambda(lookup(vars))?;
            let var = message
                .strip_prefix("org-change-relay: ")?
                .split(' ')
                .next()?;
            Some(var.to_owned())
        };
        assert_eq!(missing(&lambda), None);
        assert_eq!(missing(&[]).as_deref(), Some("AWS_LAMBDA_RUNTIME_API"));
        assert_eq!(
            missing(&lambda[..1]).as_deref(),
            Some("AWS_LAMBDA_FUNCTION_NAME")
        );
        let mut odd_memory = lambda;
        odd_memory[3].1 = "128MB";
        assert_eq!(
            missing(&odd_memory).as_deref(),
            Some("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        );
    }

    #[test]
    fn each_endpoint_requires_what_its_key_gives() {
        let endpoint = |id: &str, key: Option<&str>| {
            let id = EndpointId::parse(id).unwrap();
            Endpoint::with_id(id, VerificationToken::new("t"), key.map(EncryptKey::new))
        };
        for (id, key, expected) in [
            ("feishu", Some("k"), "encrypted and signed"),
            ("feishu/x", Some("k"), "encrypted and signed"),
            ("feilian", Some("k"), "encrypted"),
            ("feilian/x", Some("k"), "encrypted"),
            ("feishu", None, "token only"),
            ("feilian/x", None, "token only"),
        ] {
            assert_eq!(requirement(&endpoint(id, key)), expected, "{id} {key:?}");
        }
    }
}
