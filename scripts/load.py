"""Load test of the relay: many webhooks, concurrent clients, several Lambda instances,
and a check that every acknowledged message is on the queue.

Run by scripts/load.sh (`make load`). Nothing here is mocked but the AWS endpoint:

- SQS is a local server on loopback, started (and stopped) by this script, with one
  standard queue and one FIFO queue: MiniStack (LOAD_SQS=ministack, the default; its
  SQS deduplicates FIFO messages for 5 minutes as SQS does) or moto (LOAD_SQS=moto:
  scripts/load_moto.py makes it fast enough and adds that deduplication). The queues
  are read (and the messages deleted) while the load runs: moto slows down with every
  message it holds;
- each queue has its own "deployment": one cargo-lambda Runtime API emulator
  (`cargo lambda watch --only-lambda-apis`) and LOAD_RELAYS_PER_QUEUE (2) processes of the
  release relay binary polling it, each process a Lambda instance. One emulator hands
  concurrent invocations of a function to every process polling it (checked with
  cargo-lambda 1.9.2; its `--concurrency` flag is not used: it starts `cargo run`
  watchers of its own even with `--only-lambda-apis`);
- LOAD_EVENTS events, half to each deployment: Feishu `corehr.department.updated_v2`
  events (encrypted and signed, current timestamp, distinct event id: one message),
  and every LOAD_FEILIAN_EVERY-th (4) a Feilian `department.v1.update` request
  carrying 1-20 changes (encrypted: one message per change). The bodies are built
  with the cold-start benchmark's helpers (scripts/bench_cold_start.py);
- every event is sent a second time, as the platform's retry (same event id, body
  encrypted again, signed again), soon after the first answer: within SQS's
  five-minute FIFO deduplication window;
- LOAD_CLIENTS concurrent clients (threads, one keep-alive connection each).

At the end the queues are emptied and the script prints: requests by status,
messages expected vs on the queue, lost acknowledgements (a 200 whose messages are
not all on the queue), answer times (at the client, and in the relay from its log),
each relay's peak RSS (VmHWM), and the CPU time of the relays, the emulators and the
SQS server, per request. It exits 1 if an acknowledgement was lost, a FIFO message is duplicated,
an unknown message is on a queue, a relay exited or panicked, or a request failed at
the HTTP level; 2 on the global timeout.

Bounded: loopback only, fixed counts, LOAD_TIMEOUT seconds in all (a watchdog kills
every child and exits), and every child is killed on the way out.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cold_start import CARGO_LAMBDA, FUNCTION, KEY, RELAY, ROOT, TOKEN, encrypt, free_port, signed_headers  # noqa: E402

EVENTS = int(os.environ.get("LOAD_EVENTS", "10000"))
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "8"))
RELAYS_PER_QUEUE = int(os.environ.get("LOAD_RELAYS_PER_QUEUE", "2"))
TIMEOUT = float(os.environ.get("LOAD_TIMEOUT", "1200"))
SEED = int(os.environ.get("LOAD_SEED", "1"))
SQS_SERVER = os.environ.get("LOAD_SQS", "ministack")
FEILIAN_EVERY = int(os.environ.get("LOAD_FEILIAN_EVERY", "4"))  # 1 in 4 events is Feilian's
FEILIAN_TOKEN = "load-feilian-token"  # both sources are encrypted with the helpers' KEY
TICKS = os.sysconf("SC_CLK_TCK")

children: list[subprocess.Popen] = []
children_lock = threading.Lock()


def spawn(command: list[str], **kwargs) -> subprocess.Popen:
    """A child in a session of its own, killed (with its own children) on exit."""
    with children_lock:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
        children.append(process)
    return process


def kill_children() -> None:
    with children_lock:
        for process in reversed(children):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        children.clear()


def watchdog() -> None:
    time.sleep(TIMEOUT)
    print(f"load: global timeout ({TIMEOUT:.0f} s, LOAD_TIMEOUT) reached; stopping", file=sys.stderr, flush=True)
    kill_children()
    os._exit(2)


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"load: {what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"load: {what} not listening on {port} after {seconds:.0f} s")


# ---------------------------------------------------------------- the events


@dataclass
class Event:
    source: str  # feishu | feilian
    deployment: int  # 0 standard, 1 fifo
    plaintext: str
    ids: list[str]  # the message ids it must put on the queue
    answers: list[int] = field(default_factory=list)  # status of each attempt


def feishu_event(rng: random.Random, template: dict) -> tuple[str, list[str]]:
    event = json.loads(json.dumps(template))
    event_id = "%032x" % rng.getrandbits(128)
    event["header"].update(event_id=event_id, token=TOKEN, create_time=str(int(time.time() * 1000)))
    event["event"]["department_id"] = str(rng.randrange(10**18, 10**19))
    event["event"]["field_changes"] = rng.sample(["name", "manager", "parent_department_id", "code", "cost_center"], 2)
    return json.dumps(event, ensure_ascii=False), [f"feishu:{event_id}"]


def feilian_event(rng: random.Random, template: dict) -> tuple[str, list[str]]:
    event = json.loads(json.dumps(template))
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    event["header"].update(event_id=event_id, token=FEILIAN_TOKEN, create_time=str(int(time.time() * 1000)))
    change = event["data"]["events"][0]
    changes = []
    for n in range(rng.randint(1, 20)):
        entry = json.loads(json.dumps(change))
        open_id = "od_%012x" % rng.getrandbits(48)
        entry["object"].update(open_id=open_id, name=f"部门 {n}", seq=n)
        entry["old_object"].update(open_id=open_id, name=f"部门 {n} (旧)", seq=n)
        changes.append(entry)
    event["data"]["events"] = changes
    return json.dumps(event, ensure_ascii=False), [f"feilian:{event_id}:{n}" for n in range(len(changes))]


def make_events() -> list[Event]:
    rng = random.Random(SEED)
    feishu = json.loads((ROOT / "events/feishu/corehr.department.updated_v2.json").read_text())
    feilian = json.loads((ROOT / "events/feilian/department.v1.update.json").read_text())
    events = []
    for n in range(EVENTS):
        # Every FEILIAN_EVERY-th event is a Feilian request; blocks of FEILIAN_EVERY
        # events go to the standard and the FIFO deployment in turn.
        source = "feilian" if n % FEILIAN_EVERY == FEILIAN_EVERY - 1 else "feishu"
        plaintext, ids = (feishu_event if source == "feishu" else feilian_event)(
            rng, feishu if source == "feishu" else feilian
        )
        events.append(Event(source, (n // FEILIAN_EVERY) % 2, plaintext, ids))
    return events


# ---------------------------------------------------------------- the clients


@dataclass
class Attempt:
    event: Event
    retry: bool


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: collections.Counter = collections.Counter()
        self.latencies: list[float] = []
        self.errors: collections.Counter = collections.Counter()
        self.acked_requests: list[Event] = []  # one entry per 200
        self.retry_gaps: list[float] = []


def client(bases: list[tuple[str, int]], originals: collections.deque, retries: collections.deque,
           results: Results, rng: random.Random, stop: threading.Event) -> None:
    connections: dict[int, http.client.HTTPConnection] = {}
    while not stop.is_set():
        # Retries and first deliveries interleave, so a retry follows its original
        # by about LOAD_CLIENTS requests, well inside the FIFO deduplication window.
        try:
            if retries and (rng.random() < 0.5 or not originals):
                attempt, first_sent = retries.popleft()
            else:
                attempt, first_sent = originals.popleft(), None
        except IndexError:
            if not originals and not retries:
                return
            time.sleep(0.01)
            continue
        event = attempt.event
        host, port = bases[event.deployment]
        body = encrypt(event.plaintext)  # a fresh IV on each delivery, like the platforms
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if event.source == "feishu":
            headers |= signed_headers(body)  # current time: the replay window accepts it
        status = None
        started = time.perf_counter()
        for _ in range(2):  # one reconnect if the kept-alive connection was closed
            connection = connections.get(port) or http.client.HTTPConnection(host, port, timeout=30)
            connections[port] = connection
            try:
                connection.request("POST", f"/lambda-url/{FUNCTION}/{event.source}", body=body.encode(), headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                break
            except (OSError, http.client.HTTPException) as err:
                connection.close()
                connections.pop(port, None)
                error = type(err).__name__
        elapsed = time.perf_counter() - started
        with results.lock:
            if status is None:
                results.errors[error] += 1
                status = 0
            results.statuses[status] += 1
            results.latencies.append(elapsed)
            event.answers.append(status)
            if status == 200:
                results.acked_requests.append(event)
            if first_sent is not None:
                results.retry_gaps.append(time.monotonic() - first_sent)
        if not attempt.retry:
            retries.append((Attempt(event, True), time.monotonic()))


# ---------------------------------------------------------------- the stack


@dataclass
class Deployment:
    queue_url: str
    emulator: subprocess.Popen
    port: int
    relays: list[subprocess.Popen]
    logs: list[Path]


def start_deployment(queue_url: str, endpoint: str, workdir: Path, name: str) -> Deployment:
    port = free_port()
    emulator = spawn(
        [str(CARGO_LAMBDA), "lambda", "watch", "--only-lambda-apis", "--ignore-changes",
         "-A", "127.0.0.1", "-P", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(workdir / f"{name}-emulator.log", "wb"),
    )
    wait_for_port(port, emulator, "cargo lambda watch")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{port}/.rt/{FUNCTION}",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",  # as the template configures the function
        "QUEUE_URL": queue_url,
        "FEISHU_VERIFICATION_TOKEN": TOKEN,
        "FEISHU_ENCRYPT_KEY": KEY,
        "FEILIAN_VERIFICATION_TOKEN": FEILIAN_TOKEN,
        "FEILIAN_ENCRYPT_KEY": KEY,
    }
    relays, logs = [], []
    for n in range(RELAYS_PER_QUEUE):
        log = workdir / f"{name}-relay-{n}.log"
        relays.append(spawn([str(RELAY)], env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT))
        logs.append(log)
    return Deployment(queue_url, emulator, port, relays, logs)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its waited-for children, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and every live process of its session (the emulator's children)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == pid:  # session id: children were started in their own session
                total += cpu_seconds(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


class Drainer:
    """Reads and deletes the messages of a queue while the load runs (moto slows down
    with every message it holds), counting each message id; after `finish`, until the
    queue has been empty for 3 long polls of 1 s."""

    def __init__(self, endpoint: str, queue_url: str, threads: int = 2):
        self.queue_url = queue_url
        self.ids: collections.Counter = collections.Counter()
        self.lock = threading.Lock()
        self.finishing = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(endpoint,), daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self, endpoint: str) -> None:
        sqs = boto3.session.Session().client(
            "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing", config=BotoConfig(retries={"max_attempts": 10}))
        empty = 0
        while empty < 3:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=900,
                                           WaitTimeSeconds=1).get("Messages", [])
            if not messages:
                empty += self.finishing.is_set()
                continue
            empty = 0
            with self.lock:
                for message in messages:
                    self.ids[json.loads(message["Body"])["id"]] += 1
            sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ])

    def finish(self) -> collections.Counter:
        self.finishing.set()
        for thread in self.threads:
            thread.join()
        return self.ids


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# ---------------------------------------------------------------- main


def main() -> int:
    if not RELAY.exists():
        raise SystemExit(f"load: {RELAY} is missing: cargo build --release --bin org-change-relay")
    threading.Thread(target=watchdog, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="relay-load-"))
    try:
        return run(workdir)
    finally:
        kill_children()
        shutil.rmtree(workdir, ignore_errors=True)


def start_sqs_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    """The SQS server LOAD_SQS names, on a free loopback port; its process and URL."""
    port = free_port()
    if SQS_SERVER == "moto":
        # moto's server, sped up and with SQS's own FIFO deduplication (scripts/load_moto.py).
        command = [str(ROOT / ".venv/bin/python"), str(ROOT / "scripts/load_moto.py"),
                   "-H", "127.0.0.1", "-p", str(port)]
        env = None
    elif SQS_SERVER == "ministack":
        # Its own virtualenv (scripts/setup.sh); only SQS, whose state it keeps in memory.
        command = [str(ROOT / ".venv/ministack/bin/ministack")]
        env = dict(os.environ, GATEWAY_PORT=str(port), BIND_HOST="127.0.0.1", SERVICES="sqs",
                   LOG_LEVEL="WARNING", TMPDIR=str(workdir))
        env.pop("AUTH", None)
    else:
        raise SystemExit(f"load: LOAD_SQS is {SQS_SERVER!r}: ministack or moto")
    process = spawn(command, env=env, stdout=subprocess.DEVNULL,
                    stderr=open(workdir / "sqs-server.log", "wb"))
    wait_for_port(port, process, SQS_SERVER)
    return process, f"http://127.0.0.1:{port}"


def run(workdir: Path) -> int:
    sqs_process, endpoint = start_sqs_server(workdir)
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing", config=BotoConfig(retries={"max_attempts": 10}))
    standard = sqs.create_queue(QueueName="load")["QueueUrl"]
    fifo = sqs.create_queue(QueueName="load.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]

    drainers = [Drainer(endpoint, standard), Drainer(endpoint, fifo)]
    events = make_events()
    messages_expected = [sum(len(e.ids) for e in events if e.deployment == d) for d in (0, 1)]
    deployments = [start_deployment(standard, endpoint, workdir, "standard"), start_deployment(fifo, endpoint, workdir, "fifo")]
    relays = [relay for d in deployments for relay in d.relays]
    print(f"load: {EVENTS:,} events ({sum(e.source == 'feishu' for e in events):,} Feishu, "
          f"{sum(e.source == 'feilian' for e in events):,} Feilian with 1-20 changes), each sent twice, "
          f"by {CLIENTS} clients, to {len(relays)} relay processes ({RELAYS_PER_QUEUE} per queue); "
          f"{sum(messages_expected):,} messages expected; SQS: {SQS_SERVER} {endpoint}", flush=True)

    # The relays start polling as soon as they have read their configuration.
    time.sleep(0.5)
    for relay in relays:
        if relay.poll() is not None:
            raise SystemExit(f"load: a relay exited at start with {relay.returncode}")
    cpu_before = {
        "relays": sum(cpu_seconds(r.pid) for r in relays),
        "emulators": sum(tree_cpu_seconds(d.emulator.pid) for d in deployments),
        "SQS server": cpu_seconds(sqs_process.pid),
        "load generator": sum(os.times()[:2]),
    }

    results = Results()
    originals, retries = collections.deque(Attempt(e, False) for e in events), collections.deque()
    bases = [("127.0.0.1", d.port) for d in deployments]
    stop = threading.Event()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(bases, originals, retries, results, random.Random(SEED + n), stop),
                                daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    last = 0
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        done = len(results.latencies)
        if time.monotonic() - started >= last + 15:
            last += 15
            print(f"load: {done:,} / {2 * EVENTS:,} requests answered after {time.monotonic() - started:.0f} s", flush=True)
        if any(r.poll() is not None for r in relays):
            stop.set()
    wall = time.monotonic() - started

    cpu = {
        "relays": sum(cpu_seconds(r.pid) for r in relays if r.poll() is None) - cpu_before["relays"],
        "emulators": sum(tree_cpu_seconds(d.emulator.pid) for d in deployments) - cpu_before["emulators"],
        "SQS server": cpu_seconds(sqs_process.pid) - cpu_before["SQS server"],
        "load generator": sum(os.times()[:2]) - cpu_before["load generator"],
    }
    hwm = [vm_hwm_kib(r.pid) if r.poll() is None else 0 for r in relays]
    exited = [r.returncode for r in relays if r.poll() is not None]
    for relay in relays:
        relay.kill()
        relay.wait()
    handled, panics, durations = [], 0, []
    for log in (log for d in deployments for log in d.logs):
        text = log.read_text(errors="replace")
        handled.append(sum('"_aws"' in line for line in text.splitlines()))  # one metrics line per request
        panics += text.count("panicked")
        for line in text.splitlines():
            if '"duration_ms"' in line:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                fields = record.get("fields", record)
                if isinstance(fields.get("duration_ms"), (int, float)):
                    durations.append(fields["duration_ms"] / 1000)

    drain_started = time.monotonic()
    on_queue = [drainer.finish() for drainer in drainers]
    drain_wall = time.monotonic() - drain_started

    # Lost acknowledgements: a 200 whose messages are not all on its queue.
    lost = [e for e in results.acked_requests if any(i not in on_queue[e.deployment] for i in e.ids)]
    expected_ids = [{i for e in events if e.deployment == d for i in e.ids} for d in (0, 1)]
    unknown = [sum(1 for i in on_queue[d] if i not in expected_ids[d]) for d in (0, 1)]
    missing = [expected_ids[d] - set(on_queue[d]) for d in (0, 1)]
    never_acked = [e for e in events if 200 not in e.answers]
    fifo_duplicates = sum(1 for n in on_queue[1].values() if n > 1)

    requests = len(results.latencies)
    lat = results.latencies
    print()
    print(f"requests: {requests:,} in {wall:.1f} s ({requests / wall:.0f}/s); by status: "
          + ", ".join(f"{s if s else 'no answer'}: {n:,}" for s, n in sorted(results.statuses.items()))
          + (f"; client errors: {dict(results.errors)}" if results.errors else ""))
    print(f"events never acknowledged (the platform would retry later): {len(never_acked):,}")
    for d, name in ((0, "standard"), (1, "FIFO")):
        total = sum(on_queue[d].values())
        print(f"{name} queue: {messages_expected[d]:,} message ids expected, {len(on_queue[d]):,} distinct ids on the queue "
              f"({total:,} messages: {total - len(on_queue[d]):,} duplicates from retries), "
              f"{len(missing[d]):,} missing, {unknown[d]} unknown")
    print(f"FIFO ids on the queue more than once: {fifo_duplicates}")
    print(f"lost acknowledgements (200 with a message missing): {len(lost)}")
    print(f"answer time, ms: p50 {percentile(lat, 0.5) * 1000:.1f}, p99 {percentile(lat, 0.99) * 1000:.1f}, "
          f"max {max(lat, default=0) * 1000:.1f}; retry sent {percentile(results.retry_gaps, 0.5):.2f} s (median), "
          f"{max(results.retry_gaps, default=0):.1f} s (max) after the first answer")
    print(f"time in the relay (its log's duration_ms), ms: p50 {percentile(durations, 0.5) * 1000:.1f}, "
          f"p99 {percentile(durations, 0.99) * 1000:.1f}, max {max(durations, default=0) * 1000:.1f} "
          f"({len(durations):,} requests); the rest of the answer time is the emulator's queue and the clients")
    print("peak RSS per relay (VmHWM), MiB: " + ", ".join(f"{k / 1024:.1f}" for k in hwm))
    print(f"requests handled per relay (from its log): {handled}; panics: {panics}; relays exited early: {exited or 'none'}")
    print(f"CPU seconds over {wall:.0f} s of wall time on {os.cpu_count()} cores: "
          + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    print(f"CPU per request, ms: relay {cpu['relays'] / max(requests, 1) * 1000:.2f}, "
          f"emulator {cpu['emulators'] / max(requests, 1) * 1000:.2f}, "
          f"{SQS_SERVER} {cpu['SQS server'] / max(requests, 1) * 1000:.2f}, "
          f"load generator {cpu['load generator'] / max(requests, 1) * 1000:.2f}")
    print("share of the machine's CPU over the run: " + ", ".join(
        f"{k} {v / (wall * (os.cpu_count() or 1)):.0%}" for k, v in cpu.items()))
    if cpu["SQS server"] / wall > 0.8:
        print(f"bottleneck: {SQS_SERVER} ({cpu['SQS server'] / wall:.0%} of a core over the run; it is one Python "
              "process, effectively single-threaded): the answer times measure it, the relay's own cost is its "
              "CPU per request")
    print(f"the queues were read while the load ran, and emptied {drain_wall:.1f} s after the last answer")

    failed = bool(lost) or fifo_duplicates or any(unknown) or exited or panics or results.errors
    if fifo_duplicates and max(results.retry_gaps, default=0) > 300:
        print("note: a retry came more than 5 minutes after its original: outside FIFO deduplication")
    print("load: " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
