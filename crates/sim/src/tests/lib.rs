use clap::CommandFactory;

use super::*;

#[test]
fn send_dates_an_envelope_now_where_it_has_a_create_time() {
    let feilian = json!({"header": {"event_id": "e", "create_time": "1740385174957"}, "data": {}});
    assert_eq!(
        dated(feilian, 1_764_500_000_123)["header"]["create_time"],
        "1764500000123"
    );
    // Nothing is added where there was no time.
    let challenge = json!({"challenge": "c", "type": "url_verification"});
    assert_eq!(dated(challenge.clone(), 1), challenge);
    let no_time = json!({"header": {"event_id": "e"}});
    assert_eq!(dated(no_time.clone(), 1), no_time);
}

#[test]
fn the_command_line_is_consistent() {
    Command::command().debug_assert();
}

fn names(selected: &[&Template]) -> Vec<String> {
    selected.iter().map(|t| t.event_type.clone()).collect()
}

#[test]
fn all_selects_every_type_of_the_source_and_only_those() {
    let templates = Template::all().unwrap();
    let feilian = select(&templates, Source::Feilian, &[ALL.into()]).unwrap();
    assert_eq!(
        names(&feilian),
        [
            "department.v1.create",
            "department.v1.update",
            "department.v1.delete"
        ]
    );
    let feishu = select(&templates, Source::Feishu, &[ALL.into()]).unwrap();
    assert_eq!(feishu.len(), 11);
    assert!(feishu.iter().all(|t| t.source == Source::Feishu));
}

#[test]
fn types_are_selected_in_the_order_given() {
    let templates = Template::all().unwrap();
    let asked = [
        "department.v1.delete".to_owned(),
        "department.v1.create".to_owned(),
    ];
    let selected = select(&templates, Source::Feilian, &asked).unwrap();
    assert_eq!(names(&selected), asked);
}

#[test]
fn an_unknown_type_is_refused_with_the_valid_ones() {
    let templates = Template::all().unwrap();
    let err = select(&templates, Source::Feilian, &["department.v2.move".into()]).unwrap_err();
    assert_eq!(
        err,
        "\"department.v2.move\" is not a feilian event type; the feilian types are: \
             department.v1.create, department.v1.update, department.v1.delete, or all"
    );
    let err = select(
        &templates,
        Source::Feilian,
        &["corehr.department.created_v1".into()],
    )
    .unwrap_err();
    assert!(err.contains("(it is a feishu event type)"), "{err}");
}

#[test]
fn the_url_names_the_endpoint_as_the_relay_routes_it() {
    for (url, expected) in [
        (
            "https://x.execute-api.us-east-1.amazonaws.com/feishu",
            Some("feishu"),
        ),
        (
            "http://127.0.0.1:9000/lambda-url/org-change-relay/feilian/",
            Some("feilian"),
        ),
        (
            "https://x/prod/feishu/lark-global",
            Some("feishu/lark-global"),
        ),
        ("https://x/feilian/sub?debug=1", Some("feilian/sub")),
        ("https://x/hooks", None),
        ("https://x/feishu/Lark", None),
        // The host is not part of the path.
        ("http://feilian/hook", None),
        ("http://feilian", None),
        ("http://feishu:9000/feilian", Some("feilian")),
        ("http://x?next=/feishu", None),
    ] {
        assert_eq!(
            endpoint_of(url).as_ref().map(EndpointId::as_str),
            expected,
            "{url}"
        );
    }
}

/// The sender `challenge --url <url> --token t` and `args` make.
fn sender_to(url: &str, args: &[&str]) -> Result<Sender, String> {
    let command = ["org-change-sim", "challenge", "--url", url, "--token", "t"];
    let parsed = Command::try_parse_from(command.iter().chain(args)).unwrap();
    let Command::Challenge { target } = parsed else {
        unreachable!("a challenge");
    };
    Sender::new(target)
}

/// The sender `challenge --url …/feishu --token t` and `args` make.
fn sender(args: &[&str]) -> Sender {
    sender_to(
        "http://127.0.0.1:9000/lambda-url/org-change-relay/feishu",
        args,
    )
    .unwrap()
}

#[test]
fn a_source_that_contradicts_the_url_s_endpoint_is_refused() {
    let url = "https://x/prod/feishu/lark-global";
    let Err(err) = sender_to(url, &["--source", "feilian"]) else {
        panic!("--source feilian accepted for {url}");
    };
    assert_eq!(
        err,
        "--source feilian contradicts https://x/prod/feishu/lark-global, which names the \
             feishu endpoint feishu/lark-global: drop --source or fix the URL"
    );
    // The same source, or none, is the URL's.
    for args in [&["--source", "feishu"][..], &[]] {
        let sender = sender_to(url, args).unwrap();
        assert_eq!(sender.endpoint.as_str(), "feishu/lark-global");
    }
    // A URL that names no endpoint takes the source from --source.
    let sender = sender_to("https://x/hooks", &["--source", "feilian"]).unwrap();
    assert_eq!(sender.endpoint.as_str(), "feilian");
}

#[test]
fn a_url_without_a_scheme_is_sent_over_http() {
    let sender = sender_to("127.0.0.1:9000/lambda-url/org-change-relay/feishu", &[]).unwrap();
    assert_eq!(
        sender.url,
        "http://127.0.0.1:9000/lambda-url/org-change-relay/feishu"
    );
    assert_eq!(sender.endpoint.as_str(), "feishu");
    let sender = sender_to("localhost:9000/prod/feilian/sub", &[]).unwrap();
    assert_eq!(sender.url, "http://localhost:9000/prod/feilian/sub");
    assert_eq!(sender.endpoint.as_str(), "feilian/sub");
    // A URL with a scheme is sent as it is.
    let sender = sender_to("https://x/feishu", &[]).unwrap();
    assert_eq!(sender.url, "https://x/feishu");
}

#[test]
fn no_answer_says_the_relay_may_be_compiling_or_may_have_exited() {
    // A port that was free a moment ago: nobody listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let url = format!("127.0.0.1:{port}/lambda-url/org-change-relay/feishu");
    let Err(err) = sender_to(&url, &[])
        .unwrap()
        .send(&json!({"type": "url_verification"}))
    else {
        panic!("an answer from a closed port");
    };
    assert!(err.starts_with(&format!("POST http://{url}: ")), "{err}");
    assert!(err.contains("may still be compiling"), "{err}");
    assert!(err.contains("look for `configuration error`"), "{err}");
}

#[test]
fn https_to_a_local_relay_says_it_speaks_plain_http() {
    // A listener that answers a TLS hello with plain text, as the emulator does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            use std::io::{Read, Write};
            let mut buffer = [0; 512];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let url = format!("https://127.0.0.1:{port}/lambda-url/org-change-relay/feishu");
    let Err(err) = sender_to(&url, &[])
        .unwrap()
        .send(&json!({"type": "url_verification"}))
    else {
        panic!("an answer over TLS from a plain listener");
    };
    assert!(
        err.ends_with("a local relay speaks plain HTTP: use http://"),
        "{err}"
    );
    assert!(is_local_https(&url) && !is_local_https("https://example.com/feishu"));
}

#[test]
fn an_empty_key_sends_plaintext_as_the_relay_reads_an_empty_key() {
    let envelope = json!({"challenge": "c", "token": "t", "type": "url_verification"});
    assert_eq!(
        sender(&["--key", ""]).body(&envelope),
        Ok(envelope.to_string())
    );
    // A key encrypts, as before.
    let body: Value =
        serde_json::from_str(&sender(&["--key", "k"]).body(&envelope).unwrap()).unwrap();
    let plaintext = cipher::decrypt(&EncryptKey::new("k"), body["encrypt"].as_str().unwrap());
    assert_eq!(plaintext.unwrap(), envelope.to_string().into_bytes());
}

#[test]
fn a_named_endpoint_s_secrets_are_read_from_the_relay_s_endpoints() {
    let endpoints = r#"{"feishu/lark-global": {"verification_token": "t", "encrypt_key": ""}}"#;
    let env = |endpoints: &'static str| {
        move |name: &str| (name == "ENDPOINTS").then(|| endpoints.to_owned())
    };
    let id = EndpointId::parse("feishu/lark-global").unwrap();
    assert_eq!(
        relay_secrets(&id, env(endpoints)),
        Ok((Some("t".to_owned()), None))
    );
    let other = EndpointId::parse("feishu/other").unwrap();
    assert_eq!(relay_secrets(&other, env(endpoints)), Ok((None, None)));
    assert!(relay_secrets(&id, env("{")).is_err());
    // A default endpoint's are the relay's variables, an empty one unset.
    let vars = |name: &str| match name {
        "FEISHU_VERIFICATION_TOKEN" => Some("ft".to_owned()),
        "FEISHU_ENCRYPT_KEY" => Some(String::new()),
        _ => Some("elsewhere".to_owned()),
    };
    assert_eq!(
        relay_secrets(&EndpointId::default_of(Source::Feishu), vars),
        Ok((Some("ft".to_owned()), None))
    );
}
