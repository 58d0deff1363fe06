//! The protocol core against the floor: what any receiver of these webhooks must do
//! at least, what `receive()` does, and what the relay builds before its SQS call.
//! `make bench` (scripts/bench.sh) runs it; docs/benchmarks.md, "The protocol core", has the figures.
//!
//! Inputs, generated here, deterministically: 1,000 distinct encrypted, signed
//! `corehr.department.updated_v2` requests (events/feishu/, each with its own event id
//! and department id), and 100 distinct Feilian `department.v1.update` requests of 10
//! changes each (events/feilian/), all with one fixed Encrypt Key and token. For each
//! set, three variants, each one pass over the whole set per criterion iteration:
//!
//! - (a) the floor: SHA-256 of the signature input (timestamp + nonce + key + body;
//!   Feishu only: Feilian signs nothing), base64 decode of the `encrypt` value (located
//!   beforehand: finding it is not counted), AES-256-CBC decrypt with strict PKCS#7, and
//!   `serde_json` parse of the plaintext into a `serde_json::Value`, with the core's
//!   own crates (aes 0.9, cbc 0.2, sha2 0.11, base64 0.23) and a key schedule made once;
//! - (b) `org_change_core::receive()` at an endpoint set up as the relay sets it up (the
//!   messages checked against SQS's size limit), the result dropped;
//! - (c) (b), plus the `SendMessageBatch` entries exactly as the relay builds them
//!   (`SqsQueue::entry`: message attributes, body, FIFO group and deduplication ids
//!   through `sqs_token`) for a FIFO queue, collected as `send_batch` does.
//!
//! Criterion measures and reports each variant on its own. Then the three run in turn,
//! one pass of each per round (300 rounds; `BENCH_QUICK=1`: 20), so that a slow or
//! fast spell of a shared machine falls on all three alike, and the table printed last
//! gives, per set, each variant's median time per request (Feilian: per message), the
//! median of its per-round ratio to the floor, and the allocations per request counted
//! by this binary's global allocator (in one extra pass, untimed, so the counting
//! costs nothing in the timed passes), and below each table what (c) adds to (b):
//! the SQS entries alone, a lower bound of (c) whatever `receive()` costs. Times are
//! the benchmark thread's CPU time (`BENCH_CLOCK=wall`: wall time), in criterion's
//! report too. `BENCH_QUICK=1` also takes few, short criterion samples.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, InnerIvInit, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, Throughput};
use serde_json::Value;
use sha2::{Digest, Sha256};

use org_change_core::signature::sign;
use org_change_core::{
    Delivery, EncryptKey, Endpoint, Inbound, SignatureHeaders, Source, VerificationToken, cipher,
    receive,
};
use org_change_relay::queue::sqs::{MAX_PAYLOAD_BYTES, QueueConfig, SqsQueue};

// ---------------------------------------------------------------- allocations

/// The system allocator, counting allocations while [`COUNTING`] is on.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static REALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCATIONS.fetch_add(1, Relaxed);
            BYTES.fetch_add(layout.size() as u64, Relaxed);
        }
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCATIONS.fetch_add(1, Relaxed);
            BYTES.fetch_add(layout.size() as u64, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            REALLOCATIONS.fetch_add(1, Relaxed);
            BYTES.fetch_add(new_size.saturating_sub(layout.size()) as u64, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations, reallocations and bytes allocated per unit by one run of `pass`.
fn count_allocations(units: usize, pass: impl FnOnce()) -> (f64, f64, f64) {
    ALLOCATIONS.store(0, Relaxed);
    REALLOCATIONS.store(0, Relaxed);
    BYTES.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    pass();
    COUNTING.store(false, Relaxed);
    let per = |counter: &AtomicU64| counter.load(Relaxed) as f64 / units as f64;
    (per(&ALLOCATIONS), per(&REALLOCATIONS), per(&BYTES))
}

// ---------------------------------------------------------------- inputs

const ENCRYPT_KEY: &str = "bench-encrypt-key-0123456789";
const TOKEN: &str = "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV";
const TIMESTAMP: &str = "1740385174";

/// The relay's clock for every request: one second after [`TIMESTAMP`], and just after
/// the Feilian samples' `create_time` (1740385174957 ms), so that every request is
/// inside the replay window and the window's check is part of what is measured.
fn now() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_740_385_175)
}
const FEISHU_REQUESTS: usize = 1_000;
const FEILIAN_REQUESTS: usize = 100;
const FEILIAN_CHANGES: usize = 10;

/// One request as it reaches the core: the raw body and its signature headers.
struct Request {
    body: String,
    nonce: String,
    signature: Option<String>,
    /// Where the `encrypt` value is in `body` (for the floor, which does not parse it).
    encrypt: std::ops::Range<usize>,
}

impl Request {
    fn inbound(&self) -> Inbound<'_> {
        Inbound {
            body: self.body.as_bytes(),
            signature: self.signature.as_deref().map(|signature| SignatureHeaders {
                timestamp: TIMESTAMP,
                nonce: &self.nonce,
                signature,
            }),
        }
    }
}

fn sample(path: &str) -> Value {
    let path = format!("{}/events/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("a sample event")).expect("JSON")
}

/// Encrypts `plaintext` (IV from `index`), wraps it as `{"encrypt": ...}` and signs it.
fn request(key: &EncryptKey, index: usize, plaintext: &str, signed: bool) -> Request {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&(index as u64).to_le_bytes());
    iv[8..].copy_from_slice(b"bench-iv");
    let encrypted = cipher::encrypt(key, plaintext.as_bytes(), iv);
    let body = serde_json::json!({ "encrypt": encrypted }).to_string();
    let start = body.find(&encrypted).expect("the value is in the body");
    let nonce = format!("nonce-{index}");
    let signature = signed.then(|| sign(TIMESTAMP, &nonce, key, body.as_bytes()));
    Request {
        encrypt: start..start + encrypted.len(),
        body,
        nonce,
        signature,
    }
}

/// 1,000 `corehr.department.updated_v2` requests, compact JSON as Feishu sends it.
fn feishu_requests(key: &EncryptKey) -> Vec<Request> {
    let template = sample("feishu/corehr.department.updated_v2.json");
    (0..FEISHU_REQUESTS)
        .map(|i| {
            let mut event = template.clone();
            event["header"]["event_id"] = format!("5e3702a84e847582be8db7fb{i:08x}").into();
            event["header"]["token"] = TOKEN.into();
            event["event"]["department_id"] =
                (7_043_711_774_159_341_101u64 + i as u64).to_string().into();
            request(key, i, &event.to_string(), true)
        })
        .collect()
}

/// 100 `department.v1.update` requests of 10 changes each.
fn feilian_requests(key: &EncryptKey) -> Vec<Request> {
    let template = sample("feilian/department.v1.update.json");
    let change = template["data"]["events"][0].clone();
    (0..FEILIAN_REQUESTS)
        .map(|i| {
            let mut event = template.clone();
            event["header"]["event_id"] = format!("e09288e2-a1b3-4b38-84a8-{i:012x}").into();
            event["header"]["token"] = TOKEN.into();
            event["data"]["events"] = (0..FEILIAN_CHANGES)
                .map(|j| {
                    let mut change = change.clone();
                    let open_id = format!("od_{i:06}{j:04}");
                    change["object"]["open_id"] = open_id.clone().into();
                    change["old_object"]["open_id"] = open_id.into();
                    change
                })
                .collect();
            request(key, i, &event.to_string(), false)
        })
        .collect()
}

// ---------------------------------------------------------------- the three variants

/// (a): what any receiver must do at least.
struct Floor {
    raw_key: Vec<u8>,
    cipher: Aes256,
    signed: bool,
}

impl Floor {
    fn new(key: &str, signed: bool) -> Self {
        let aes_key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        Self {
            raw_key: key.as_bytes().to_vec(),
            cipher: Aes256::new(&aes_key.into()),
            signed,
        }
    }

    fn run(&self, request: &Request) -> Value {
        if self.signed {
            let digest: [u8; 32] = Sha256::new()
                .chain_update(TIMESTAMP.as_bytes())
                .chain_update(request.nonce.as_bytes())
                .chain_update(&self.raw_key)
                .chain_update(request.body.as_bytes())
                .finalize()
                .into();
            black_box(digest);
        }
        let mut data = STANDARD
            .decode(&request.body[request.encrypt.clone()])
            .expect("base64");
        let (iv, ciphertext) = data.split_at_mut(16);
        let plaintext = cbc::Decryptor::<Aes256>::inner_iv_slice_init(self.cipher.clone(), iv)
            .expect("a 16-byte IV")
            .decrypt_padded::<Pkcs7>(ciphertext)
            .expect("PKCS#7");
        serde_json::from_slice(plaintext).expect("JSON")
    }
}

/// (b): the whole core pipeline; the number of messages.
fn core(endpoint: &Endpoint, request: &Request) -> usize {
    match receive(endpoint, request.inbound(), now()) {
        Ok(Delivery::Changes(batch)) => batch.messages().len(),
        other => panic!("expected changes, got {other:?}"),
    }
}

/// (c): (b) and the SQS entries, as `SqsQueue::send_batch` builds them.
fn core_and_entries(endpoint: &Endpoint, queue: &SqsQueue, request: &Request) -> usize {
    let Ok(Delivery::Changes(batch)) = receive(endpoint, request.inbound(), now()) else {
        panic!("expected changes");
    };
    let entries = batch
        .messages()
        .iter()
        .enumerate()
        .map(|(index, message)| queue.entry(index, message))
        .collect::<Result<Vec<_>, _>>()
        .expect("entries");
    black_box(&entries);
    entries.len()
}

/// An endpoint as the relay configures it (`src/config.rs`): its messages checked
/// against SQS's size limit in the core.
fn relay_endpoint(source: Source, token: &VerificationToken, key: &EncryptKey) -> Endpoint {
    Endpoint::new(source, token.clone(), Some(key.clone())).with_message_limit(MAX_PAYLOAD_BYTES)
}

/// A FIFO queue's entry builder (a client is made, never called).
fn fifo_queue() -> SqsQueue {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("eu-west-1"))
        .build();
    SqsQueue::new(
        aws_sdk_sqs::Client::from_conf(config),
        &QueueConfig {
            url: "https://sqs.eu-west-1.amazonaws.com/123456789012/org-changes.fifo".into(),
            fifo: true,
            group_by: org_change_core::GroupBy::default(),
            delay_seconds: None,
        },
    )
}

// ---------------------------------------------------------------- measuring

struct Settings {
    sample_size: usize,
    warm_up: Duration,
    measurement: Duration,
    clock: Clock,
    /// Rounds of the interleaved measurement ([`interleaved`]).
    rounds: usize,
}

/// What a sample's time is. The thread's CPU time by default: on a shared machine
/// the wall time of a pass includes whatever else ran meanwhile, which differs from
/// one variant to the next and skews the ratios. `BENCH_CLOCK=wall` for wall time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clock {
    ThreadCpu,
    Wall(Instant),
}

impl Clock {
    fn from_env() -> Self {
        match std::env::var("BENCH_CLOCK").as_deref() {
            Ok("wall") => Clock::Wall(Instant::now()),
            _ => Clock::ThreadCpu,
        }
    }

    fn now(self) -> Duration {
        match self {
            Clock::Wall(origin) => origin.elapsed(),
            Clock::ThreadCpu => {
                let mut ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
                let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
                assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
                Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Clock::ThreadCpu => "thread CPU time",
            Clock::Wall(_) => "wall time",
        }
    }
}

impl Settings {
    fn from_env() -> Self {
        // `cargo test` runs this binary without `--bench` (criterion's test mode, as is
        // `--test` or `--list`): criterion runs each benchmark once, one round here.
        let has = |flag: &str| std::env::args().any(|arg| arg == flag);
        if !has("--bench") || has("--test") || has("--list") {
            return Self {
                rounds: 1,
                ..Self::measured()
            };
        }
        Self::measured()
    }

    fn measured() -> Self {
        if std::env::var_os("BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0") {
            Self {
                sample_size: 10,
                warm_up: Duration::from_millis(200),
                measurement: Duration::from_millis(500),
                clock: Clock::from_env(),
                rounds: 20,
            }
        } else {
            Self {
                sample_size: 50,
                warm_up: Duration::from_secs(2),
                measurement: Duration::from_secs(5),
                clock: Clock::from_env(),
                rounds: 300,
            }
        }
    }
}

/// Runs criterion's benchmark of `pass` (one pass over a whole set), for its report.
fn measure(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    settings: &Settings,
    name: &str,
    pass: impl Fn() -> usize,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            let start = settings.clock.now();
            for _ in 0..iterations {
                black_box(pass());
            }
            settings.clock.now() - start
        })
    });
}

/// Times the three variants in turn, one pass of each per round: a slow or fast spell
/// of a shared machine then falls on the three alike, and each round gives its own
/// ratios to the floor. The round's first variant changes from round to round, so
/// that going first (or after a given other) favours none. Returns, per variant, the
/// median time of a pass and the median of its per-round ratio to the first variant.
fn interleaved(settings: &Settings, passes: [&dyn Fn() -> usize; 3]) -> [(f64, f64); 3] {
    let mut times: [Vec<f64>; 3] = Default::default();
    let mut ratios: [Vec<f64>; 3] = Default::default();
    for round_number in 0..settings.rounds {
        let mut round = [0.0; 3];
        for step in 0..passes.len() {
            let variant = (round_number + step) % passes.len();
            let start = settings.clock.now();
            black_box(passes[variant]());
            round[variant] = (settings.clock.now() - start).as_nanos() as f64;
        }
        for (variant, time) in round.into_iter().enumerate() {
            times[variant].push(time);
            ratios[variant].push(time / round[0]);
        }
    }
    std::array::from_fn(|variant| (median(&mut times[variant]), median(&mut ratios[variant])))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One row per variant: median per unit, ratio to the floor, allocations per unit.
struct Row {
    name: &'static str,
    median_per_unit: f64,
    ratio: f64,
    allocations: (f64, f64, f64),
}

fn print_table(title: &str, unit: &str, rows: &[Row]) {
    println!("\n{title}");
    println!(
        "  {:<36} {:>14} {:>9} {:>13} {:>10} {:>11}",
        "variant",
        format!("ns/{unit}"),
        "x floor",
        format!("allocs/{unit}"),
        "reallocs",
        "bytes alloc"
    );
    for row in rows {
        let (allocations, reallocations, bytes) = row.allocations;
        println!(
            "  {:<36} {:>14.0} {:>9.2} {:>13.1} {:>10.1} {:>11.0}",
            row.name, row.median_per_unit, row.ratio, allocations, reallocations, bytes
        );
    }
    // What (c) adds to (b): the entries the AWS SDK takes, which own every string. It
    // bounds (c) from below whatever `receive()` costs.
    if let [_, b, c] = rows {
        println!(
            "  (c) minus (b), the SQS entries alone: {:.0} ns/{unit}, {:.2} x floor (difference of the medians), {:.1} allocs/{unit}",
            c.median_per_unit - b.median_per_unit,
            c.ratio - b.ratio,
            c.allocations.0 - b.allocations.0,
        );
    }
}

/// One set of requests, and what to measure them against.
struct Set {
    /// Criterion's group name.
    group: &'static str,
    requests: Vec<Request>,
    endpoint: Endpoint,
    floor: Floor,
    /// Messages per request: the figures are per message.
    per_request: usize,
}

/// Measures the three variants over a set and counts their allocations: one row per
/// variant, per message.
fn measure_set(
    criterion: &mut Criterion,
    settings: &Settings,
    queue: &SqsQueue,
    set: &Set,
) -> [Row; 3] {
    let Set {
        group,
        requests,
        endpoint,
        floor,
        per_request,
    } = set;
    let (per_request, units) = (*per_request, requests.len() * per_request);
    let a = || {
        requests
            .iter()
            .map(|r| black_box(floor.run(r)).is_object() as usize)
            .sum::<usize>()
    };
    let b = || requests.iter().map(|r| core(endpoint, r)).sum::<usize>();
    let c = || {
        requests
            .iter()
            .map(|r| core_and_entries(endpoint, queue, r))
            .sum::<usize>()
    };
    assert_eq!(b(), units, "{per_request} message(s) per request");
    let mut measured = criterion.benchmark_group(*group);
    measured.throughput(Throughput::Elements(units as u64));
    measure(&mut measured, settings, "a_floor", a);
    measure(&mut measured, settings, "b_receive", b);
    measure(&mut measured, settings, "c_receive_and_sqs_entries", c);
    measured.finish();
    let passes: [&dyn Fn() -> usize; 3] = [&a, &b, &c];
    let timed = interleaved(settings, passes);
    let names = ["(a) floor", "(b) receive()", "(c) receive() + SQS entries"];
    std::array::from_fn(|variant| {
        let (median, ratio) = timed[variant];
        Row {
            name: names[variant],
            median_per_unit: median / units as f64,
            ratio,
            allocations: count_allocations(units, || {
                black_box(passes[variant]());
            }),
        }
    })
}

fn main() {
    let settings = Settings::from_env();
    let mut criterion = Criterion::default()
        .sample_size(settings.sample_size)
        .warm_up_time(settings.warm_up)
        .measurement_time(settings.measurement)
        .configure_from_args();

    let key = EncryptKey::new(ENCRYPT_KEY);
    let token = VerificationToken::new(TOKEN);
    let queue = fifo_queue();

    // Feishu: 1,000 requests, one message each.
    let feishu_set = Set {
        group: "feishu_corehr_department_updated_v2_x1000",
        requests: feishu_requests(&key),
        endpoint: relay_endpoint(Source::Feishu, &token, &key),
        floor: Floor::new(ENCRYPT_KEY, true),
        per_request: 1,
    };
    let feishu = measure_set(&mut criterion, &settings, &queue, &feishu_set);
    // Feilian: 100 requests of 10 changes, per message.
    let feilian_set = Set {
        group: "feilian_department_v1_update_x100x10",
        requests: feilian_requests(&key),
        endpoint: relay_endpoint(Source::Feilian, &token, &key),
        floor: Floor::new(ENCRYPT_KEY, false),
        per_request: FEILIAN_CHANGES,
    };
    let feilian = measure_set(&mut criterion, &settings, &queue, &feilian_set);
    criterion.final_summary();

    println!(
        "\n== org-change-core against the floor ({} rounds of one pass of each variant in turn, {}; medians) ==",
        settings.rounds,
        settings.clock.name()
    );
    print_table(
        &format!(
            "Feishu corehr.department.updated_v2: {} distinct encrypted, signed requests",
            feishu_set.requests.len()
        ),
        "request",
        &feishu,
    );
    print_table(
        &format!(
            "Feilian department.v1.update: {} encrypted requests of {FEILIAN_CHANGES} changes, per message",
            feilian_set.requests.len()
        ),
        "message",
        &feilian,
    );
    println!(
        "\nGuard: Feishu (b) at most 2 x the floor (docs/benchmarks.md, \"The protocol core\")."
    );
}
