use serde_json::{Value, json};

use super::*;

fn id(text: &str) -> EndpointId {
    EndpointId::parse(text).expect("an endpoint id")
}

fn parse(counts: Counts<'_>) -> Value {
    let text = line(
        "OrgChangeRelay",
        &counts,
        Duration::from_millis(1_700_000_000_123),
    );
    assert!(!text.contains('\n'), "one line: {text}");
    // scripts/bench-publish.sh tells a metrics line by how it starts.
    assert!(text.starts_with(r#"{"_aws":"#), "{text}");
    serde_json::from_str(&text).expect("JSON")
}

/// What the EMF specification requires of a document: every directive's
/// dimensions are string members of the root, and its metrics number members.
fn assert_valid_emf(document: &Value) {
    let root = document.as_object().expect("an object");
    let aws = &root["_aws"];
    assert!(aws["Timestamp"].is_u64(), "{document}");
    let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
    assert!(!directives.is_empty());
    for directive in directives {
        assert!(directive["Namespace"].is_string());
        for set in directive["Dimensions"].as_array().expect("dimension sets") {
            for dimension in set.as_array().expect("a dimension set") {
                let name = dimension.as_str().expect("a dimension name");
                assert!(root[name].is_string(), "dimension {name} in {document}");
            }
        }
        for metric in directive["Metrics"].as_array().expect("metrics") {
            let name = metric["Name"].as_str().expect("a metric name");
            assert!(root[name].is_number(), "metric {name} in {document}");
            assert_eq!(metric["Unit"], "Count");
        }
    }
}

fn metric_names(document: &Value) -> Vec<&str> {
    document["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|directive| directive["Metrics"].as_array().into_iter().flatten())
        .filter_map(|metric| metric["Name"].as_str())
        .collect()
}

#[test]
fn an_enqueued_event_counts_its_messages() {
    let document = parse(Counts {
        endpoint: Some(&id("feilian/sub")),
        outcome: Outcome::Enqueued,
        reason: None,
        enqueued: 13,
        credentials: Some(Credentials::Current),
    });
    assert_valid_emf(&document);
    assert_eq!(document["_aws"]["Timestamp"], 1_700_000_000_123u64);
    assert_eq!(
        document["_aws"]["CloudWatchMetrics"][0],
        json!({
            "Namespace": "OrgChangeRelay",
            "Dimensions": [["Source", "Outcome"], ["Endpoint", "Outcome"]],
            "Metrics": [{"Name": "Requests", "Unit": "Count"}],
        })
    );
    assert_eq!(document["Source"], "feilian");
    assert_eq!(document["Endpoint"], "feilian/sub");
    assert_eq!(document["Outcome"], "enqueued");
    assert_eq!(document["MessagesEnqueued"], 13);
    assert_eq!(document["PreviousCredentialsUsed"], 0);
    assert_eq!(document["EnqueueFailures"], 0);
    assert_eq!(
        metric_names(&document),
        [
            "Requests",
            "MessagesEnqueued",
            "EnqueueFailures",
            "Quarantined",
            "PreviousCredentialsUsed"
        ]
    );
    assert_eq!(document["Quarantined"], 0);
    assert!(document.get("Reason").is_none());
}

#[test]
fn a_rejection_is_counted_by_reason() {
    let document = parse(Counts {
        endpoint: Some(&id("feishu")),
        outcome: Outcome::Rejected,
        reason: Some("bad_signature"),
        enqueued: 0,
        credentials: None,
    });
    assert_valid_emf(&document);
    assert_eq!(document["Reason"], "bad_signature");
    assert_eq!(document["Rejections"], 1);
    assert_eq!(
        document["_aws"]["CloudWatchMetrics"][2]["Dimensions"],
        json!([[], ["Source", "Reason"], ["Endpoint", "Reason"]])
    );
}

#[test]
fn an_enqueue_failure_is_counted_without_dimensions_for_the_alarm() {
    let document = parse(Counts {
        endpoint: Some(&id("feishu")),
        outcome: Outcome::Failed,
        reason: Some("enqueue_failed"),
        enqueued: 2,
        credentials: None,
    });
    assert_valid_emf(&document);
    assert_eq!(document["EnqueueFailures"], 1);
    assert_eq!(document["MessagesEnqueued"], 2);
    assert_eq!(
        document["_aws"]["CloudWatchMetrics"][1]["Dimensions"],
        json!([[], ["Source"], ["Endpoint"]])
    );
    assert!(!metric_names(&document).contains(&"Rejections"));
}

#[test]
fn a_quarantined_event_is_counted_without_dimensions_for_the_alarm() {
    let document = parse(Counts {
        endpoint: Some(&id("feilian")),
        outcome: Outcome::Quarantined,
        reason: None,
        enqueued: 0,
        credentials: None,
    });
    assert_valid_emf(&document);
    assert_eq!(document["Outcome"], "quarantined");
    assert_eq!(document["Quarantined"], 1);
    assert_eq!(document["EnqueueFailures"], 0);
    assert_eq!(
        document["_aws"]["CloudWatchMetrics"][1]["Dimensions"],
        json!([[], ["Source"], ["Endpoint"]])
    );
}

#[test]
fn a_request_to_no_source_is_counted_under_none() {
    let document = parse(Counts {
        endpoint: None,
        outcome: Outcome::Rejected,
        reason: Some("not_found"),
        enqueued: 0,
        credentials: None,
    });
    assert_valid_emf(&document);
    assert_eq!(document["Source"], "none");
    assert_eq!(document["Endpoint"], "none");
}

#[test]
fn a_request_authenticated_by_the_previous_pair_is_counted_per_endpoint() {
    let document = parse(Counts {
        endpoint: Some(&id("feishu/lark-global")),
        outcome: Outcome::Enqueued,
        reason: None,
        enqueued: 1,
        credentials: Some(Credentials::Previous),
    });
    assert_valid_emf(&document);
    assert_eq!(document["PreviousCredentialsUsed"], 1);
    assert_eq!(document["Endpoint"], "feishu/lark-global");
    assert_eq!(
        document["_aws"]["CloudWatchMetrics"][1]["Dimensions"],
        json!([[], ["Source"], ["Endpoint"]])
    );
}
