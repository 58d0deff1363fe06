//! The URL verification in every mode: both platforms; plaintext, encrypted, and
//! encrypted with signature headers; the right token, another one, none; no
//! `challenge` at all.

mod common;

use common::*;
use org_change_core::Source;
use serde_json::json;

const SOURCES: [Source; 2] = [Source::Feishu, Source::Feilian];

/// Every way a body reaches an endpoint configured for it. The challenge carries
/// no signature headers, but a Feishu sender that adds valid ones is not refused;
/// Feilian signs nothing, so headers there are ignored.
const MODES: [Mode; 3] = [Mode::Plaintext, Mode::Encrypted, Mode::EncryptedSigned];

/// (row, the URL verification's body for `token`, what it must come to)
fn rows(token: &str) -> Vec<(&'static str, String, Expect)> {
    vec![
        (
            "right token",
            json!({"challenge": "ajls384kdjx98XX", "token": token, "type": "url_verification"})
                .to_string(),
            Expect::Challenge("ajls384kdjx98XX"),
        ),
        (
            "right token, escaped characters in the value",
            r#"{"challenge":"a\u0026b\"c","token":"TOKEN","type":"url_verification"}"#
                .replace("TOKEN", token),
            Expect::Challenge("a&b\"c"),
        ),
        (
            "right token, fields in another order, extra fields",
            json!({"type": "url_verification", "schema": "x", "token": token, "challenge": "c-2"})
                .to_string(),
            Expect::Challenge("c-2"),
        ),
        (
            "another token",
            json!({"challenge": "c", "token": "not-the-token", "type": "url_verification"})
                .to_string(),
            Expect::Refused("bad_token"),
        ),
        (
            "token differing only in case",
            json!({"challenge": "c", "token": token.to_uppercase(), "type": "url_verification"})
                .to_string(),
            Expect::Refused("bad_token"),
        ),
        (
            "no token",
            json!({"challenge": "c", "type": "url_verification"}).to_string(),
            Expect::Refused("bad_token"),
        ),
        (
            "right token, a header that is no header",
            json!({"challenge": "c", "token": token, "type": "url_verification", "header": {"token": 1}})
                .to_string(),
            Expect::Refused("malformed_envelope"),
        ),
        (
            "no challenge",
            json!({"token": token, "type": "url_verification"}).to_string(),
            Expect::Refused("malformed_envelope"),
        ),
        (
            "no challenge and another token: the shape is read first",
            json!({"token": "not-the-token", "type": "url_verification"}).to_string(),
            Expect::Refused("malformed_envelope"),
        ),
    ]
}

#[test]
fn the_challenge_is_answered_only_with_the_right_token_in_every_mode() {
    for source in SOURCES {
        for mode in MODES {
            for (row, body, expect) in rows(token_of(source)) {
                let (endpoint, request) = mode.prepare(source, &body);
                // Once decrypted, an unsigned body of the wrong shape gets the one
                // answer of every unauthenticated failure (`undecryptable`), or it would
                // be an oracle on rewritten ciphertext; a signed one keeps its detail.
                // (Feilian signs nothing: its signed mode is unauthenticated too.)
                let authenticated = mode == Mode::Plaintext
                    || (mode == Mode::EncryptedSigned && source == Source::Feishu);
                let expect = match expect {
                    Expect::Refused("malformed_envelope") if !authenticated => {
                        Expect::Refused("undecryptable")
                    }
                    expect => expect,
                };
                check(
                    &format!("{} {mode:?} {row}", source.as_str()),
                    run(&endpoint, &request),
                    expect,
                );
            }
        }
    }
}

#[test]
fn the_challenge_in_the_wrong_mode_for_the_endpoint_is_refused() {
    for source in SOURCES {
        let (token, key) = (token_of(source), key_of(source));
        let body =
            json!({"challenge": "c", "token": token, "type": "url_verification"}).to_string();
        // (row, endpoint, request, what it must come to)
        let rows = [
            (
                "plaintext at an endpoint with a key (no downgrade)",
                keyed_endpoint(source),
                Request::plain(body.clone()),
                Expect::Refused("plaintext_refused"),
            ),
            (
                "encrypted at an endpoint without a key",
                plain_endpoint(source),
                Request::encrypted(key, &body),
                Expect::Refused("encrypt_key_missing"),
            ),
            (
                "encrypted with another key",
                keyed_endpoint(source),
                Request::encrypted("another key", &body),
                Expect::Refused("undecryptable"),
            ),
        ];
        for (row, endpoint, request, expect) in rows {
            check(
                &format!("{} {row}", source.as_str()),
                run(&endpoint, &request),
                expect,
            );
        }
    }

    // Signature headers, when sent, are checked before anything is decrypted, the
    // challenge included; Feilian documents no signature and ignores them.
    let body =
        json!({"challenge": "c", "token": FEISHU_TOKEN, "type": "url_verification"}).to_string();
    check(
        "feishu encrypted challenge signed with another key",
        run(
            &keyed_endpoint(Source::Feishu),
            &Request::encrypted(FEISHU_KEY, &body).signed("another key"),
        ),
        Expect::Refused("bad_signature"),
    );
    let body =
        json!({"challenge": "c", "token": FEILIAN_TOKEN, "type": "url_verification"}).to_string();
    check(
        "feilian encrypted challenge with a wrong Feishu-style signature",
        run(
            &keyed_endpoint(Source::Feilian),
            &Request::encrypted(FEILIAN_KEY, &body).signed("another key"),
        ),
        Expect::Challenge("c"),
    );
}
