//! The simulator against the real local stack: cargo-lambda's Lambda emulator, the
//! relay binary polling it as Lambda runs it, and a moto SQS queue. `org-change-sim`
//! answers both challenges and triggers every event type of both sources, encrypted
//! (and signed for Feishu); each lands once, as the message contract says.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use common::*;
use org_change_core::Source;
use serde_json::json;

/// Every relayed event type, and the change it must become (docs/message.md, "Event
/// types relayed").
const FEISHU_TYPES: [(&str, &str, &str); 11] = [
    ("corehr.department.created_v1", "department", "created"),
    ("corehr.department.created_v2", "department", "created"),
    ("corehr.department.updated_v1", "department", "updated"),
    ("corehr.department.updated_v2", "department", "updated"),
    ("corehr.department.deleted_v1", "department", "deleted"),
    ("corehr.custom_org.created_v2", "custom_org", "created"),
    ("corehr.custom_org.updated_v2", "custom_org", "updated"),
    ("corehr.custom_org.deleted_v2", "custom_org", "deleted"),
    ("contact.department.created_v3", "department", "created"),
    ("contact.department.updated_v3", "department", "updated"),
    ("contact.department.deleted_v3", "department", "deleted"),
];
const FEILIAN_TYPES: [(&str, &str, &str); 3] = [
    ("department.v1.create", "department", "created"),
    ("department.v1.update", "department", "updated"),
    ("department.v1.delete", "department", "deleted"),
];

fn types(source: Source) -> &'static [(&'static str, &'static str, &'static str)] {
    match source {
        Source::Feishu => &FEISHU_TYPES,
        Source::Feilian => &FEILIAN_TYPES,
        other => panic!("no event types for {other:?}"),
    }
}

/// `<command> --url … --token … --key … <extra>` for `source` on `stack`.
fn args(command: &str, stack: &LocalStack, source: Source, extra: &[&str]) -> Vec<String> {
    let (token, key) = match source {
        Source::Feishu => (FEISHU_TOKEN, FEISHU_KEY),
        Source::Feilian => (FEILIAN_TOKEN, FEILIAN_KEY),
        other => panic!("no secrets for {other:?}"),
    };
    let url = stack.url(source);
    [command, "--url", &url, "--token", token, "--key", key]
        .iter()
        .chain(extra)
        .map(|arg| arg.to_string())
        .collect()
}

/// Runs the simulator; its stdout, or a panic with everything it said.
fn run(args: &[String]) -> String {
    let output = simulator(args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "org-change-sim {args:?}: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// One event the simulator reports it sent: `<type> event_id=… entity_id=… → <status> <body>`.
#[derive(Debug, Clone)]
struct Sent {
    source: Source,
    event_type: String,
    event_id: String,
    entity_id: String,
}

/// Runs `trigger` with `extra`; what it reports it sent, each accepted with a 200.
fn trigger(stack: &LocalStack, source: Source, extra: &[&str]) -> Vec<Sent> {
    run(&args("trigger", stack, source, extra))
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let [event_type, event_id, entity_id, "→", "200", ..] = words[..] else {
                panic!("not an accepted event: {line}");
            };
            Sent {
                source,
                event_type: event_type.to_owned(),
                event_id: event_id.strip_prefix("event_id=").unwrap().to_owned(),
                entity_id: entity_id.strip_prefix("entity_id=").unwrap().to_owned(),
            }
        })
        .collect()
}

fn is_hex(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[tokio::test]
async fn every_triggered_event_type_of_both_sources_lands_once_as_the_contract_says() {
    let Setup { client, queue } = setup(false).await;
    let mut stack = LocalStack::start(&queue, &SECRETS);

    // Ready when the relay answers the URL verification through the emulator: until
    // then the emulator refuses the connection or holds the request for the relay.
    let challenge = args("challenge", &stack, Source::Feishu, &[]);
    let answer = stack.until(Duration::from_secs(60), || {
        let output = simulator(&challenge);
        output.status.success().then_some(output.stdout)
    });
    assert!(String::from_utf8_lossy(&answer).contains("ok: the challenge came back"));
    let answer = run(&args("challenge", &stack, Source::Feilian, &[]));
    assert!(answer.contains("ok: the challenge came back"), "{answer}");
    assert!(
        drain(&client, &queue).await.is_empty(),
        "a challenge enqueues nothing"
    );

    // Before the first event: `occurred_at` must be the time of sending.
    let started = SystemTime::now();
    let mut sent = Vec::new();
    // Every type on its own, with an entity id to trace...
    let each = Source::ALL
        .into_iter()
        .flat_map(|source| types(source).iter().map(move |(t, ..)| (source, t)));
    for (n, (source, event_type)) in each.enumerate() {
        let id = format!("trace-{}-{n}", source.as_str());
        let one = trigger(&stack, source, &["--id", &id, event_type]);
        assert_eq!(one.len(), 1, "{event_type}");
        assert_eq!(
            (one[0].event_type.as_str(), one[0].entity_id.as_str()),
            (*event_type, id.as_str())
        );
        sent.extend(one);
    }
    // ...and every type of each source at once, with new entity ids.
    for source in Source::ALL {
        let all = trigger(&stack, source, &["all"]);
        let triggered: BTreeSet<&str> = all.iter().map(|s| s.event_type.as_str()).collect();
        let expected: BTreeSet<&str> = types(source).iter().map(|(t, ..)| *t).collect();
        assert_eq!(triggered, expected, "`all` for {}", source.as_str());
        for event in &all {
            let sample = sample(&format!("{}/{}.json", source.as_str(), event.event_type));
            assert!(!sample.contains(&event.entity_id), "{event:?} is not fresh");
        }
        sent.extend(all);
    }
    let finished = SystemTime::now();

    let event_ids: BTreeSet<&str> = sent.iter().map(|s| s.event_id.as_str()).collect();
    assert_eq!(event_ids.len(), sent.len(), "every event id is new");
    let mut expected: HashMap<String, Sent> = sent
        .iter()
        .map(|event| {
            let id = match event.source {
                Source::Feishu => {
                    assert!(
                        event.event_id.len() == 32 && is_hex(&event.event_id),
                        "{event:?}"
                    );
                    format!("feishu:{}", event.event_id)
                }
                Source::Feilian => {
                    let parts: Vec<&str> = event.event_id.split('-').collect();
                    let lengths: Vec<usize> = parts.iter().map(|part| part.len()).collect();
                    assert_eq!(lengths, [8, 4, 4, 4, 12], "{event:?} is a UUID");
                    assert!(parts.iter().all(|part| is_hex(part)), "{event:?}");
                    format!("feilian:{}:0", event.event_id)
                }
                other => panic!("unexpected source {other:?}"),
            };
            (id, event.clone())
        })
        .collect();

    let received = drain(&client, &queue).await;
    assert_eq!(
        received.len(),
        sent.len(),
        "one message per triggered event, nothing else"
    );
    for message in &received {
        let body = &message.body;
        let id = body["id"].as_str().expect("an id");
        let event = expected
            .remove(id)
            .unwrap_or_else(|| panic!("a message nobody sent, or twice: {body}"));
        let (_, entity, action) = types(event.source)
            .iter()
            .find(|(event_type, ..)| *event_type == event.event_type)
            .expect("a relayed type");
        let source = event.source.as_str();
        let fields = [
            "schema_version",
            "source",
            "event_type",
            "event_id",
            "entity",
            "action",
            "entity_id",
        ]
        .map(|field| body[field].clone());
        assert_eq!(
            fields,
            [
                json!(1),
                json!(source),
                json!(event.event_type),
                json!(event.event_id),
                json!(entity),
                json!(action),
                json!(event.entity_id),
            ],
            "{body}"
        );
        let occurred_at = body["occurred_at"].as_str().expect("occurred_at");
        let occurred_at = humantime::parse_rfc3339(occurred_at).expect("RFC 3339");
        // Milliseconds: the start may be truncated by up to one.
        assert!(
            started - Duration::from_millis(1) <= occurred_at && occurred_at <= finished,
            "{body}"
        );
        let attributes: HashMap<&str, &str> = message
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            attributes,
            HashMap::from([
                ("source", source),
                ("event_type", event.event_type.as_str()),
                ("entity", *entity),
                ("action", *action),
            ]),
            "{body}"
        );
    }
}

/// `org-change-sim` pointed at named endpoints (`…/feishu/lark-global`,
/// `…/feilian/subsidiary`) of the real relay binary, and at a default endpoint with
/// its previous pair during a rotation: each event lands with its endpoint, and the
/// relay's log and metrics say when the previous pair was used.
#[tokio::test]
async fn the_simulator_targets_named_endpoints_and_the_relay_reports_the_previous_pair() {
    const LARK: (&str, &str) = ("lark-global-token", "lark-global-key");
    const SUB: (&str, &str) = ("subsidiary-token", "subsidiary-key");
    const OLD: (&str, &str) = ("feishu-old-token", "feishu-old-key");
    let Setup { client, queue } = setup(false).await;
    let until = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(3600))
        .to_string();
    let endpoints = json!({
        "feishu/lark-global": {"verification_token": LARK.0, "encrypt_key": LARK.1},
        "feilian/subsidiary": {"verification_token": SUB.0, "encrypt_key": SUB.1},
        "feishu": {"previous_verification_token": OLD.0, "previous_encrypt_key": OLD.1,
                   "previous_until": until},
    })
    .to_string();
    let mut vars = SECRETS.to_vec();
    vars.extend([
        ("ENDPOINTS", endpoints.as_str()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
    ]);
    let mut stack = LocalStack::start(&queue, &vars);
    let base_url = stack.base_url.clone();
    let at = |path: &str| format!("{base_url}/{path}");
    let command = |command: &str, url: &str, (token, key): (&str, &str), extra: &[&str]| {
        [command, "--url", url, "--token", token, "--key", key]
            .iter()
            .chain(extra)
            .map(|arg| arg.to_string())
            .collect::<Vec<String>>()
    };

    let lark_url = at("feishu/lark-global");
    let challenge = command("challenge", &lark_url, LARK, &[]);
    let answer = stack.until(Duration::from_secs(60), || {
        let output = simulator(&challenge);
        output.status.success().then_some(output.stdout)
    });
    assert!(String::from_utf8_lossy(&answer).contains("feishu/lark-global challenge → 200"));
    let sub_url = at("feilian/subsidiary");
    let answer = run(&command("challenge", &sub_url, SUB, &[]));
    assert!(answer.contains("ok: the challenge came back"), "{answer}");

    let mut expected = Vec::new();
    for (url, secrets, event_type, endpoint) in [
        (
            &lark_url,
            LARK,
            "contact.department.updated_v3",
            "feishu/lark-global",
        ),
        (&sub_url, SUB, "department.v1.create", "feilian/subsidiary"),
        // The default endpoint, with the pair the console still has mid-rotation.
        (&at("feishu"), OLD, "corehr.department.updated_v2", "feishu"),
    ] {
        let line = run(&command("trigger", url, secrets, &[event_type]));
        assert!(line.contains("→ 200"), "{endpoint}: {line}");
        expected.push(endpoint);
    }
    // Another app's secrets at a named endpoint: refused.
    let forged = simulator(command(
        "trigger",
        &lark_url,
        (FEISHU_TOKEN, FEISHU_KEY),
        &["corehr.department.updated_v2"],
    ));
    let forged_out = String::from_utf8_lossy(&forged.stdout);
    assert!(
        !forged.status.success() && forged_out.contains("→ 401"),
        "{forged_out}"
    );

    let mut endpoints: Vec<String> = drain(&client, &queue)
        .await
        .iter()
        .map(|message| {
            message.body["endpoint"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    endpoints.sort();
    expected.sort();
    assert_eq!(endpoints, expected);

    let output = stack.relay_output();
    for secret in [LARK.0, LARK.1, SUB.0, SUB.1, OLD.0, OLD.1] {
        assert!(
            !output.contains(secret),
            "a secret in the output:\n{output}"
        );
    }
    let lines: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let previous = lines
        .iter()
        .find(|line| line["fields"]["credentials"] == "previous")
        .unwrap_or_else(|| panic!("no line with credentials=previous:\n{output}"));
    assert_eq!(previous["fields"]["endpoint"], "feishu", "{output}");
    assert!(
        lines
            .iter()
            .any(|line| line["PreviousCredentialsUsed"] == 1 && line["Endpoint"] == "feishu"),
        "{output}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["credentials"] == "current"
                && line["fields"]["endpoint"] == "feishu/lark-global"),
        "{output}"
    );
    // A fingerprint line for every secret of ENDPOINTS too.
    let fingerprinted: BTreeSet<&str> = lines
        .iter()
        .filter(|line| {
            line["fields"]["message"]
                == "secret fingerprint (printf 'org-change-relay/fingerprint/v1:%s' VALUE | sha256sum | cut -c1-8)"
        })
        .filter_map(|line| line["fields"]["variable"].as_str())
        .collect();
    for place in [
        r#"ENDPOINTS["feishu/lark-global"].encrypt_key"#,
        r#"ENDPOINTS["feilian/subsidiary"].verification_token"#,
        r#"ENDPOINTS["feishu"].previous_encrypt_key"#,
        "FEISHU_ENCRYPT_KEY",
    ] {
        assert!(fingerprinted.contains(place), "{place}: {fingerprinted:?}");
    }
}
