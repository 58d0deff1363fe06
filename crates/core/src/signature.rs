//! Feishu's request signature, `X-Lark-Signature` (`docs/protocol.md`, "Signature").
//!
//! Hashing a re-serialized body instead of the raw bytes is the bug users report most,
//! so this module only ever sees `&[u8]`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::EncryptKey;

/// `X-Lark-Request-Timestamp`: Unix seconds. Header names are matched case-insensitively.
pub const TIMESTAMP_HEADER: &str = "x-lark-request-timestamp";
/// `X-Lark-Request-Nonce`: any string chosen by the platform.
pub const NONCE_HEADER: &str = "x-lark-request-nonce";
/// `X-Lark-Signature`: 64 hex digits.
pub const SIGNATURE_HEADER: &str = "x-lark-signature";

/// The three `X-Lark-*` headers of a signed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureHeaders<'a> {
    /// [`TIMESTAMP_HEADER`]'s value.
    pub timestamp: &'a str,
    /// [`NONCE_HEADER`]'s value.
    pub nonce: &'a str,
    /// [`SIGNATURE_HEADER`]'s value.
    pub signature: &'a str,
}

impl SignatureHeaders<'_> {
    /// Whether the signature matches `body`, compared in constant time.
    pub fn verify(&self, key: &EncryptKey, body: &[u8]) -> bool {
        let mut buffer = [0u8; 32];
        match base16ct::mixed::decode(self.signature, &mut buffer) {
            Ok(claimed) if claimed.len() == 32 => digest(self.timestamp, self.nonce, key, body)
                .ct_eq(claimed)
                .into(),
            _ => false,
        }
    }
}

/// The signature Feishu sends for `body`, as lower-case hex.
pub fn sign(timestamp: &str, nonce: &str, key: &EncryptKey, body: &[u8]) -> String {
    hex::encode(digest(timestamp, nonce, key, body))
}

fn digest(timestamp: &str, nonce: &str, key: &EncryptKey, body: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(timestamp.as_bytes())
        .chain_update(nonce.as_bytes())
        .chain_update(key.raw())
        .chain_update(body)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inputs of the official SDKs' signature round-trip tests: timestamp
    /// `timestamp`, nonce `nonce`, key `1212121212` and the Go SDK's `mockEventReq`
    /// body (larksuite/oapi-sdk-go, `event/dispatcher/dispatcher_test.go`). The SDKs
    /// state no hex; this one is `printf '%s' "timestamp" "nonce" "1212121212" "$BODY" |
    /// sha256sum`.
    const SDK_BODY: &str = r#"{"schema":"2.0","header":{"event_id":"f7984f25108f8137722bb63cee927e66","event_type":"contact.user.created_v3","app_id":"cli_xxxxxxxx","tenant_key":"xxxxxxx","create_time":"1603977298000000","token":"v"},"event":{"object":{"open_id":"ou_7dab8a3d3cdcc9da365777c7ad535d62","union_id":"on_576833b917gda3d939b9a3c2d53e72c8","user_id":"e33ggbyz","name":"张三","employee_no":"employee_no"}},"challenge":"1212","type":"url_verification"}"#;
    const SDK_SIGNATURE: &str = "4dca085198cb3216defc5b65b0668c1328b038a22dbadf2bc6c4fdc3d32bbc45";

    fn sdk_headers(signature: &str) -> SignatureHeaders<'_> {
        SignatureHeaders {
            timestamp: "timestamp",
            nonce: "nonce",
            signature,
        }
    }

    #[test]
    fn signs_the_sdk_test_inputs() {
        let key = EncryptKey::new("1212121212");
        assert_eq!(
            sign("timestamp", "nonce", &key, SDK_BODY.as_bytes()),
            SDK_SIGNATURE
        );
    }

    #[test]
    fn accepts_the_matching_signature_in_either_hex_case() {
        let key = EncryptKey::new("1212121212");
        assert!(sdk_headers(SDK_SIGNATURE).verify(&key, SDK_BODY.as_bytes()));
        let upper = SDK_SIGNATURE.to_uppercase();
        assert!(sdk_headers(&upper).verify(&key, SDK_BODY.as_bytes()));
    }

    #[test]
    fn rejects_a_changed_body_key_timestamp_or_signature() {
        let key = EncryptKey::new("1212121212");
        let body = SDK_BODY.as_bytes();
        // Re-serializing the body (here: one added space) breaks the signature.
        let reserialized = SDK_BODY.replacen(r#""schema":"2.0""#, r#""schema": "2.0""#, 1);
        assert!(!sdk_headers(SDK_SIGNATURE).verify(&key, reserialized.as_bytes()));
        assert!(!sdk_headers(SDK_SIGNATURE).verify(&EncryptKey::new("1212121213"), body));
        let later = SignatureHeaders {
            timestamp: "timestamq",
            ..sdk_headers(SDK_SIGNATURE)
        };
        assert!(!later.verify(&key, body));
        let flipped = SDK_SIGNATURE.replacen('4', "5", 1);
        assert!(!sdk_headers(&flipped).verify(&key, body));
    }

    #[test]
    fn rejects_signatures_that_are_not_32_hex_bytes() {
        let key = EncryptKey::new("1212121212");
        let body = SDK_BODY.as_bytes();
        for bad in [
            "",
            "zz",
            &SDK_SIGNATURE[..62],
            &SDK_SIGNATURE[..63],
            &format!("{SDK_SIGNATURE}00"),
            &format!("{}g", &SDK_SIGNATURE[..63]),
        ] {
            assert!(!sdk_headers(bad).verify(&key, body), "{bad:?}");
        }
    }
}
