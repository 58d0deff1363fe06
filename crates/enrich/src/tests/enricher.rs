use std::time::{Duration, SystemTime};

use org_change_contract::Message;
use serde_json::{Value, json};

use super::*;
use crate::testing::{Fake, Post, SECRET, app, apps, corehr, iso, record, run, start};
use crate::too_large;

const SECOND: Duration = Duration::from_secs(1);

/// The body forwarded for each record; panics on a Retry.
fn forwarded(verdicts: &[Verdict]) -> Vec<&str> {
    verdicts
        .iter()
        .map(|verdict| match verdict {
            Verdict::Forward { body, .. } => body.as_str(),
            Verdict::Retry(why) => panic!("expected a forward, got a retry: {why}"),
        })
        .collect()
}

/// `body` as the enricher writes it with `current` found at `at`.
fn with_current(body: &str, item: &str, at: SystemTime) -> String {
    let head = body.strip_suffix('}').expect("an object");
    format!(
        r#"{head},"current":{item},"current_at":"{}","current_missing":null}}"#,
        iso(at)
    )
}

/// `body` as the enricher writes it without an object.
fn without_current(body: &str, reason: &str, code: Option<i64>) -> String {
    let head = body.strip_suffix('}').expect("an object");
    let code = code.map_or("null".to_owned(), |c| c.to_string());
    let missing = format!(r#"{{"reason":"{reason}","code":{code}}}"#);
    format!(r#"{head},"current":null,"current_at":null,"current_missing":{missing}}}"#)
}

fn enrich(enricher: &mut Enricher, fake: &Fake, records: &[Record]) -> Vec<Verdict> {
    run(enricher.enrich(fake, records))
}

/// An event of long ago: no lag to wait for, and past the grace.
fn old() -> Option<SystemTime> {
    Some(start() - Duration::from_secs(3_600))
}

#[test]
fn an_updated_department_gets_the_item_byte_for_byte_and_nothing_else_moves() {
    let fake = Fake::default();
    let item = fake.department("4719456877659520852");
    // A lone surrogate escape in a snapshot, and one the relay spelled out, must survive.
    let body = corehr("department", "updated", "4719456877659520852", old())
        .replace(r#""tenant_key":"tk""#, r#""tenant_key":"tk\\ud83d""#)
        .replace(r#""before":null"#, r#""before":{"name":"Growth \ud83d"}"#);
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &[record(&body)]);

    assert_eq!(forwarded(&verdicts), [with_current(&body, &item, start())]);
    let message: Message<'_> = serde_json::from_str(forwarded(&verdicts)[0]).expect("a message");
    assert_eq!(
        message.current.as_deref().map(|c| c.get()),
        Some(item.as_str())
    );
    assert_eq!(
        message.current_at.as_deref(),
        Some("2026-12-06T08:00:00.000Z")
    );
    assert_eq!(message.current_missing, None);
    let reads = fake.reads();
    assert_eq!(reads.len(), 1);
    assert_eq!(
        reads[0].url,
        "http://api.test/open-apis/corehr/v2/departments/batch_get?department_id_type=people_corehr_department_id"
    );
    assert_eq!(reads[0].bearer.as_deref(), Some("t-1"));
    assert_eq!(
        reads[0].body["department_id_list"],
        json!(["4719456877659520852"])
    );
    assert_eq!(reads[0].body["fields"].as_array().map(Vec::len), Some(25));
}

#[test]
fn a_custom_org_is_read_by_its_type_and_matched_by_org_id() {
    let fake = Fake::default();
    let item = fake.custom_org("6862995757234914824");
    let body = corehr("custom_org", "created", "6862995757234914824", old());
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &[record(&body)]);

    assert_eq!(forwarded(&verdicts), [with_current(&body, &item, start())]);
    let reads = fake.reads();
    assert_eq!(
        reads[0].url,
        "http://api.test/open-apis/corehr/v2/custom_orgs/query?page_size=100"
    );
    assert_eq!(reads[0].body["object_api_name"], "custom_org_01");
    assert_eq!(reads[0].body["org_ids"], json!(["6862995757234914824"]));
}

#[test]
fn items_are_matched_by_id_never_by_position_and_one_id_is_asked_once() {
    let fake = Fake::default();
    let (one, two) = (fake.department("1"), fake.department("2"));
    fake.reads_answer([Ok((
        200,
        format!(r#"{{"code":0,"data":{{"items":[{two},{one}]}}}}"#),
    ))]);
    let bodies = [
        corehr("department", "updated", "1", old()),
        corehr("department", "updated", "2", old()),
        corehr("department", "created", "1", old()),
    ];
    let records: Vec<Record> = bodies.iter().map(|b| record(b)).collect();
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &records);

    assert_eq!(
        forwarded(&verdicts),
        [
            with_current(&bodies[0], &one, start()),
            with_current(&bodies[1], &two, start()),
            with_current(&bodies[2], &one, start()),
        ]
    );
    let reads = fake.reads();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].body["department_id_list"], json!(["1", "2"]));
}

/// A read's token and custom-org type (or `departments`), and how many ids it asked for.
fn shape(post: &Post) -> (String, usize) {
    let body = &post.body;
    let ids = body
        .get("department_id_list")
        .or_else(|| body.get("org_ids"));
    let name = body.get("object_api_name").and_then(|n| n.as_str());
    let bearer = post.bearer.as_deref().unwrap_or_default();
    (
        format!("{bearer} {}", name.unwrap_or("departments")),
        ids.and_then(|i| i.as_array()).map_or(0, Vec::len),
    )
}

#[test]
fn ids_are_batched_per_app_and_type_at_most_100_a_call() {
    let fake = Fake::default();
    let mut bodies: Vec<String> = (0..150)
        .map(|n| corehr("department", "updated", &n.to_string(), old()))
        .collect();
    bodies.push(corehr("custom_org", "updated", "o1", old()));
    bodies.push(
        corehr("custom_org", "updated", "o2", old()).replace("custom_org_01", "custom_org_02"),
    );
    let lark = corehr("department", "updated", "L", old())
        .replace(r#""endpoint":"feishu""#, r#""endpoint":"feishu/lark""#);
    bodies.push(lark);
    let records: Vec<Record> = bodies.iter().map(|b| record(b)).collect();
    let mut apps = apps();
    apps.insert("feishu/lark".to_owned(), app("feishu/lark", "cli_lark"));
    let mut enricher = Enricher::new(apps);

    let verdicts = enrich(&mut enricher, &fake, &records);

    assert_eq!(verdicts.len(), 153);
    let calls: Vec<(String, usize)> = fake.reads().iter().map(shape).collect();
    let expected = [
        ("t-1 departments", 100),
        ("t-1 departments", 50),
        ("t-1 custom_org_01", 1),
        ("t-1 custom_org_02", 1),
        ("t-2 departments", 1),
    ];
    let expected: Vec<(String, usize)> = expected
        .iter()
        .map(|(n, c)| ((*n).to_owned(), *c))
        .collect();
    assert_eq!(calls, expected);
    assert_eq!(
        fake.posts("tenant_access_token").len(),
        2,
        "one token per app"
    );
}

#[test]
fn a_deletion_makes_no_call_and_says_deleted() {
    let fake = Fake::default();
    let body = corehr("custom_org", "deleted", "9", None);
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &[record(&body)]);

    assert_eq!(
        forwarded(&verdicts),
        [without_current(&body, "deleted", None)]
    );
    assert!(fake.posts("").is_empty());
}

#[test]
fn other_messages_and_other_endpoints_pass_through_byte_for_byte() {
    let fake = Fake::default();
    let corehr_update = corehr("department", "updated", "1", old());
    let bodies = [
        corehr_update.replace(
            "corehr.department.updated_v2",
            "contact.department.updated_v3",
        ),
        corehr_update.replace(r#""source":"feishu""#, r#""source":"feilian""#),
        corehr_update.replace("corehr.department.updated_v2", "corehr.unknown.updated_v9"),
        corehr_update.replace(r#""endpoint":"feishu""#, r#""endpoint":"feishu/no-app""#),
        corehr("department", "deleted", "1", None)
            .replace(r#""endpoint":"feishu""#, r#""endpoint":"feishu/no-app""#),
    ];
    let records: Vec<Record> = bodies.iter().map(|b| record(b)).collect();
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &records);

    let expected: Vec<Verdict> = bodies[..5]
        .iter()
        .map(|b| Verdict::forward(b.clone()))
        .collect();
    assert_eq!(verdicts, expected);
    assert!(fake.posts("").is_empty());
}

#[test]
fn a_body_that_is_no_message_is_forwarded_unchanged_with_a_note() {
    let fake = Fake::default();
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(
        &mut enricher,
        &fake,
        &[record("not json"), record(r#"{"schema_version":2}"#)],
    );

    for (verdict, body) in verdicts.iter().zip(["not json", r#"{"schema_version":2}"#]) {
        let Verdict::Forward {
            body: sent,
            note: Some(note),
        } = verdict
        else {
            panic!("expected a forward with a note, got {verdict:?}");
        };
        assert_eq!(sent, body);
        assert!(note.starts_with("not a relay message: "), "{note}");
    }
}

#[test]
fn the_token_is_kept_across_invocations_until_its_expire_minus_the_margin() {
    let fake = Fake::default();
    fake.department("1");
    fake.token_expire(1_800);
    let body = corehr("department", "updated", "1", old());
    let mut enricher = Enricher::new(apps());

    enrich(&mut enricher, &fake, &[record(&body)]);
    fake.advance(Duration::from_secs(1_800 - 301));
    enrich(&mut enricher, &fake, &[record(&body)]);
    assert_eq!(
        fake.posts("tenant_access_token").len(),
        1,
        "still within expire - 5 min"
    );
    fake.advance(Duration::from_secs(2));
    enrich(&mut enricher, &fake, &[record(&body)]);

    let bearers: Vec<Option<String>> = fake.reads().into_iter().map(|p| p.bearer).collect();
    let bearer = |t: &str| Some(t.to_owned());
    assert_eq!(bearers, [bearer("t-1"), bearer("t-1"), bearer("t-2")]);
}

#[test]
fn a_refused_token_is_renewed_once_and_the_call_made_again() {
    let fake = Fake::default();
    let item = fake.department("1");
    let expired = r#"{"code":99991663,"msg":"Invalid access token for authorization. Please make a request with token attached"}"#;
    fake.reads_answer([Ok((400, expired.to_owned()))]);
    let body = corehr("department", "updated", "1", old());
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &[record(&body)]);

    assert_eq!(forwarded(&verdicts), [with_current(&body, &item, start())]);
    let bearers: Vec<Option<String>> = fake.reads().into_iter().map(|p| p.bearer).collect();
    assert_eq!(bearers, [Some("t-1".to_owned()), Some("t-2".to_owned())]);
}

#[test]
fn a_token_refused_again_after_renewal_fails_the_records() {
    let fake = Fake::default();
    let refused = |code: i64| Ok((200, format!(r#"{{"code":{code},"msg":"invalid"}}"#)));
    fake.reads_answer([refused(99991663), refused(99991665)]);
    let body = corehr("department", "updated", "1", old());
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &[record(&body), record(&body)]);

    let why = "app cli_feishu, corehr/v2/departments/batch_get: token refused again after renewal, code 99991665";
    assert_eq!(
        verdicts,
        [
            Verdict::Retry(why.to_owned()),
            Verdict::Retry(why.to_owned())
        ]
    );
    assert_eq!(fake.reads().len(), 2, "one renewal, one more call");
}

#[test]
fn no_token_fails_the_records_and_names_the_app_not_the_secret() {
    let fake = Fake::default();
    fake.tokens_answer([Ok((
        200,
        r#"{"code":10015,"msg":"wrong app secret"}"#.to_owned(),
    ))]);
    let body = corehr("department", "updated", "1", old());
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &[record(&body)]);

    let why = "app cli_feishu, auth/v3/tenant_access_token/internal: HTTP 200, code 10015: wrong app secret";
    assert_eq!(verdicts, [Verdict::Retry(why.to_owned())]);
    assert!(fake.reads().is_empty());
}

/// Answers that fail a call, and how its records' reason says so.
fn failures() -> [(crate::testing::Answer, &'static str); 9] {
    [
        (Err("timed out".to_owned()), "no answer: timed out"),
        (
            Ok((502, "<html>bad gateway</html>".to_owned())),
            "HTTP 502, not the API's JSON",
        ),
        (
            Ok((
                503,
                r#"{"code":1161204,"msg":"Request timeout"}"#.to_owned(),
            )),
            "HTTP 503, code 1161204: Request timeout",
        ),
        (
            Ok((
                429,
                r#"{"code":99991400,"msg":"request trigger frequency limit"}"#.to_owned(),
            )),
            "HTTP 429, code 99991400: request trigger frequency limit",
        ),
        (
            Ok((429, r#"{"code":1161604,"msg":"QPS over limit"}"#.to_owned())),
            "HTTP 429, code 1161604: QPS over limit",
        ),
        (Ok((200, "ok".to_owned())), "HTTP 200, not the API's JSON"),
        (
            Ok((200, r#"{"code":424242,"msg":"new"}"#.to_owned())),
            "HTTP 200, code 424242: new",
        ),
        (
            Ok((400, r#"{"code":1160102,"msg":"参数错误"}"#.to_owned())),
            "HTTP 400, code 1160102: 参数错误",
        ),
        (
            Ok((400, r#"{"code":99991672,"msg":"Access denied"}"#.to_owned())),
            "HTTP 400, code 99991672: Access denied",
        ),
    ]
}

#[test]
fn each_transient_or_unknown_failure_fails_every_record_of_the_call() {
    for (answer, what) in failures() {
        let fake = Fake::default();
        fake.department("1");
        fake.reads_answer([answer]);
        let records = [
            record(&corehr("department", "updated", "1", old())),
            record(&corehr("department", "updated", "2", old())),
        ];
        let mut enricher = Enricher::new(apps());

        let verdicts = enrich(&mut enricher, &fake, &records);

        let why = format!("app cli_feishu, corehr/v2/departments/batch_get: {what}");
        assert_eq!(verdicts, [Verdict::Retry(why.clone()), Verdict::Retry(why)]);
        assert_eq!(
            fake.reads().len(),
            1,
            "{what}: no retry within the invocation"
        );
    }
}

#[test]
fn one_id_outside_the_range_is_forbidden_alone_and_the_others_are_read() {
    let fake = Fake::default();
    let item = fake.department("1");
    fake.department("2");
    fake.forbid("2");
    let bodies = [
        corehr("department", "updated", "1", old()),
        corehr("department", "updated", "2", old()),
        corehr("department", "updated", "1", old()),
    ];
    let records: Vec<Record> = bodies.iter().map(|body| record(body)).collect();
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &records);

    assert_eq!(
        forwarded(&verdicts),
        [
            with_current(&bodies[0], &item, start()),
            without_current(&bodies[1], "forbidden", Some(1160103)),
            with_current(&bodies[2], &item, start()),
        ]
    );
    let Verdict::Forward { note, .. } = &verdicts[1] else {
        panic!("a forward")
    };
    assert_eq!(
        note.as_deref(),
        Some(
            "app cli_feishu, corehr/v2/departments/batch_get: id 2 forbidden, code 1160103: outside the app's data range"
        )
    );
    // The call of both fails whole; then each id is asked alone.
    let asked: Vec<Value> = (fake.reads().iter())
        .map(|post| post.body["department_id_list"].clone())
        .collect();
    assert_eq!(asked, [json!(["1", "2"]), json!(["1"]), json!(["2"])]);
}

#[test]
fn a_read_waits_until_the_youngest_event_is_two_seconds_old() {
    let fake = Fake::default();
    let item = fake.department("1");
    let bodies = [
        corehr(
            "department",
            "created",
            "1",
            Some(start() - Duration::from_millis(500)),
        ),
        corehr("department", "updated", "1", old()),
    ];
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(
        &mut enricher,
        &fake,
        &[record(&bodies[0]), record(&bodies[1])],
    );

    assert_eq!(fake.slept(), [Duration::from_millis(1_500)]);
    let read_at = start() + Duration::from_millis(1_500);
    assert_eq!(fake.reads()[0].at, read_at);
    assert_eq!(
        forwarded(&verdicts),
        [
            with_current(&bodies[0], &item, read_at),
            with_current(&bodies[1], &item, read_at)
        ]
    );
}

#[test]
fn a_missing_object_is_retried_within_the_grace_then_not_found() {
    let fake = Fake::default();
    let recent = corehr(
        "department",
        "created",
        "1",
        Some(start() - Duration::from_secs(59)),
    );
    let stale = corehr(
        "department",
        "created",
        "2",
        Some(start() - Duration::from_secs(60)),
    );
    let untimed = corehr("department", "created", "3", None);
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(
        &mut enricher,
        &fake,
        &[record(&recent), record(&stale), record(&untimed)],
    );

    let call = "app cli_feishu, corehr/v2/departments/batch_get";
    assert_eq!(
        verdicts,
        [
            Verdict::Retry(format!("{call}: id 1 not in the answer yet")),
            Verdict::Forward {
                body: without_current(&stale, "not_found", None),
                note: Some(format!("{call}: id 2 not found after the grace")),
            },
            Verdict::Forward {
                body: without_current(&untimed, "not_found", None),
                note: Some(format!("{call}: id 3 not found after the grace")),
            },
        ]
    );
}

#[test]
fn the_grace_can_be_set() {
    let fake = Fake::default();
    fake.reads_answer([Ok((
        200,
        r#"{"code":0,"msg":"success","data":{}}"#.to_owned(),
    ))]);
    let recent = corehr(
        "department",
        "created",
        "1",
        Some(start() - Duration::from_secs(11)),
    );
    let mut enricher = Enricher::new(apps()).with_grace(Duration::from_secs(10));

    let verdicts = enrich(&mut enricher, &fake, &[record(&recent)]);

    assert_eq!(
        forwarded(&verdicts),
        [without_current(&recent, "not_found", None)]
    );
}

#[test]
fn a_retry_fails_the_later_records_of_its_fifo_group_only() {
    let fake = Fake::default();
    let item = fake.department("1");
    let missing = corehr("department", "created", "2", Some(start() - SECOND * 5));
    let found = corehr("department", "updated", "1", old());
    let grouped = |body: &str, group: Option<&str>| Record {
        body: body.to_owned(),
        group_id: group.map(str::to_owned),
    };
    let records = [
        grouped(&found, Some("g1")),
        grouped(&missing, Some("g1")),
        grouped(&found, Some("g1")),
        grouped(&found, Some("g2")),
        grouped(&missing, None),
        grouped(&found, None),
    ];
    let mut enricher = Enricher::new(apps());

    let verdicts = enrich(&mut enricher, &fake, &records);

    let why = "app cli_feishu, corehr/v2/departments/batch_get: id 2 not in the answer yet";
    let enriched = Verdict::forward(with_current(&found, &item, start()));
    assert_eq!(
        verdicts,
        [
            enriched.clone(),
            Verdict::Retry(why.to_owned()),
            Verdict::Retry(format!("an earlier record of its group failed: {why}")),
            enriched.clone(),
            Verdict::Retry(why.to_owned()),
            enriched,
        ]
    );
}

#[test]
fn an_invalid_share_is_refused() {
    for share in [0.0, -0.5, 1.01, f64::NAN] {
        let refused = Enricher::new(apps()).with_share(share).map(|_| ());
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err(format!(
                "the rate-limit share must be above 0 and at most 1, got {share}"
            ))
        );
    }
    assert!(Enricher::new(apps()).with_share(0.5).is_ok());
}

#[test]
fn no_reason_nor_debug_line_holds_a_secret_or_a_token() {
    let fake = Fake::default();
    let refused = Ok((200, r#"{"code":99991663,"msg":"invalid"}"#.to_owned()));
    fake.reads_answer([refused.clone(), refused]);
    let mut enricher = Enricher::new(apps());
    let verdicts = enrich(
        &mut enricher,
        &fake,
        &[record(&corehr("department", "updated", "1", old()))],
    );
    let shown = format!("{verdicts:?} {enricher:?}");
    assert!(shown.contains("cli_feishu"), "{shown}");
    for secret in [SECRET, "t-1", "t-2"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn the_enrich_future_can_move_between_threads() {
    fn send<F: Send>(_: F) {}
    let fake = Fake::default();
    let mut enricher = Enricher::new(apps());
    send(enricher.enrich(&fake, &[]));
}

/// The most calls in any window of `span` starting at a call.
fn busiest(posts: &[Post], span: Duration) -> usize {
    posts
        .iter()
        .map(|first| {
            posts
                .iter()
                .filter(|p| p.at >= first.at && p.at < first.at + span)
                .count()
        })
        .max()
        .unwrap_or_default()
}

/// A burst of 1,000 department updates: 100 invocations of 10 records, one app.
fn burst(share: f64) -> Vec<Post> {
    let fake = Fake::default();
    let mut enricher = Enricher::new(apps()).with_share(share).expect("a share");
    for batch in 0..100 {
        let records: Vec<Record> = (0..10)
            .map(|n| {
                let id = (batch * 10 + n).to_string();
                fake.department(&id);
                record(&corehr("department", "updated", &id, old()))
            })
            .collect();
        let verdicts = enrich(&mut enricher, &fake, &records);
        assert!(verdicts.iter().all(|v| !v.is_retry()), "{verdicts:?}");
    }
    fake.reads()
}

#[test]
fn a_burst_of_1000_messages_stays_within_both_caps() {
    let minute = Duration::from_secs(60);
    let posts = burst(1.0);
    assert_eq!(posts.len(), 100);
    assert_eq!(busiest(&posts, SECOND), 50);
    assert!(busiest(&posts, minute) <= 1_000);
    let took = posts[99].at.duration_since(posts[0].at).expect("in order");
    assert!(took >= SECOND && took < SECOND * 2, "{took:?}: 50 a second");

    // A share of 0.05: 2 calls a second and 50 a minute, so the minute cap binds.
    let posts = burst(0.05);
    assert_eq!(busiest(&posts, SECOND), 2);
    assert_eq!(busiest(&posts, minute), 50);
    let took = posts[99].at.duration_since(posts[0].at).expect("in order");
    assert!(took >= minute && took < minute * 2, "{took:?}: 50 a minute");
}

#[test]
fn custom_orgs_keep_to_five_calls_a_second() {
    let fake = Fake::default();
    let mut enricher = Enricher::new(apps());
    for n in 0..20 {
        let id = n.to_string();
        fake.custom_org(&id);
        enrich(
            &mut enricher,
            &fake,
            &[record(&corehr("custom_org", "updated", &id, old()))],
        );
    }
    assert_eq!(busiest(&fake.reads(), SECOND), 5);
}

#[test]
fn an_object_too_large_for_the_queue_leaves_the_message_without_it() {
    let body = corehr("department", "updated", "1", old());
    let Verdict::Forward { body: sent, note } = too_large(&body) else {
        panic!("a forward")
    };
    assert_eq!(sent, without_current(&body, "too_large", None));
    assert!(note.is_some_and(|n| n.contains("too large")));
}
