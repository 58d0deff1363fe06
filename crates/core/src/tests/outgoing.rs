use std::borrow::Cow;

use serde_json::value::RawValue;

use super::*;
use crate::testing::message;

/// The body of `message`, as [`Outgoing::new`] writes it.
fn sqs_body(message: &Message<'_>) -> String {
    sqs_text(serde_json::to_string(message).unwrap())
}

#[test]
fn the_ordering_key_takes_the_app_id_where_the_tenant_key_is_absent_or_empty() {
    let key = |by, tenant_key: Option<&'static str>, app_id: Option<&'static str>| {
        let mut message = message("d1", None, None, None);
        (message.tenant_key, message.app_id) =
            (tenant_key.map(Cow::Borrowed), app_id.map(Cow::Borrowed));
        Outgoing::new(message).unwrap().ordering_key(by).to_owned()
    };
    let unit = |tenant_key, app_id| key(GroupBy::Unit, tenant_key, app_id);
    assert_eq!(unit(Some("t1"), Some("cli_a")), "feishu:t1:department:d1");
    assert_eq!(unit(None, Some("cli_a")), "feishu:cli_a:department:d1");
    assert_eq!(unit(Some(""), Some("cli_a")), "feishu:cli_a:department:d1");
    assert_eq!(unit(Some(""), None), "feishu::department:d1");
    assert_eq!(unit(None, None), "feishu::department:d1");
    let tenant = |tenant_key, app_id| key(GroupBy::Tenant, tenant_key, app_id);
    assert_eq!(tenant(Some("t1"), Some("cli_a")), "feishu:t1");
    assert_eq!(tenant(None, Some("cli_a")), "feishu:cli_a");
    assert_eq!(tenant(Some(""), Some("cli_a")), "feishu:cli_a");
    assert_eq!(tenant(None, None), "feishu:");
}

#[test]
fn the_tenant_group_names_the_endpoint_and_the_unit_group_the_unit() {
    let mut message = message("d1", None, None, None);
    message.endpoint = Some(Cow::Borrowed("feishu/lark-global"));
    message.tenant_key = Some(Cow::Borrowed("t1"));
    let outgoing = Outgoing::new(message).unwrap();
    assert_eq!(
        outgoing.ordering_key(GroupBy::Tenant),
        "feishu/lark-global:t1"
    );
    assert_eq!(
        outgoing.ordering_key(GroupBy::Unit),
        "feishu:t1:department:d1"
    );
    assert_eq!(GroupBy::default(), GroupBy::Tenant);
}

/// The code points that matter, in order: every one- and two-byte character
/// (the control characters among them), the edges of the surrogate gap, every
/// character with the lead byte 0xEF (U+F000–U+FFFF: U+FFFD, U+FFFE, U+FFFF), and
/// the first and last characters outside the Basic Multilingual Plane.
fn every_char() -> String {
    [
        0..=0x7ff,
        0xd700..=0xd7ff,
        0xe000..=0xe0ff,
        0xf000..=0xffff,
        0x10000..=0x100ff,
        0x10ff00..=0x10ffff,
    ]
    .into_iter()
    .flatten()
    .filter_map(char::from_u32)
    .collect()
}

fn assert_sqs_text(body: &str) {
    // A `str` is UTF-8: each of its characters is checked, so every byte is part
    // of an allowed character.
    if let Some((at, c)) = body.char_indices().find(|&(_, c)| !sqs_allows(c)) {
        panic!("U+{:04X} at byte {at}", u32::from(c));
    }
}

#[test]
fn the_allowed_set_is_the_documented_one() {
    let allowed: Vec<u32> = (0..=0x10ffff)
        .filter_map(char::from_u32)
        .filter(|&c| sqs_allows(c))
        .map(u32::from)
        .collect();
    let documented: Vec<u32> = [0x9, 0xa, 0xd]
        .into_iter()
        .chain(0x20..=0xd7ff)
        .chain(0xe000..=0xfffd)
        .chain(0x10000..=0x10ffff)
        .collect();
    assert_eq!(allowed, documented);
}

#[test]
fn a_body_of_hostile_strings_is_sqs_text_and_the_same_json() {
    let every = every_char();
    for text in [
        every.as_str(),
        "Growth \u{fffe}",
        "Growth \u{ffff}",
        "\u{0}\u{1f}\u{fffe}\u{ffff}\u{7f}\u{fffd}\u{10ffff}",
    ] {
        let body = sqs_body(&message(text, Some(text), None, None));
        assert_sqs_text(&body);
        let read: Message = serde_json::from_str(&body).unwrap();
        assert_eq!(read.entity_id, text);
        assert_eq!(read.event_id, text);
        assert_eq!(read.changed_fields[0], text);
        assert_eq!(read.tenant_key.as_deref(), Some(text));
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["entity_id"], text);
    }
    let body = sqs_body(&message("\u{ffff}\u{0}", Some("\u{fffe}"), None, None));
    assert!(body.contains(r#""entity_id":"\uffff\u0000""#), "{body}");
}

#[test]
fn raw_snapshots_are_escaped_where_sqs_needs_it_and_keep_their_meaning() {
    // Every character JSON allows raw in a string (not a control character, `"`
    // or `\\`), raw; then escapes, a lone surrogate among them.
    let raw_chars: String = every_char()
        .chars()
        .filter(|&c| c >= '\u{20}' && c != '"' && c != '\\')
        .collect();
    let after = format!(
        r#"{{"name":"{raw_chars}","cut":"Growth \ud83d","escaped":"\u0000\u001f\uffff","k{ffff}":[1,"{fffe}"]}}"#,
        ffff = '\u{ffff}',
        fffe = '\u{fffe}',
    );
    let after = RawValue::from_string(after).unwrap();
    let before =
        RawValue::from_string("{\"name\":\"\u{ffff}\",\"cut\":\"\\udc00\"}".into()).unwrap();
    let body = sqs_body(&message("od-1", Some("od-1"), Some(&before), Some(&after)));
    assert_sqs_text(&body);
    // The raw text changed only where a character had to be escaped...
    assert!(
        body.contains(r#""before":{"name":"\uffff","cut":"\udc00"}"#),
        "{body}"
    );
    assert!(body.contains(r#""cut":"Growth \ud83d""#));
    assert!(body.contains(r#""k\uffff":[1,"\ufffe"]"#));
    // ...and reads back as the same JSON: a consumer gets the same snapshot.
    let read: Message = serde_json::from_str(&body).unwrap();
    let after_read = read.after.unwrap();
    let lone = |raw: &str| raw.replace(r#""cut":"Growth \ud83d","#, "");
    let original: serde_json::Value = serde_json::from_str(&lone(after.get())).unwrap();
    let escaped: serde_json::Value = serde_json::from_str(&lone(after_read.get())).unwrap();
    assert_eq!(escaped, original);
    assert_eq!(escaped["name"], raw_chars);
}

#[test]
fn a_common_body_is_what_serde_json_writes() {
    let after = RawValue::from_string(
        r#"{"name": "部门名称1 😀", "open_id":"od_6M95Q3J3abcd", "seq": 0}"#.into(),
    )
    .unwrap();
    for text in [
        "od-64242a18099d3a31acd24d8fce8d1a2b",
        "部门\n\"\u{1f}",
        "\u{ef00}",
    ] {
        let message = message(text, Some(text), Some(&after), Some(&after));
        assert_eq!(sqs_body(&message), serde_json::to_string(&message).unwrap());
    }
}
