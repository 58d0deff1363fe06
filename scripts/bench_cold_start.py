"""Cold start of the relay, measured: exec -> URL verification answered, and the
first event after it, with the secret read from Secrets Manager over real TLS.

Run by scripts/bench-cold-start.sh, next to a moto server (scripts/with-moto.sh).
Nothing here is a pass/fail test: it prints figures.

The pieces, all real but the AWS endpoints:
- the release binary of the relay, started fresh for every run, polling cargo
  lambda's Runtime API emulator (`cargo lambda watch --only-lambda-apis`);
- Secrets Manager and SQS served by moto behind a local TLS terminator, so that
  the SDK does what it does in Lambda at init: load the CA bundle, TLS handshake
  (rustls, RSA-2048 certificate like AWS's), SigV4, GetSecretValue;
- Lambda's CPU share emulated with a CFS quota (cgroup v1 `cpu`): a function with
  M MB of memory gets M/1769 of a vCPU. CPU time is read from `cpuacct`.
  Without a writable cgroup (not root), only the unthrottled figures are taken.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets as pysecrets
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import boto3
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ROOT = Path(__file__).resolve().parent.parent
RELAY = ROOT / "target" / "release" / "org-change-relay"
CARGO_LAMBDA = ROOT / ".venv" / "bin" / "cargo-lambda"
FUNCTION = "org-change-relay"
TOKEN, KEY = "bench-feishu-token", "bench-feishu-key"
MEMORY_SIZES = [None, 1769, 512, 256, 128]  # None: no quota
RUNS = int(os.environ.get("RUNS", "7"))
CGROUP_CPU = Path("/sys/fs/cgroup/cpu/org-change-relay-bench")
CGROUP_ACCT = Path("/sys/fs/cgroup/cpuacct/org-change-relay-bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encrypt(plaintext: str) -> str:
    """{"encrypt": ...} as Feishu builds it: AES-256-CBC, key sha256(Encrypt Key)."""
    iv = pysecrets.token_bytes(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    key = hashlib.sha256(KEY.encode()).digest()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    sealed = base64.b64encode(iv + enc.update(data) + enc.finalize()).decode()
    return json.dumps({"encrypt": sealed})


def signed_headers(body: str) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), pysecrets.token_hex(8)
    signature = hashlib.sha256((timestamp + nonce + KEY + body).encode()).hexdigest()
    return {
        "X-Lark-Request-Timestamp": timestamp,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": signature,
    }


class TlsTerminator:
    """HTTPS on a loopback port, forwarded as plain TCP to moto."""

    def __init__(self, workdir: Path, upstream: tuple[str, int]):
        self.upstream = upstream
        ca, ca_key = workdir / "ca.pem", workdir / "ca-key.pem"
        cert, key, csr = workdir / "cert.pem", workdir / "key.pem", workdir / "cert.csr"
        extensions = workdir / "leaf.ext"
        extensions.write_text("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                              "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        for command in (
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bench CA",
             "-keyout", ca_key, "-out", ca],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", csr],
            ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
             "-extfile", extensions, "-out", cert],
        ):
            subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)
        # The system's CA bundle plus ours: loading it is part of the SDK's init.
        self.ca_bundle = workdir / "ca-bundle.pem"
        system = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
        self.ca_bundle.write_bytes((system.read_bytes() if system.exists() else b"") + ca.read_bytes())
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)

    def listen(self) -> str:
        """A new HTTPS endpoint (its own port, so its own TLS connection, as each AWS
        service has its own host); its URL."""
        port = free_port()
        server = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self.serve, args=(server,), daemon=True).start()
        return f"https://localhost:{port}"

    def serve(self, server: socket.socket) -> None:
        while True:
            client, _ = server.accept()
            threading.Thread(target=self.relay, args=(client,), daemon=True).start()

    def relay(self, client: socket.socket) -> None:
        try:
            tls = self.context.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(self.upstream)
        except (OSError, ssl.SSLError):
            client.close()
            return

        def pump(src, dst):
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(upstream, tls), daemon=True).start()
        pump(tls, upstream)


def cgroups_available() -> bool:
    try:
        CGROUP_CPU.mkdir(exist_ok=True)
        CGROUP_ACCT.mkdir(exist_ok=True)
        (CGROUP_CPU / "cpu.cfs_period_us").write_text("100000")
        return True
    except OSError:
        return False


def post(url: str, body: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def one_run(env: dict[str, str], base: str, memory: int | None, throttled: bool) -> dict[str, float]:
    if throttled:
        quota = -1 if memory is None else int(100000 * memory / 1769)
        (CGROUP_CPU / "cpu.cfs_quota_us").write_text(str(quota))
        (CGROUP_ACCT / "cpuacct.usage").write_text("0")
        # The shell joins the cgroups, then becomes the relay: all of it is throttled.
        command = ["sh", "-c",
                   f"echo $$ > {CGROUP_CPU}/tasks && echo $$ > {CGROUP_ACCT}/tasks && exec {RELAY}"]
    else:
        command = [str(RELAY)]
    challenge = pysecrets.token_hex(8)
    body = encrypt(json.dumps({"challenge": challenge, "token": TOKEN, "type": "url_verification"}))
    event = json.loads((ROOT / "events" / "feishu" / "corehr.department.updated_v2.json").read_text())
    event["header"]["token"] = TOKEN
    event["header"]["event_id"] = pysecrets.token_hex(16)
    event_body = encrypt(json.dumps(event))

    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)

    def failed(what: str) -> SystemExit:
        log.seek(0)
        return SystemExit(f"{what}; the relay said:\n{log.read().decode(errors='replace')}")

    try:
        try:
            status, text = post(f"{base}/feishu", body)
        except OSError as err:
            raise failed(f"challenge: {err}") from err
        answered = time.perf_counter()
        if status != 200 or challenge not in text:
            raise failed(f"challenge failed: {status} {text}")
        cpu_challenge = int((CGROUP_ACCT / "cpuacct.usage").read_text()) if throttled else 0
        status, text = post(f"{base}/feishu", event_body, signed_headers(event_body))
        done = time.perf_counter()
        if status != 200:
            raise failed(f"first event failed: {status} {text}")
        cpu_event = int((CGROUP_ACCT / "cpuacct.usage").read_text()) if throttled else 0
    finally:
        process.kill()
        process.wait()
    return {
        "challenge_ms": (answered - started) * 1000,
        "event_ms": (done - answered) * 1000,
        "cpu_challenge_ms": cpu_challenge / 1e6,
        "cpu_event_ms": (cpu_event - cpu_challenge) / 1e6,
    }


def main() -> None:
    moto = os.environ["MOTO_ENDPOINT"]
    if not RELAY.exists():
        raise SystemExit(f"{RELAY} is missing: cargo build --release --bin org-change-relay")
    workdir = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    host, port = moto.removeprefix("http://").split(":")
    tls = TlsTerminator(workdir, (host, int(port)))

    aws = dict(endpoint_url=moto, region_name="us-east-1")
    queue = boto3.client("sqs", **aws).create_queue(QueueName="bench")["QueueUrl"]
    secret = boto3.client("secretsmanager", **aws).create_secret(
        Name="bench", SecretString=json.dumps({"FEISHU_VERIFICATION_TOKEN": TOKEN, "FEISHU_ENCRYPT_KEY": KEY})
    )["ARN"]

    emulator_port = free_port()
    emulator = subprocess.Popen(
        [str(CARGO_LAMBDA), "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(emulator_port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", emulator_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{emulator_port}/.rt/{FUNCTION}",
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": tls.listen(),
            "AWS_ENDPOINT_URL_SQS": tls.listen(),
            "SSL_CERT_FILE": str(tls.ca_bundle),
            "QUEUE_URL": queue,
        }
        # As deployed: the tokens and keys from Secrets Manager. For comparison: from
        # the environment, no call at init.
        modes = {
            "secret": {**env, "SECRET_ID": secret},
            "env": {**env, "FEISHU_VERIFICATION_TOKEN": TOKEN, "FEISHU_ENCRYPT_KEY": KEY},
        }
        base = f"http://127.0.0.1:{emulator_port}/lambda-url/{FUNCTION}"
        throttled = cgroups_available()
        sizes = MEMORY_SIZES if throttled else [None]
        print(f"relay: {RELAY} ({RELAY.stat().st_size:,} bytes); {RUNS} cold starts per row")
        print(f"CPU: {os.cpu_count()} cores of this machine ({platform_cpu()}), "
              + ("quota = memory / 1769 MB of one core" if throttled else "no cgroup: unthrottled only"))
        print()
        print("| Lambda memory (CPU share) | secrets from | exec → challenge answered, ms (median / max) | CPU ms | first event enqueued, ms (median / max) | CPU ms |")
        print("|---|---|---|---|---|---|")
        for memory, mode in [(memory, mode) for memory in sizes for mode in modes]:
            runs = [one_run(modes[mode], base, memory, throttled) for _ in range(RUNS)]
            label = "unthrottled" if memory is None else f"{memory} MB ({memory / 1769:.0%} vCPU)"
            source = "Secrets Manager" if mode == "secret" else "environment"

            def cell(key):
                values = [run[key] for run in runs]
                return f"{statistics.median(values):.0f} / {max(values):.0f}"

            def cpu(key):
                return f"{statistics.median(run[key] for run in runs):.1f}" if throttled else "—"

            print(f"| {label} | {source} | {cell('challenge_ms')} | {cpu('cpu_challenge_ms')} | {cell('event_ms')} | {cpu('cpu_event_ms')} |")
    finally:
        os.killpg(emulator.pid, 9)
        shutil.rmtree(workdir, ignore_errors=True)
        if CGROUP_CPU.exists():
            for group in (CGROUP_CPU, CGROUP_ACCT):
                try:
                    group.rmdir()
                except OSError:
                    pass


def platform_cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
