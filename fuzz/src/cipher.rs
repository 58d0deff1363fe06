//! The `cipher` target: `decrypt` never panics, and what it accepts is canonical.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use org_change_core::EncryptKey;
use org_change_core::cipher::{decrypt, encrypt};

use crate::KEY;

/// The `cipher` target. The first byte picks the mode:
/// 0: decrypt the rest as text, mostly not base64;
/// 1: decrypt base64 of the rest: what decrypts re-encrypts with its IV to the same
///    text, since strict PKCS#7 admits exactly one padding;
/// 2: `[key length][key][16-byte IV][plaintext]` round-trips.
pub fn fuzz_cipher(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let key = EncryptKey::new(KEY);
    match mode % 3 {
        0 => drop(decrypt(&key, &String::from_utf8_lossy(rest))),
        1 => {
            let text = STANDARD.encode(rest);
            if let (Ok(plain), Some(iv)) = (decrypt(&key, &text), rest.first_chunk()) {
                assert_eq!(encrypt(&key, &plain, *iv), text);
            }
        }
        _ => {
            let Some((&key_len, rest)) = rest.split_first() else {
                return;
            };
            let (key, rest) = rest.split_at(usize::from(key_len).min(rest.len()));
            let Some((iv, plain)) = rest.split_first_chunk() else {
                return;
            };
            let key = EncryptKey::new(&String::from_utf8_lossy(key));
            let sealed = encrypt(&key, plain, *iv);
            assert_eq!(decrypt(&key, &sealed).as_deref(), Ok(plain));
        }
    }
}
