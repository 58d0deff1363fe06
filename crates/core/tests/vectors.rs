//! The official test vectors, end to end through `receive`: ciphertexts and a
//! signature published by the platforms and their SDKs (`docs/protocol.md`,
//! "Encryption", "Signature", "Feilian"). Their decryption alone is tested in
//! `src/cipher.rs` and `src/signature.rs`; here they go through the whole pipeline.

mod common;

use common::*;
use org_change_core::Source;
use serde_json::json;

/// The Feilian vector: key `testkey`, token `self-test`.
const FEILIAN_VECTOR: &str = "byxnrhs61Lk8dOCd7WEOoDA6ypOpFsM4zYahSGTKOYv2CFrRyAuHm2CB162eI2vFvn/RX3IJpwMgMTwADgjiLuEXzsvW70skf1RD5Ex2dyMOhbE70Np7m7u6ks/YxF1fSkHewOCW82IV5K+SBCqkMKntWOmSsU4m7h5PnQUuOsU=";
const FEILIAN_CHALLENGE: &str = "f8f76934-fcf2-49e4-8593-4cfa9240713e";

/// larksuite/node-sdk `challenge.ts`: key `mazhe.nerd`; the URL verification inside
/// carries the token `iRdCP2WwXNBXRM3mGLqhrgch3cn0gbT6`.
const NODE_SDK_VECTOR: &str = "tT1xP+ovuc0T3b/rnZX3ax76exqAn0ANQ6/U45GcciC0mgNBc8JtvqOJGNAPMKpgRs2dVU1NYk9VDeqS8T4SYtU0hzNU54aS84WnxvZ3VFfDcy/RyABlNqlUiGyLDzFI0yxdCMT4KR/YEQXlt6nZi50KwRlZ+A75r645KesZuLMljezYyY8VeeXEVjPw35+e";
const NODE_SDK_TOKEN: &str = "iRdCP2WwXNBXRM3mGLqhrgch3cn0gbT6";

/// larksuite/oapi-sdk-go `TestDecryptEvent`, key `1212121212`: a schema 2.0
/// `contact.user.created_v3` event (`header.token` `v`) that also says
/// `"challenge":"1212","type":"url_verification"`, without a top-level `token`.
const GO_SDK_VECTOR: &str = "bZ3L7yh6m3Fkuffl4g+3uGjIHnhOm5fVZbKVuyT8t7tcd5ABMYm8l28/X900ZL3knZ7n+sCREu/H2WnIzft0amC7+xWqNH8o25IU63N4BnZWfHh+4hyG76QPd19vkw2bPJCx9aqxK8Nz+xqFNbk0RdgyWhmgd30jSxHtcQXAllkI7FMpGpOCteJad3bLXPDBQIV/xkCtKICCS7Z63gakpxZCLaRZ3qCXP1fapHh+LBIupxenrU6ysc7I3nHmjmKie41IiWwS5puG4zQHhVbq6KWLcgWm/3NBZOPQy53ucMu75SXA55I7jarVLZXWUcqBGrcgE3vouWbtwgZuzmoTQl0GSh5VYSVvpW992BuGxUWj0XjPYdICJm6Cr7xouNXwMcdb7N8caVdkdSZeEnswG19qSyDoQhklwzNGW0yiaayulBqJNjfge/G5V3401c2XaIuAeEIo+QQ4RSNpRGfnHkbu/j55FGQAGWjpuBNaIwZbaUoVP3NkGP+vM5rpEDe3sL2GN+Xsd+g9yBs7FqdMV8mXTGgLjCqjrPrke5/km76Q3Pe6KPs2YexMRG4MkSx3xUTzZnNn7zIzShPcjeSwBd2pxk6ht5N+fzueZdxl6Oo=";

/// larksuite/oapi-sdk-java `TestDecryptor.java`, key `1212121212`: the same event
/// with `"type":"url_verification1"`, so an event rather than a URL verification.
const JAVA_SDK_VECTOR: &str = "4T4ivT/PR2APX9OYkhRKtu54s1rtIpj9xJU69Hs1yWQ/1RutbufsBs9xjx5YC3u/0hMRF49sN0kevQiEL8iB3bVEdpfyJXzXGDfKUjvKQTmG64GbMdTW6qRpadVPem3f32jHuT6fc+4TRg4BigwoUId+l/D+vcIwu3mDgAEbaqzWfmvccmpiRMfQbh9JhdK/akmrRjo/CXPLM+hZciFXJMSpKueV3SjZJoSls5y0ZTHC8zak/Mp/DSl1wa4mYe5laP367Lnl4ylGiXBKx3Ku29oWv79rYcO/5QT63H4rkl8bwYmAzScpb2KNnV11L3xiDzJp3hFdfXczUvm93FXu4Lw8eDAsRzIWCccKrqHh0UvtDJD95tNn6LvYew4+Xbk1RD4k7UzWJS9AMobOK778NLNxfQ+Kn7MKzBHilXnSIVY5V+dcsOOdfqJviW4yWmT73JHYKq1qJip7Cw7lbkmRMUmettUwdVFWxeXH6iTex3YXCgqoriCx/MzeQhdNEycipooB/vHItRt1CF44uFWj9tf8n3TdbdH4dNMD0hw8ejHJSbEHb9HAGCugUniN8BzL9wxE959JU4cu3BKjDuIk5oS9hLR1mSc3vKBuSa3VKOE=";
const SDK_KEY: &str = "1212121212";
const SDK_TOKEN: &str = "v";
const SDK_EVENT_ID: &str = "f7984f25108f8137722bb63cee927e66";

/// Feishu's documentation vector: key `test key`, plaintext `hello world`.
const FEISHU_DOC_VECTOR: &str = "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=";

/// The SDKs' signature round trip: the Go SDK's `mockEventReq` body, signed with
/// key `1212121212`, timestamp `timestamp`, nonce `nonce` (`src/signature.rs`).
const SIGNED_SDK_BODY: &str = r#"{"schema":"2.0","header":{"event_id":"f7984f25108f8137722bb63cee927e66","event_type":"contact.user.created_v3","app_id":"cli_xxxxxxxx","tenant_key":"xxxxxxx","create_time":"1603977298000000","token":"v"},"event":{"object":{"open_id":"ou_7dab8a3d3cdcc9da365777c7ad535d62","union_id":"on_576833b917gda3d939b9a3c2d53e72c8","user_id":"e33ggbyz","name":"张三","employee_no":"employee_no"}},"challenge":"1212","type":"url_verification"}"#;
const SDK_SIGNATURE: &str = "4dca085198cb3216defc5b65b0668c1328b038a22dbadf2bc6c4fdc3d32bbc45";

fn encrypted(vector: &str) -> Request {
    Request::plain(json!({ "encrypt": vector }).to_string())
}

#[test]
fn the_official_vectors_go_through_the_whole_pipeline() {
    use Source::{Feilian, Feishu};
    // (row, endpoint, request, what it must come to)
    let rows = [
        (
            "feilian vector at its endpoint",
            endpoint(Feilian, "self-test", Some("testkey")),
            encrypted(FEILIAN_VECTOR),
            Expect::Challenge(FEILIAN_CHALLENGE),
        ),
        (
            "feilian vector at an endpoint with another token",
            endpoint(Feilian, "token-test", Some("testkey")),
            encrypted(FEILIAN_VECTOR),
            Expect::Refused("bad_token"),
        ),
        (
            "feilian vector at an endpoint with another key",
            endpoint(Feilian, "self-test", Some("another key")),
            encrypted(FEILIAN_VECTOR),
            Expect::Refused("undecryptable"),
        ),
        (
            "feilian vector at an endpoint without a key",
            endpoint(Feilian, "self-test", None),
            encrypted(FEILIAN_VECTOR),
            Expect::Refused("encrypt_key_missing"),
        ),
        (
            "feilian vector at a feishu endpoint: the same scheme, an unsigned URL verification",
            endpoint(Feishu, "self-test", Some("testkey")),
            encrypted(FEILIAN_VECTOR),
            Expect::Challenge(FEILIAN_CHALLENGE),
        ),
        (
            "node SDK challenge vector",
            endpoint(Feishu, NODE_SDK_TOKEN, Some("mazhe.nerd")),
            encrypted(NODE_SDK_VECTOR),
            Expect::Challenge("5634b122-c042-4634-bc7f-b07a3c3e77ad"),
        ),
        (
            "node SDK challenge vector, signed",
            endpoint(Feishu, NODE_SDK_TOKEN, Some("mazhe.nerd")),
            encrypted(NODE_SDK_VECTOR).signed("mazhe.nerd"),
            Expect::Challenge("5634b122-c042-4634-bc7f-b07a3c3e77ad"),
        ),
        (
            "go SDK vector: type url_verification makes it a URL verification, whose token is \
             the top-level one, absent here (header.token does not count)",
            endpoint(Feishu, SDK_TOKEN, Some(SDK_KEY)),
            encrypted(GO_SDK_VECTOR),
            Expect::Refused("bad_token"),
        ),
        (
            "java SDK vector unsigned: an event, so it must be signed",
            endpoint(Feishu, SDK_TOKEN, Some(SDK_KEY)),
            encrypted(JAVA_SDK_VECTOR),
            Expect::Refused("missing_signature"),
        ),
        (
            "java SDK vector signed: a contact.user event, not relayed",
            endpoint(Feishu, SDK_TOKEN, Some(SDK_KEY)),
            encrypted(JAVA_SDK_VECTOR).signed(SDK_KEY),
            Expect::Ignored("contact.user.created_v3", SDK_EVENT_ID),
        ),
        (
            "java SDK vector signed, endpoint with another token",
            endpoint(Feishu, "w", Some(SDK_KEY)),
            encrypted(JAVA_SDK_VECTOR).signed(SDK_KEY),
            Expect::Refused("bad_token"),
        ),
        (
            "feishu doc vector: decrypts to text that is not JSON (feilian)",
            endpoint(Feilian, "t", Some("test key")),
            encrypted(FEISHU_DOC_VECTOR),
            Expect::Refused("undecryptable"),
        ),
        (
            "feishu doc vector: decrypts to text that is not JSON (feishu, signed: the \
             sender holds the key, so the answer says what is wrong)",
            endpoint(Feishu, "t", Some("test key")),
            encrypted(FEISHU_DOC_VECTOR).signed("test key"),
            Expect::Refused("malformed_envelope"),
        ),
        (
            "SDK signature vector at a keyed endpoint: plaintext is refused even correctly signed",
            endpoint(Feishu, SDK_TOKEN, Some(SDK_KEY)),
            Request::plain(SIGNED_SDK_BODY).with_headers("timestamp", "nonce", SDK_SIGNATURE),
            Expect::Refused("plaintext_refused"),
        ),
        (
            "SDK signature vector at an endpoint without a key: the signature proves nothing, \
             and the URL verification has no top-level token",
            endpoint(Feishu, SDK_TOKEN, None),
            Request::plain(SIGNED_SDK_BODY).with_headers("timestamp", "nonce", SDK_SIGNATURE),
            Expect::Refused("bad_token"),
        ),
    ];
    for (row, endpoint, request, expect) in rows {
        check(row, run(&endpoint, &request), expect);
    }
}
