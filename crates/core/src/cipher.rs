//! The `{"encrypt": "<base64>"}` envelope of both platforms (`docs/protocol.md`, "Encryption").
//! The SDKs disagree on padding; strict PKCS#7 fits every known payload.

use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::EncryptKey;

const IV_LEN: usize = 16;
const BLOCK_LEN: usize = 16;

/// Why a payload could not be decrypted, for debug logs and tests only.
/// Callers answer every cause alike: telling them apart would be a padding oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// The `encrypt` value is not standard, padded base64.
    #[error("not valid base64")]
    Base64,
    /// Shorter than an IV and one block, or not a whole number of blocks.
    #[error("not an IV followed by whole cipher blocks")]
    Length,
    /// Bad PKCS#7 padding: a wrong key or altered data.
    #[error("wrong key or corrupted data (bad PKCS#7 padding)")]
    Padding,
}

/// Decrypts the value of an `encrypt` field.
///
/// # Errors
///
/// [`DecryptError`] says why.
pub fn decrypt(key: &EncryptKey, encrypted: &str) -> Result<Vec<u8>, DecryptError> {
    let mut data = STANDARD
        .decode(encrypted)
        .map_err(|_| DecryptError::Base64)?;
    if data.len() < IV_LEN + BLOCK_LEN || !(data.len() - IV_LEN).is_multiple_of(BLOCK_LEN) {
        return Err(DecryptError::Length);
    }
    let (iv, ciphertext) = data.split_at_mut(IV_LEN);
    let plaintext_len = cbc::Decryptor::<Aes256>::inner_iv_slice_init(key.cipher().clone(), iv)
        .map_err(|_| DecryptError::Length)?
        .decrypt_padded::<Pkcs7>(ciphertext)
        .map_err(|_| DecryptError::Padding)?
        .len();
    // Decrypted in place, then moved over the IV: no second buffer.
    data.copy_within(IV_LEN..IV_LEN + plaintext_len, 0);
    data.truncate(plaintext_len);
    Ok(data)
}

/// Encrypts `plaintext` as the platforms do, for the simulator and tests.
pub fn encrypt(key: &EncryptKey, plaintext: &[u8], iv: [u8; IV_LEN]) -> String {
    let ciphertext = cbc::Encryptor::<Aes256>::inner_iv_init(key.cipher().clone(), &iv.into())
        .encrypt_padded_vec::<Pkcs7>(plaintext);
    let mut data = Vec::with_capacity(IV_LEN + ciphertext.len());
    data.extend_from_slice(&iv);
    data.extend_from_slice(&ciphertext);
    STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feishu's documentation vector (`docs/protocol.md`, "Encryption").
    #[test]
    fn feishu_doc_vector_decrypts_to_hello_world() {
        let key = EncryptKey::new("test key");
        let plain = decrypt(&key, "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=").unwrap();
        assert_eq!(plain, b"hello world");
    }

    /// larksuite/oapi-sdk-java, `TestDecryptor.java`: key `1212121212`, and the plaintext
    /// that test asserts (note its `url_verification1`).
    const JAVA_SDK_CIPHERTEXT: &str = "4T4ivT/PR2APX9OYkhRKtu54s1rtIpj9xJU69Hs1yWQ/1RutbufsBs9xjx5YC3u/0hMRF49sN0kevQiEL8iB3bVEdpfyJXzXGDfKUjvKQTmG64GbMdTW6qRpadVPem3f32jHuT6fc+4TRg4BigwoUId+l/D+vcIwu3mDgAEbaqzWfmvccmpiRMfQbh9JhdK/akmrRjo/CXPLM+hZciFXJMSpKueV3SjZJoSls5y0ZTHC8zak/Mp/DSl1wa4mYe5laP367Lnl4ylGiXBKx3Ku29oWv79rYcO/5QT63H4rkl8bwYmAzScpb2KNnV11L3xiDzJp3hFdfXczUvm93FXu4Lw8eDAsRzIWCccKrqHh0UvtDJD95tNn6LvYew4+Xbk1RD4k7UzWJS9AMobOK778NLNxfQ+Kn7MKzBHilXnSIVY5V+dcsOOdfqJviW4yWmT73JHYKq1qJip7Cw7lbkmRMUmettUwdVFWxeXH6iTex3YXCgqoriCx/MzeQhdNEycipooB/vHItRt1CF44uFWj9tf8n3TdbdH4dNMD0hw8ejHJSbEHb9HAGCugUniN8BzL9wxE959JU4cu3BKjDuIk5oS9hLR1mSc3vKBuSa3VKOE=";
    const JAVA_SDK_PLAINTEXT: &str = r#"{"schema":"2.0","header":{"event_id":"f7984f25108f8137722bb63cee927e66","event_type":"contact.user.created_v3","app_id":"cli_xxxxxxxx","tenant_key":"xxxxxxx","create_time":"1603977298000000","token":"v"},"event":{"object":{"open_id":"ou_7dab8a3d3cdcc9da365777c7ad535d62","union_id":"on_576833b917gda3d939b9a3c2d53e72c8","user_id":"e33ggbyz","name":"张三","employee_no":"employee_no"}},"challenge":"1212","type":"url_verification1"}"#;

    /// larksuite/oapi-sdk-go v3, `event/dispatcher/dispatcher_test.go` `TestDecryptEvent`.
    /// The test states no plaintext; it is the commented-out `plainEventJsonStr` there.
    const GO_SDK_CIPHERTEXT: &str = "bZ3L7yh6m3Fkuffl4g+3uGjIHnhOm5fVZbKVuyT8t7tcd5ABMYm8l28/X900ZL3knZ7n+sCREu/H2WnIzft0amC7+xWqNH8o25IU63N4BnZWfHh+4hyG76QPd19vkw2bPJCx9aqxK8Nz+xqFNbk0RdgyWhmgd30jSxHtcQXAllkI7FMpGpOCteJad3bLXPDBQIV/xkCtKICCS7Z63gakpxZCLaRZ3qCXP1fapHh+LBIupxenrU6ysc7I3nHmjmKie41IiWwS5puG4zQHhVbq6KWLcgWm/3NBZOPQy53ucMu75SXA55I7jarVLZXWUcqBGrcgE3vouWbtwgZuzmoTQl0GSh5VYSVvpW992BuGxUWj0XjPYdICJm6Cr7xouNXwMcdb7N8caVdkdSZeEnswG19qSyDoQhklwzNGW0yiaayulBqJNjfge/G5V3401c2XaIuAeEIo+QQ4RSNpRGfnHkbu/j55FGQAGWjpuBNaIwZbaUoVP3NkGP+vM5rpEDe3sL2GN+Xsd+g9yBs7FqdMV8mXTGgLjCqjrPrke5/km76Q3Pe6KPs2YexMRG4MkSx3xUTzZnNn7zIzShPcjeSwBd2pxk6ht5N+fzueZdxl6Oo=";

    #[test]
    fn java_sdk_vector_decrypts_to_its_asserted_plaintext() {
        let plain = decrypt(&EncryptKey::new("1212121212"), JAVA_SDK_CIPHERTEXT).unwrap();
        assert_eq!(std::str::from_utf8(&plain).unwrap(), JAVA_SDK_PLAINTEXT);
    }

    #[test]
    fn go_sdk_vector_decrypts_to_its_plain_event() {
        let plain = decrypt(&EncryptKey::new("1212121212"), GO_SDK_CIPHERTEXT).unwrap();
        let expected = JAVA_SDK_PLAINTEXT.replace("url_verification1", "url_verification");
        assert_eq!(std::str::from_utf8(&plain).unwrap(), expected);
    }

    #[test]
    fn sdk_vector_ends_in_a_whole_padding_block_that_is_removed() {
        let raw_len = STANDARD.decode(GO_SDK_CIPHERTEXT).unwrap().len();
        let plain = decrypt(&EncryptKey::new("1212121212"), GO_SDK_CIPHERTEXT).unwrap();
        assert_eq!(raw_len - IV_LEN - plain.len(), BLOCK_LEN);
    }

    /// larksuite/node-sdk, `adaptor/services/__tests__/challenge.ts`: the test asserts
    /// the challenge value inside.
    #[test]
    fn node_sdk_challenge_vector_decrypts() {
        let plain = decrypt(
            &EncryptKey::new("mazhe.nerd"),
            "tT1xP+ovuc0T3b/rnZX3ax76exqAn0ANQ6/U45GcciC0mgNBc8JtvqOJGNAPMKpgRs2dVU1NYk9VDeqS8T4SYtU0hzNU54aS84WnxvZ3VFfDcy/RyABlNqlUiGyLDzFI0yxdCMT4KR/YEQXlt6nZi50KwRlZ+A75r645KesZuLMljezYyY8VeeXEVjPw35+e",
        )
        .unwrap();
        let text = std::str::from_utf8(&plain).unwrap();
        assert!(
            text.contains(r#""challenge":"5634b122-c042-4634-bc7f-b07a3c3e77ad""#),
            "{text}"
        );
    }

    /// The Feilian vector (`docs/protocol.md`, "Feilian").
    #[test]
    fn feilian_vector_decrypts_to_its_challenge() {
        let plain = decrypt(
            &EncryptKey::new("testkey"),
            "byxnrhs61Lk8dOCd7WEOoDA6ypOpFsM4zYahSGTKOYv2CFrRyAuHm2CB162eI2vFvn/RX3IJpwMgMTwADgjiLuEXzsvW70skf1RD5Ex2dyMOhbE70Np7m7u6ks/YxF1fSkHewOCW82IV5K+SBCqkMKntWOmSsU4m7h5PnQUuOsU=",
        )
        .unwrap();
        assert_eq!(
            plain,
            br#"{"challenge":"f8f76934-fcf2-49e4-8593-4cfa9240713e","token":"self-test","type":"url_verification"}"#
        );
    }

    #[test]
    fn wrong_key_is_a_padding_error_not_garbage() {
        // A wrong key leaves valid padding with probability ~1/256; this vector does not.
        let err = decrypt(&EncryptKey::new("not the key"), GO_SDK_CIPHERTEXT).unwrap_err();
        assert_eq!(err, DecryptError::Padding);
    }

    #[test]
    fn malformed_payloads_are_rejected_by_cause() {
        let key = EncryptKey::new("test key");
        assert_eq!(decrypt(&key, "not base64!"), Err(DecryptError::Base64));
        assert_eq!(decrypt(&key, ""), Err(DecryptError::Length));
        // An IV alone, or an IV and a partial block.
        assert_eq!(
            decrypt(&key, &STANDARD.encode([0u8; 16])),
            Err(DecryptError::Length)
        );
        assert_eq!(
            decrypt(&key, &STANDARD.encode([0u8; 40])),
            Err(DecryptError::Length)
        );
    }

    #[test]
    fn padding_is_checked_strictly() {
        let key = EncryptKey::new("test key");
        let mut data = STANDARD.decode(encrypt(&key, b"{}", [7; 16])).unwrap();
        // Flipping the last IV byte flips the last padding byte of the only block.
        data[15] ^= 0x01;
        assert_eq!(
            decrypt(&key, &STANDARD.encode(&data)),
            Err(DecryptError::Padding)
        );
    }

    #[test]
    fn encrypt_round_trips_every_length_around_a_block() {
        let key = EncryptKey::new("round trip");
        for len in 0..=48 {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = encrypt(&key, &plain, [len as u8; 16]);
            assert_eq!(decrypt(&key, &sealed).unwrap(), plain, "length {len}");
        }
    }
}
