//! The seed corpus of each target, per target a list of (file name, input bytes).
//! `src/bin/seeds.rs` writes it; the lib's tests check every `receive` seed passes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use org_change_core::{EncryptKey, Source, cipher};
use serde_json::Value;

use crate::{ENCRYPT_FIRST, FEILIAN, IV, KEY, KEYED, TOKEN, VALID_SIGNATURE, encrypted_body};

/// The shapes no file in `events/` has, `$TOKEN` standing for [`TOKEN`]: a
/// challenge, a Feishu schema 1.0 event, and a Feilian request of three changes
/// without a field list (the snapshot comparison).
const SHAPES: [(&str, &[Source], &str); 3] = [
    (
        "challenge",
        &Source::ALL,
        r#"{"challenge":"5634b122-c042-4634-bc7f-b07a3c3e77ad","token":"$TOKEN",
            "type":"url_verification"}"#,
    ),
    (
        "schema1",
        &[Source::Feishu],
        r#"{"uuid":"41b5f371157e3a3b3f1a5ec3e0c9d3a4","token":"$TOKEN","ts":"1502199207.7171419",
            "type":"event_callback","event":{"type":"corehr.department.deleted_v1",
            "app_id":"cli_9f5343c580712544","tenant_key":"2ca1d211f64f6438",
            "department_id":"6893014062142060039"}}"#,
    ),
    (
        "three-changes",
        &[Source::Feilian],
        r#"{"schema":"1.0","header":{"event_id":"e09288e2-a1b3-4b38-84a8-3c6737250000",
            "token":"$TOKEN","create_time":"1740385174957","event_type":"department.v1.update",
            "app_id":"897957767eda448e9e3c53c6a51d0000"},"data":{"events":[$EVENTS]}}"#,
    ),
];

/// One Feilian change of department `od_<i>` from the name "before" to "after".
fn feilian_change(i: usize) -> String {
    let department = |name| {
        format!(
            r#"{{"open_id":"od_{i}","parent_id":"od_root","name":"{name}","type":2,"seq":0,
                 "update_time":1740385174}}"#
        )
    };
    let (after, before) = (department("after"), department("before"));
    format!(r#"{{"object":{after},"old_object":{before}}}"#)
}

/// The samples of `events/feishu` and `events/feilian`, compact, with [`TOKEN`] as
/// their token, then [`SHAPES`] (the challenge once per platform).
pub fn bodies() -> Vec<(String, Source, Vec<u8>)> {
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut bodies = Vec::new();
    for source in Source::ALL {
        let Ok(dir) = std::fs::read_dir(events.join(source.as_str())) else {
            continue;
        };
        let mut files: Vec<_> = dir.map(|entry| entry.expect("an entry").path()).collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a sample");
            let mut sample: Value = serde_json::from_str(&text).expect("a JSON sample");
            if let Some(header) = sample.get_mut("header") {
                header["token"] = TOKEN.into();
            }
            let name = file.file_stem().expect("a name").to_string_lossy();
            let body = serde_json::to_vec(&sample).expect("JSON");
            bodies.push((format!("{}.{name}", source.as_str()), source, body));
        }
    }
    let events: Vec<String> = (0..3).map(feilian_change).collect();
    for (name, sources, shape) in SHAPES {
        let text = shape
            .replace("$TOKEN", TOKEN)
            .replace("$EVENTS", &events.join(","));
        let value: Value = serde_json::from_str(&text).expect("a JSON shape");
        for &source in sources {
            let body = serde_json::to_vec(&value).expect("JSON");
            bodies.push((format!("{}.{name}", source.as_str()), source, body));
        }
    }
    bodies
}

/// `receive`: each body three ways. Plaintext at a keyless endpoint; encrypted by
/// the target, so mutations of the plaintext reach the parsers behind decryption;
/// and already encrypted, so mutations hit the outer JSON and the base64.
pub fn receive() -> Vec<(String, Vec<u8>)> {
    let key = EncryptKey::new(KEY);
    let mut seeds = Vec::new();
    for (name, source, body) in bodies() {
        let platform = if source == Source::Feilian {
            FEILIAN
        } else {
            0
        };
        let signed = platform | KEYED | VALID_SIGNATURE;
        for (way, flags, body) in [
            ("plain", platform, body.clone()),
            ("encrypt-first", signed | ENCRYPT_FIRST, body.clone()),
            ("encrypted", signed, encrypted_body(&key, &body)),
        ] {
            seeds.push((format!("{name}.{way}"), [vec![flags], body].concat()));
        }
    }
    seeds
}

/// `cipher`: a real `encrypt` value (mode 0), its raw bytes (mode 1), and a round
/// trip around a block boundary (mode 2).
pub fn cipher() -> Vec<(String, Vec<u8>)> {
    let sealed = cipher::encrypt(&EncryptKey::new(KEY), b"{\"challenge\":\"x\"}", IV);
    let raw = STANDARD.decode(&sealed).expect("base64");
    let round_trip = [&[2, 4][..], b"key!", &IV, &[0x5a; 16]].concat();
    vec![
        ("text".into(), [&[0], sealed.as_bytes()].concat()),
        ("raw".into(), [&[1], &raw[..]].concat()),
        ("round-trip".into(), round_trip),
    ]
}

/// `timestamp`: every shape `create_time` and `ts` come in, as JSON text (mode 0).
pub fn timestamp() -> Vec<(String, Vec<u8>)> {
    [
        ("millis", r#""1608725989000""#),
        ("micros", r#""1603977298000000""#),
        ("seconds", "1608725989"),
        ("fraction", r#""1502199207.7171419""#),
        ("nanos", r#""1608725989123456789""#),
        ("number-millis", "1740385174957"),
        ("padded", r#"" 0001608725989000 ""#),
        ("negative", "-1"),
    ]
    .into_iter()
    .map(|(name, json)| (name.to_owned(), [b"\0", json.as_bytes()].concat()))
    .collect()
}
