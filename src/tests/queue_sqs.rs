use super::*;
use crate::queue::fixtures::received;

fn queue(fifo: bool) -> SqsQueue {
    grouped(fifo, GroupBy::Tenant)
}

fn grouped(fifo: bool, group_by: GroupBy) -> SqsQueue {
    let client = Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .build(),
    );
    let config = QueueConfig {
        url: "https://sqs.us-east-1.amazonaws.com/123456789012/q".into(),
        fifo,
        group_by,
        delay_seconds: None,
    };
    SqsQueue::new(client, &config)
}

#[test]
fn the_payload_size_counts_the_body_and_every_part_of_the_attributes_sent() {
    // A real message (only the core makes one): a Feilian update of "部门".
    let batch = received(
        r#"{"schema":"1.0","header":{"event_id":"e","token":"t","event_type":"department.v1.update","app_id":"a"},"data":{"events":[{"object":{"open_id":"od_1","name":"部门"},"updated_fields":["name"]}]}}"#,
    );
    let message = &batch.messages()[0];
    // Body: its UTF-8 bytes (each CJK character is 3); attributes: name +
    // "String" + value.
    let expected = message.body().len()
        + ("source".len() + 6 + "feilian".len())
        + ("event_type".len() + 6 + "department.v1.update".len())
        + ("entity".len() + 6 + "department".len())
        + ("action".len() + 6 + "updated".len());
    assert_eq!(message.size(), expected);

    // The same count from what the entry really carries.
    for fifo in [false, true] {
        let entry = queue(fifo).entry(0, message).expect("an entry");
        let attributes: usize = entry
            .message_attributes()
            .expect("attributes")
            .iter()
            .map(|(name, value)| {
                name.len() + value.data_type().len() + value.string_value().map_or(0, str::len)
            })
            .sum();
        assert_eq!(entry.message_body().len() + attributes, expected);
    }
}

/// A `Failed` entry as SQS lists it.
fn failure(id: &str, sender_fault: bool, code: &str, message: &str) -> BatchResultErrorEntry {
    BatchResultErrorEntry::builder()
        .id(id)
        .sender_fault(sender_fault)
        .code(code)
        .message(message)
        .build()
        .unwrap()
}

fn failed(id: &str, sender_fault: bool) -> BatchResultErrorEntry {
    let code = if sender_fault {
        "InvalidParameterValue"
    } else {
        "InternalError"
    };
    failure(id, sender_fault, code, "m")
}

/// `(index, retryable)` of each refusal.
fn read(
    sent: usize,
    successful: &[&str],
    failures: &[BatchResultErrorEntry],
) -> Vec<(usize, bool)> {
    unconfirmed(sent, successful, failures)
        .iter()
        .map(|refusal| (refusal.index, refusal.retryable))
        .collect()
}

/// (what the answer shows, entries sent, `Successful` ids, `Failed` entries,
/// the refusals expected as `(index, retryable)`).
type Case<'a> = (
    &'a str,
    usize,
    &'a [&'a str],
    &'a [BatchResultErrorEntry],
    &'a [(usize, bool)],
);

#[test]
fn an_answer_confirms_only_the_entries_it_lists_exactly_as_sent() {
    #[rustfmt::skip]
        let cases: &[Case<'_>] = &[
            ("all successful", 3, &["0", "1", "2"], &[], &[]),
            ("in any order", 3, &["2", "0", "1"], &[], &[]),
            ("one retryable failure", 3, &["0", "2"], &[failed("1", false)], &[(1, true)]),
            ("one sender fault", 3, &["0", "2"], &[failed("1", true)], &[(1, false)]),
            ("mixed", 3, &["0"], &[failed("1", false), failed("2", true)], &[(1, true), (2, false)]),
            ("listed nowhere", 3, &["0", "2"], &[], &[(1, true)]),
            ("an empty answer", 2, &[], &[], &[(0, true), (1, true)]),
            ("leading zero", 2, &["0", "01"], &[], &[(1, true)]),
            ("plus sign", 2, &["0", "+1"], &[], &[(1, true)]),
            ("surrounding space", 2, &["0", " 1"], &[], &[(1, true)]),
            ("an id never sent", 2, &["0", "7"], &[], &[(1, true)]),
            ("an id never sent, failed", 2, &["0", "1"], &[failed("7", true)], &[]),
            ("the same id twice in Failed", 2, &["0"], &[failed("1", false), failed("1", false)], &[(1, true)]),
            ("twice, once a sender fault", 2, &["0"], &[failed("1", false), failed("1", true)], &[(1, false)]),
            ("in both lists", 2, &["0", "1"], &[failed("1", false)], &[(1, true)]),
            ("in both lists, sender fault", 2, &["0", "1"], &[failed("1", true)], &[(1, false)]),
            ("listed twice in Successful", 2, &["0", "0"], &[], &[(1, true)]),
        ];
    for (case, sent, successful, failures, expected) in cases {
        assert_eq!(read(*sent, successful, failures), *expected, "{case}");
    }
}

#[test]
fn a_refusal_carries_what_sqs_said_preferring_the_sender_fault() {
    let twice = [
        failure("0", false, "InternalError", "try again"),
        failure("0", true, "InvalidParameterValue", "too long"),
    ];
    assert_eq!(
        unconfirmed(1, &[], &twice),
        [Refusal {
            index: 0,
            retryable: false,
            code: "InvalidParameterValue".into(),
            message: "too long".into(),
        }]
    );
    assert_eq!(
        unconfirmed(1, &[], &[]),
        [Refusal {
            index: 0,
            retryable: true,
            code: "NotReported".into(),
            message: "SQS did not report on this entry".into(),
        }]
    );
}

#[test]
fn a_fifo_queue_takes_one_message_of_each_group_per_call() {
    for by in [GroupBy::Tenant, GroupBy::Unit] {
        assert_eq!(grouped(true, by).limits().fifo, Some(by));
        assert_eq!(grouped(false, by).limits(), Limits::SQS);
    }
}

#[test]
fn a_fifo_entry_takes_its_group_by_the_queues_setting() {
    let batch = received(
        r#"{"schema":"1.0","header":{"event_id":"e","token":"t","event_type":"department.v1.update","app_id":"a"},"data":{"events":[{"object":{"open_id":"od_1"},"updated_fields":["name"]}]}}"#,
    );
    let group = |queue: SqsQueue| {
        let entry = queue.entry(0, &batch.messages()[0]).expect("an entry");
        entry.message_group_id().map(str::to_owned)
    };
    assert_eq!(
        group(grouped(true, GroupBy::Tenant)).as_deref(),
        Some("feilian:a")
    );
    assert_eq!(
        group(grouped(true, GroupBy::Unit)).as_deref(),
        Some("feilian:a:department:od_1")
    );
    assert_eq!(group(grouped(false, GroupBy::Tenant)), None);
}

#[test]
fn fifo_tokens_keep_valid_ids_and_hash_the_rest() {
    assert_eq!(
        sqs_token("feishu:5e3702a84e847582be8db7fb73283c02"),
        "feishu:5e3702a84e847582be8db7fb73283c02"
    );
    let long = "x".repeat(129);
    for value in ["has space", "部门", long.as_str(), ""] {
        let token = sqs_token(value);
        assert_eq!(token.len(), 64, "{value}");
        assert_eq!(token, sqs_token(value), "stable");
    }
    assert_ne!(sqs_token("部门a"), sqs_token("部门b"));
}
