//! The integration-test harness: a real moto SQS server (started by
//! `scripts/with-moto.sh`), the real `lambda_http` adapter fed with AWS's own
//! sample events, requests built the way the platforms build them, and the real
//! binaries under cargo-lambda's Lambda emulator ([`LocalStack`]). Every message
//! read back from the queue is checked against the committed JSON Schema.
//!
//! The adapter runs over any [`Queue`]: [`app`] publishes to moto, [`memory_app`]
//! to a [`MemoryQueue`], which needs no server (tests/rejections.rs runs on it with
//! a plain `cargo test`).
#![allow(dead_code)] // each test file uses its own part of the harness

pub mod memory_queue;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{Credentials, Region};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::{Service, ServiceExt};
use lambda_http::{Adapter, Context, LambdaEvent, service_fn};
use memory_queue::MemoryQueue;
use org_change_contract::schema;
use org_change_core::{EncryptKey, Source, cipher, signature};
use org_change_relay::aws::with_deadlines;
use org_change_relay::config::Config;
use org_change_relay::http::{App, handle, handle_event};
use org_change_relay::queue::Queue;
use org_change_relay::queue::sqs::SqsQueue;
use serde_json::{Value, json};

pub const FEISHU_TOKEN: &str = "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV";
pub const FEISHU_KEY: &str = "feishu-encrypt-key";
pub const FEILIAN_TOKEN: &str = "token-test";
pub const FEILIAN_KEY: &str = "testkey";

/// The moto server of this test run.
pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!("MOTO_ENDPOINT is not set: run the integration tests with `make test` (scripts/with-moto.sh starts the SQS server)")
    })
}

/// The SDK configuration for every AWS client of a moto server at `endpoint`, with
/// the relay's own deadlines.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"));
    with_deadlines(loader).load().await
}

/// An SQS client for `endpoint`, with the relay's own deadlines.
pub async fn sqs_client(endpoint: &str) -> Client {
    Client::new(&sdk_config(endpoint).await)
}

static SECRETS_CREATED: AtomicUsize = AtomicUsize::new(0);

/// A new Secrets Manager secret on this run's moto server holding `text` (`None`: a
/// binary secret); its ARN.
pub async fn create_secret(text: Option<&str>) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config(&moto_endpoint()).await);
    let n = SECRETS_CREATED.fetch_add(1, Ordering::Relaxed);
    let request = client
        .create_secret()
        .name(format!("relay-test-{}-{n}", std::process::id()));
    let request = match text {
        Some(text) => request.secret_string(text),
        None => request.secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(
            b"\x00binary".to_vec(),
        )),
    };
    let output = request.send().await.expect("moto creates the secret");
    output.arn().expect("an ARN").to_owned()
}

/// `vars` as a configuration lookup, the way the relay reads its environment.
pub fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

static QUEUES: AtomicUsize = AtomicUsize::new(0);

/// A new, empty queue on the moto server; its URL.
pub async fn create_queue(client: &Client, fifo: bool) -> String {
    let n = QUEUES.fetch_add(1, Ordering::Relaxed);
    let name = format!(
        "relay-test-{}-{n}{}",
        std::process::id(),
        if fifo { ".fifo" } else { "" }
    );
    let mut request = client.create_queue().queue_name(name);
    if fifo {
        request = request.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let output = request.send().await.expect("moto creates the queue");
    output.queue_url().expect("a queue URL").to_owned()
}

/// A client of this run's moto server and a new queue on it.
pub struct Setup {
    pub client: Client,
    pub queue: String,
}

pub async fn setup(fifo: bool) -> Setup {
    let client = sqs_client(&moto_endpoint()).await;
    let queue = create_queue(&client, fifo).await;
    Setup { client, queue }
}

/// A message read back from the queue.
#[derive(Debug)]
pub struct Received {
    pub body: Value,
    pub attributes: HashMap<String, String>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

/// A validator for the committed `schema/message.schema.json`: the file consumers
/// read, not the schema the types would generate now (`tests/schema.rs` checks that
/// the two are the same).
pub fn message_validator() -> jsonschema::Validator {
    let file = format!("{}/{}", env!("CARGO_MANIFEST_DIR"), schema::PATH);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|err| panic!("{file}: {err}"));
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|err| panic!("{file} is not a valid draft 2020-12 schema: {err}"))
}

/// How `body` breaks the message schema, one line per violation; empty if it does not.
pub fn schema_violations(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|error| format!("at {:?}: {error}", error.instance_path().as_str()))
        .collect()
}

/// Every message now on the queue, in order, deleted as read. Each body must match
/// the committed message schema.
pub async fn drain(client: &Client, queue_url: &str) -> Vec<Received> {
    let validator = message_validator();
    let mut received = Vec::new();
    for message in receive_all(client, queue_url).await {
        let system = message.attributes();
        let body: Value =
            serde_json::from_str(message.body().expect("a body")).expect("the body is JSON");
        let violations = schema_violations(&validator, &body);
        assert!(
            violations.is_empty(),
            "a message on the queue breaks {}: {violations:#?}\n{body:#}",
            schema::PATH
        );
        received.push(Received {
            body,
            attributes: message
                .message_attributes()
                .map(|attrs| {
                    attrs
                        .iter()
                        .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            group_id: system
                .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                .cloned(),
            dedup_id: system
                .and_then(|a| a.get(&MessageSystemAttributeName::MessageDeduplicationId))
                .cloned(),
        });
    }
    received
}

/// The bodies of every message now on the queue, in order, as text, deleted as read:
/// for bodies `serde_json::Value` cannot hold (a snapshot passed through with a lone
/// surrogate escape). Each must still read as the contract's `Message`.
pub async fn drain_text(client: &Client, queue_url: &str) -> Vec<String> {
    receive_all(client, queue_url)
        .await
        .iter()
        .map(|message| {
            let body = message.body().expect("a body").to_owned();
            if let Err(err) = serde_json::from_str::<org_change_contract::Message>(&body) {
                panic!("not a Message ({err}): {body}");
            }
            body
        })
        .collect()
}

/// Every message now on the queue, in order, with all its attributes, deleted as read.
pub async fn receive_all(client: &Client, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut received = Vec::new();
    loop {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .visibility_timeout(30)
            .send()
            .await
            .expect("moto answers ReceiveMessage");
        let messages = output.messages();
        if messages.is_empty() {
            return received;
        }
        for message in messages {
            client
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().expect("a receipt handle"))
                .send()
                .await
                .expect("moto deletes the message");
            received.push(message.clone());
        }
    }
}

/// The relay, configured by `vars` (QUEUE_URL included), publishing through `client`.
pub fn app(client: &Client, vars: &[(&str, &str)]) -> App<SqsQueue> {
    let config = Config::from_lookup(lookup(vars)).expect("a valid test configuration");
    let queue = SqsQueue::new(client.clone(), &config.queue);
    App::new(config, queue, None)
}

/// The `QUEUE_URL` of a [`memory_app`]: the configuration requires one, and nothing
/// is ever sent to it.
pub const MEMORY_QUEUE_URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/in-memory";

/// The relay, configured by `vars` (without QUEUE_URL), publishing to a new
/// [`MemoryQueue`] (`app.queue`): no SQS server needed.
pub fn memory_app(vars: &[(&str, &str)]) -> App<MemoryQueue> {
    let mut all = vec![("QUEUE_URL", MEMORY_QUEUE_URL)];
    all.extend_from_slice(vars);
    let config = Config::from_lookup(lookup(&all)).expect("a valid test configuration");
    App::new(config, MemoryQueue::new(), None)
}

/// Both sources, encrypted, publishing to a new [`MemoryQueue`].
pub fn encrypted_memory_app() -> App<MemoryQueue> {
    memory_app(&SECRETS)
}

/// Both sources enabled and encrypted, with the test secrets.
pub const SECRETS: [(&str, &str); 4] = [
    ("FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN),
    ("FEISHU_ENCRYPT_KEY", FEISHU_KEY),
    ("FEILIAN_VERIFICATION_TOKEN", FEILIAN_TOKEN),
    ("FEILIAN_ENCRYPT_KEY", FEILIAN_KEY),
];

/// [`SECRETS`] as the JSON object a Secrets Manager secret of the relay holds.
pub fn secrets_json() -> String {
    let object: serde_json::Map<String, Value> = SECRETS
        .iter()
        .map(|(key, value)| (key.to_string(), json!(value)))
        .collect();
    Value::Object(object).to_string()
}

/// Both sources, encrypted, publishing to `queue_url`.
pub fn encrypted_app(client: &Client, queue_url: &str) -> App<SqsQueue> {
    let mut vars = vec![("QUEUE_URL", queue_url)];
    vars.extend(SECRETS);
    app(client, &vars)
}

/// The API Gateway payload formats the function is invoked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    RestV1,
    HttpV2,
    FunctionUrl,
}

/// An HTTP request as a platform sends it.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn post(path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: "POST",
            path: path.to_owned(),
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.into(),
        }
    }

    /// A POST whose body is a file, `application/octet-stream`: API Gateway hands
    /// such a body to the function base64-encoded (send it with `base64` true).
    pub fn octet_stream(path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            headers: vec![("Content-Type".into(), "application/octet-stream".into())],
            ..Self::post(path, body)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The Lambda event API Gateway would deliver, from AWS's own sample events.
    pub fn event(&self, format: Format, base64: bool) -> Value {
        let fixture = match format {
            Format::RestV1 => include_str!("../fixtures/apigw-rest-v1-request.json"),
            Format::HttpV2 => include_str!("../fixtures/apigw-http-v2-request.json"),
            Format::FunctionUrl => include_str!("../fixtures/function-url-request.json"),
        };
        let mut event: Value = serde_json::from_str(fixture).expect("the fixture is JSON");
        let body = if base64 {
            STANDARD.encode(&self.body)
        } else {
            String::from_utf8(self.body.clone()).expect("a text body unless base64")
        };
        match format {
            Format::RestV1 => {
                let headers: serde_json::Map<String, Value> = self
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                let multi: serde_json::Map<String, Value> = self
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), json!([v])))
                    .collect();
                event["path"] = json!(self.path);
                event["httpMethod"] = json!(self.method);
                event["requestContext"]["path"] = json!(format!("/testStage{}", self.path));
                event["requestContext"]["httpMethod"] = json!(self.method);
                event["headers"] = Value::Object(headers);
                event["multiValueHeaders"] = Value::Object(multi);
            }
            Format::HttpV2 | Format::FunctionUrl => {
                // HTTP APIs and Function URLs deliver header names in lower case.
                let headers: serde_json::Map<String, Value> = self
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_lowercase(), json!(v)))
                    .collect();
                event["rawPath"] = json!(self.path);
                event["requestContext"]["http"]["method"] = json!(self.method);
                event["requestContext"]["http"]["path"] = json!(self.path);
                event["headers"] = Value::Object(headers);
            }
        }
        event["body"] = json!(body);
        event["isBase64Encoded"] = json!(base64);
        event
    }
}

/// What the function answered, read from the Lambda response it returned.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// The whole Lambda response, as serialized for API Gateway.
    pub response: Value,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("a JSON body, got {:?}", self.body))
    }

    pub fn error_code(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// Invokes the function exactly as the relay's `main` runs it: the event JSON is
/// deserialized into a `LambdaRequest` (as `lambda_runtime` does), passed to
/// `handle_event` (lambda_http's adapter, guarded), and the response serialized back
/// into what API Gateway would receive.
pub async fn invoke<Q: Queue>(app: &App<Q>, event: Value) -> Answer {
    let payload: LambdaRequest =
        serde_json::from_value(event).expect("lambda_http reads the event");
    let Ok(response) = handle_event(app, LambdaEvent::new(payload, Context::default())).await;
    answer(serde_json::to_value(&response).expect("the response serializes"))
}

/// What lambda_http's own adapter alone (`lambda_http::run`, without the relay's
/// guard) makes of `event`: the answer, or the message of the panic it ends in.
pub async fn invoke_bare_adapter<Q: Queue>(app: &App<Q>, event: Value) -> Result<Answer, String> {
    let payload: LambdaRequest =
        serde_json::from_value(event).expect("lambda_http reads the event");
    let mut adapter = Adapter::from(service_fn(|request| handle(app, request)));
    let adapter = adapter.ready().await.expect("ready");
    let future = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        adapter.call(LambdaEvent::new(payload, Context::default()))
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })?;
    let response = future.await.expect("the handler never fails");
    Ok(answer(
        serde_json::to_value(&response).expect("the response serializes"),
    ))
}

/// The answer in a serialized Lambda response (any of the formats).
fn answer(response: Value) -> Answer {
    let body = response["body"].as_str().unwrap_or_default();
    let body = if response["isBase64Encoded"] == json!(true) {
        String::from_utf8(STANDARD.decode(body).expect("base64")).expect("utf-8")
    } else {
        body.to_owned()
    };
    // REST (v1) responses carry their headers in `multiValueHeaders`, HTTP API (v2)
    // ones in `headers`.
    let header = |name: &str| {
        ["headers", "multiValueHeaders"].iter().find_map(|field| {
            let (_, value) = response[field]
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))?;
            value
                .as_str()
                .or_else(|| value.get(0).and_then(Value::as_str))
                .map(str::to_owned)
        })
    };
    Answer {
        status: response["statusCode"].as_u64().expect("a status code") as u16,
        content_type: header("content-type").unwrap_or_default(),
        body,
        response,
    }
}

/// Sends a request in the HTTP API (v2) format with a plain-text body.
pub async fn send<Q: Queue>(app: &App<Q>, request: &HttpRequest) -> Answer {
    invoke(app, request.event(Format::HttpV2, false)).await
}

/// `{"encrypt": ...}` around `plaintext`, the way both platforms encrypt.
pub fn encrypt(key: &str, plaintext: &str) -> String {
    let sealed = cipher::encrypt(
        &EncryptKey::new(key),
        plaintext.as_bytes(),
        *b"0123456789abcdef",
    );
    json!({ "encrypt": sealed }).to_string()
}

/// Now, in Unix seconds.
pub fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

/// Now, in Unix milliseconds.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis() as u64
}

/// A Feishu request: `body` sent as is, signed with `key` like Feishu signs, now.
pub fn feishu_signed(body: &str, key: &str) -> HttpRequest {
    feishu_signed_at(body, key, &now_seconds().to_string(), "nonce-42")
}

/// A Feishu request signed with `key` as if sent at `timestamp` (the
/// `X-Lark-Request-Timestamp` value, as is) with `nonce`.
pub fn feishu_signed_at(body: &str, key: &str, timestamp: &str, nonce: &str) -> HttpRequest {
    let signature = signature::sign(timestamp, nonce, &EncryptKey::new(key), body.as_bytes());
    HttpRequest::post("/feishu", body)
        .header("X-Lark-Request-Timestamp", timestamp)
        .header("X-Lark-Request-Nonce", nonce)
        .header("X-Lark-Signature", &signature)
}

/// `plaintext` with its `header.create_time`, where it has one, set to `millis` (as a
/// string, as the platforms send it); anything that is not a JSON object is returned
/// as is. The samples keep the platforms' example times, which the replay window
/// refuses for an encrypted Feilian event.
pub fn dated(plaintext: &str, millis: u64) -> String {
    let Ok(mut envelope) = serde_json::from_str::<Value>(plaintext) else {
        return plaintext.to_owned();
    };
    match envelope.pointer_mut("/header/create_time") {
        Some(time) => *time = json!(millis.to_string()),
        None => return plaintext.to_owned(),
    }
    envelope.to_string()
}

/// A Feishu event, encrypted and signed with the test key.
pub fn feishu_event(plaintext: &str) -> HttpRequest {
    feishu_signed(&encrypt(FEISHU_KEY, plaintext), FEISHU_KEY)
}

/// A Feilian event, dated now ([`dated`]) and encrypted with the test key (Feilian
/// signs nothing).
pub fn feilian_event(plaintext: &str) -> HttpRequest {
    feilian_encrypted(&dated(plaintext, now_millis()))
}

/// `plaintext` exactly as given, encrypted with the Feilian test key.
pub fn feilian_encrypted(plaintext: &str) -> HttpRequest {
    HttpRequest::post("/feilian", encrypt(FEILIAN_KEY, plaintext))
}

/// A sample body from `events/`, with its token replaced by `token`.
pub fn sample(path: &str) -> String {
    let file = format!("{}/events/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&file).unwrap_or_else(|err| panic!("{file}: {err}"))
}

/// A moto server of a test's own, to be stopped mid-test.
pub struct MotoServer {
    pub endpoint: String,
    child: std::process::Child,
}

impl MotoServer {
    pub async fn start() -> Self {
        let executable = std::env::var("MOTO_SERVER")
            .unwrap_or_else(|_| panic!("MOTO_SERVER is not set: run the tests with `make test`"));
        let port = free_port();
        let child = std::process::Command::new(executable)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let server = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("moto_server did not start on port {port}");
    }

    /// Kills the server and waits until it is gone.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A file for a child process's output, under cargo's scratch folder for tests.
fn log_file(name: &str) -> (PathBuf, File) {
    static LOGS: AtomicUsize = AtomicUsize::new(0);
    let n = LOGS.fetch_add(1, Ordering::Relaxed);
    // Cargo's scratch folder for integration tests; examples that share this harness
    // are not given one.
    let folder = option_env!("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let path = folder.join(format!("{name}-{}-{n}.log", std::process::id()));
    let file = File::create(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    (path, file)
}

/// A child process that is killed, and waited for, when this is dropped; its log is
/// printed if the test is failing, else removed.
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(name: &'static str, mut command: Command) -> Self {
        let (log, file) = log_file(name);
        let stderr = file.try_clone().expect("a second handle on the log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|err| panic!("{name} does not start: {err}"));
        Self { name, child, log }
    }

    /// Panics, with the log, if the process has exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}):\n{}", self.name, self.log_text());
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- {} log ({}):\n{}",
                self.name,
                self.log.display(),
                self.log_text()
            );
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// cargo-lambda's Lambda emulator, `cargo lambda watch --only-lambda-apis`: the Lambda
/// Runtime API that a function process polls, and function URLs on the same port. It
/// starts no function itself. Killed when dropped.
pub struct Emulator {
    pub port: u16,
    process: Process,
}

impl Emulator {
    /// The name the relay is run under; any binary name of this package is accepted.
    pub const FUNCTION: &str = "org-change-relay";

    /// Starts the emulator on a free loopback port and waits until it accepts connections.
    pub fn start() -> Self {
        let executable = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/cargo-lambda");
        assert!(
            executable.is_file(),
            "{} not found: run scripts/setup.sh (make test does) to install cargo-lambda",
            executable.display()
        );
        let port = free_port();
        let mut command = Command::new(executable);
        command
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        let mut emulator = Self {
            port,
            process: Process::spawn("cargo-lambda", command),
        };
        emulator.until(Duration::from_secs(30), || {
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()
        });
        emulator
    }

    /// `AWS_LAMBDA_RUNTIME_API` for a function named `function`: the emulator routes
    /// `<this>/2018-06-01/runtime/invocation/next` to the invocations of that name.
    pub fn runtime_api(&self, function: &str) -> String {
        format!("http://127.0.0.1:{}/.rt/{function}", self.port)
    }

    /// The function URL of `function`: a request to `<this>/feishu` reaches it as an
    /// HTTP API (v2) event with the path `/feishu`.
    pub fn function_url(&self, function: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/{function}", self.port)
    }

    /// Calls `attempt` every 50 ms until it returns a value; panics, with the log, if
    /// the emulator exits or `timeout` passes first.
    pub fn until<T>(&mut self, timeout: Duration, mut attempt: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            self.process.assert_running();
            if let Some(value) = attempt() {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "not ready after {timeout:?}; emulator log:\n{}",
                self.process.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The real relay binary under the emulator, as Lambda runs it: a process that polls
/// the Runtime API. Both processes are killed when this is dropped, the relay first.
pub struct LocalStack {
    /// The relay's function URL: POST `<base_url>/feishu` or `<base_url>/feilian`.
    pub base_url: String,
    relay: Process,
    pub emulator: Emulator,
}

impl LocalStack {
    /// Starts the emulator, then the relay publishing to `queue`, with every AWS
    /// client pointed at this run's moto server, `vars` (the sources' secrets, or
    /// SECRET_ID, ...) and what Lambda itself sets: the Runtime API, the function's
    /// name, version and memory, a region and (dummy) credentials.
    pub fn start(queue: &str, vars: &[(&str, &str)]) -> Self {
        let emulator = Emulator::start();
        let mut command = Command::new(binary(option_env!("CARGO_BIN_EXE_org-change-relay")));
        command
            .env_clear()
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                emulator.runtime_api(Emulator::FUNCTION),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", Emulator::FUNCTION)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_ENDPOINT_URL", moto_endpoint())
            .env("QUEUE_URL", queue)
            .envs(vars.iter().copied());
        let relay = Process::spawn("org-change-relay", command);
        Self {
            base_url: emulator.function_url(Emulator::FUNCTION),
            relay,
            emulator,
        }
    }

    /// Everything the relay has written so far (stdout and stderr).
    pub fn relay_output(&self) -> String {
        self.relay.log_text()
    }

    /// The URL the platform posts `source`'s webhooks to.
    pub fn url(&self, source: Source) -> String {
        format!("{}/{}", self.base_url, source.as_str())
    }

    /// Like [`Emulator::until`], and panics too if the relay exits.
    pub fn until<T>(&mut self, timeout: Duration, mut attempt: impl FnMut() -> Option<T>) -> T {
        let relay = &mut self.relay;
        self.emulator.until(timeout, || {
            relay.assert_running();
            attempt()
        })
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A binary of this package, as cargo builds it for integration tests (examples that
/// share this harness cannot start the binaries).
fn binary(path: Option<&'static str>) -> &'static str {
    path.expect("the package's binaries are built for integration tests only")
}

/// Runs `org-change-sim` with `args` and nothing from this process's environment.
pub fn simulator(args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Output {
    Command::new(binary(option_env!("CARGO_BIN_EXE_org-change-sim")))
        .env_clear()
        .args(args)
        .output()
        .expect("org-change-sim runs")
}

/// `tests/sqs_fault_proxy.py`, a proxy of a test's own between the relay's SQS client
/// and this run's moto server that forwards, delays, forges or breaks the answers to
/// `SendMessageBatch` as `scenario` says (the script's docstring has the format), and
/// counts those calls. Every other call goes straight through. Stopped when dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`: the endpoint to give the relay's SQS client.
    pub endpoint: String,
    port: u16,
    child: Child,
}

/// One `SendMessageBatch` call the proxy received, from its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedCall {
    /// The message ids (the `id` in each entry's body) of the entries sent, in order.
    pub sent: Vec<String>,
    /// Those the proxy forwarded to moto and moto stored.
    pub forwarded: Vec<String>,
}

impl FaultProxy {
    /// Starts the proxy in front of this run's moto server.
    pub fn start(scenario: &Value) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = root.join(".venv/bin/python");
        let script = root.join("tests/sqs_fault_proxy.py");
        assert!(
            python.is_file() && script.is_file(),
            "{} or {} not found: run scripts/setup.sh (make test does)",
            python.display(),
            script.display()
        );
        let mut command = Command::new(python);
        command
            .arg(script)
            .args(["--upstream", &moto_endpoint()])
            .args(["--scenario", &scenario.to_string()])
            .args(["--lifetime", "300"])
            .stdin(Stdio::piped());
        let (child, port) = spawn_listening(command, "the fault proxy");
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            child,
        }
    }

    /// An SQS client for the relay that talks to the proxy, with the relay's own
    /// deadlines and retries, and a retry quota of its own: the SDK's retry token
    /// bucket is shared per process and partition, so without this, the retries one
    /// scenario spends would change what another scenario gets.
    pub async fn relay_client(&self) -> Client {
        let config = aws_sdk_sqs::config::Builder::from(&sdk_config(&self.endpoint).await)
            .retry_partition(aws_sdk_sqs::config::retry::RetryPartition::new(format!(
                "fault-proxy-{}",
                self.port
            )))
            .build();
        Client::from_conf(config)
    }

    fn stats(&self) -> Value {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the proxy answers");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a read timeout");
        stream
            .write_all(b"GET /__proxy/stats HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n\r\n")
            .expect("the stats request is sent");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("the proxy's stats");
        let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
        serde_json::from_str(body).expect("the stats are JSON")
    }

    /// The `SendMessageBatch` calls received so far, once the proxy has finished with
    /// every request that reached it (nothing is being forwarded, and nothing new has
    /// arrived for 50 ms), so that moto holds everything the relay caused.
    pub async fn calls(&self) -> Vec<ProxiedCall> {
        let mut last = None;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let stats = self.stats();
            let now = (stats["calls"].clone(), stats["in_flight"].clone());
            if now.1 == json!(0) && last.as_ref() == Some(&now) {
                let ids = |call: &Value, key: &str| -> Vec<String> {
                    call[key]
                        .as_array()
                        .map(|ids| {
                            ids.iter()
                                .filter_map(|id| id.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                return stats["log"]
                    .as_array()
                    .map(|log| {
                        log.iter()
                            .map(|call| ProxiedCall {
                                sent: ids(call, "sent"),
                                forwarded: ids(call, "forwarded"),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            }
            last = Some(now);
        }
        panic!("the fault proxy never settled: {}", self.stats());
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command`, a local server whose first line on stdout is `listening <port>`; the
/// child and its port.
pub fn spawn_listening(mut command: Command, what: &str) -> (Child, u16) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|err| panic!("{what} does not start: {err}"));
    let stdout = child.stdout.take().expect("its stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("its first line");
    let port = line
        .strip_prefix("listening ")
        .and_then(|port| port.trim().parse().ok())
        .unwrap_or_else(|| panic!("{what} did not start: {line:?}"));
    (child, port)
}
