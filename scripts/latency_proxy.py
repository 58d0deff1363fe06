"""A small HTTP proxy that delays every call, for `make bench-publish`.

    latency_proxy.py --port PORT --target http://127.0.0.1:MOTO_PORT [--delay-ms 20-50]

Listens on 127.0.0.1:PORT and forwards each request to the target (which must be on
the loopback interface too) after sleeping a random 20-50 ms, so that a local SQS
server (moto) answers about as late as SQS does from Lambda in another network. One
thread per connection, keep-alive towards the client; the proxy stops itself after
--max-requests requests or --max-seconds seconds, whichever comes first.
"""
import argparse
import http.client
import ipaddress
import random
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Hop-by-hop headers are for one connection, not to be forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "host",
}


def loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--delay-ms", default="20-50", help="LOW-HIGH, uniform")
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args(argv[1:])

    target = urllib.parse.urlsplit(args.target)
    if target.scheme != "http" or not loopback(target.hostname or ""):
        parser.error("--target must be an http:// URL on the loopback interface")
    low, high = (float(x) / 1000 for x in args.delay_ms.split("-"))
    if not 0 <= low <= high <= 5:
        parser.error("--delay-ms must be LOW-HIGH, 0 <= LOW <= HIGH <= 5000")

    lock = threading.Lock()
    served = [0]
    done = threading.Event()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def forward(self):
            with lock:
                served[0] += 1
                if served[0] >= args.max_requests:
                    done.set()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            time.sleep(random.uniform(low, high))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError as err:
                message = f"latency_proxy: upstream failed: {err}".encode()
                self.send_response(502)
                self.send_header("Content-Length", str(len(message)))
                self.end_headers()
                self.wfile.write(message)
            finally:
                upstream.close()

        do_GET = do_POST = do_PUT = do_DELETE = forward

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            # A client that gave up (the relay's deadline) closes its connection
            # while the proxy still answers: expected, not worth a traceback.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", args.port), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"latency_proxy: 127.0.0.1:{args.port} -> {args.target}, {args.delay_ms} ms", flush=True)
    done.wait(args.max_seconds)
    server.shutdown()
    print(f"latency_proxy: stopped after {served[0]} request(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
