//! The two console secrets, held so that they cannot leak through `Debug` or logs.

use aes::Aes256;
use aes::cipher::KeyInit;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The Verification Token from the Feishu or Feilian console.
///
/// Only its SHA-256 digest is kept, compared in constant time.
/// Timing then tells neither the token's bytes nor its length.
#[derive(Clone)]
pub struct VerificationToken {
    digest: [u8; 32],
}

impl VerificationToken {
    /// The token as the console shows it, exactly (no trimming).
    pub fn new(token: &str) -> Self {
        Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// Whether `candidate` is the token.
    pub fn matches(&self, candidate: &str) -> bool {
        let candidate: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        self.digest.ct_eq(&candidate).into()
    }
}

impl std::fmt::Debug for VerificationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationToken(<redacted>)")
    }
}

/// The Encrypt Key from the console.
///
/// The AES-256 key is SHA-256 of the key string (`docs/protocol.md`, "Encryption").
/// Feishu also hashes the raw string into every signature, so both forms are kept.
#[derive(Clone)]
pub struct EncryptKey {
    raw: Box<[u8]>,
    cipher: Aes256,
}

impl EncryptKey {
    /// The Encrypt Key as the console shows it, exactly (no trimming).
    pub fn new(key: &str) -> Self {
        let aes_key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        Self {
            raw: key.as_bytes().into(),
            cipher: Aes256::new(&aes_key.into()),
        }
    }

    /// The key string, as Feishu signs with it.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// AES-256 keyed with SHA-256 of the key string.
    pub(crate) fn cipher(&self) -> &Aes256 {
        &self.cipher
    }
}

impl std::fmt::Debug for EncryptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_matches_only_itself() {
        let token = VerificationToken::new("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV");
        assert!(token.matches("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV"));
        assert!(!token.matches("rvaYgkND1GOiu5MM0E1rncYC6PLtF7Jv"));
        assert!(!token.matches("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV "));
        assert!(!token.matches(""));
    }

    #[test]
    fn secrets_never_print() {
        let token = format!("{:?}", VerificationToken::new("s3cret-token"));
        let key = format!("{:?}", EncryptKey::new("s3cret-key"));
        assert!(!token.contains("s3cret") && token.contains("redacted"));
        assert!(!key.contains("s3cret") && key.contains("redacted"));
    }
}
