#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between the relay's SQS client and moto (tests/faults.rs).

Python standard library only. Every SQS call is forwarded to the upstream (moto) as it
is, except `SendMessageBatch` calls (header `X-Amz-Target: AmazonSQS.SendMessageBatch`,
the AWS JSON 1.0 protocol), which are counted from 1 and treated as the scenario says:

    {"plan": [FAULT, FAULT, ...],   # the n-th SendMessageBatch call gets plan[n - 1]
     "then": FAULT}                 # every later call; default {} (forward unchanged)

A FAULT is an object; {} forwards the call unchanged. Its keys:

    "error": {"status": 400, "type": "com.amazonaws.sqs#RequestThrottled",
              "query_error": "RequestThrottled;Sender", "message": "..."}
        answer this error (JSON body with __type and message, the x-amzn-query-error
        header) without forwarding: nothing is stored.
    "reset": "before" | "after"
        reset the connection (TCP RST) without forwarding / after the upstream stored
        the batch.
    "cut": true
        forward, then send the status, headers and half the body, and close.
    "body": "<text>"
        forward, then answer 200 with this body instead of the upstream's.
    "truncate": true
        forward, then answer 200 with the first half of the upstream's body (its
        Content-Length says so: the answer is complete, the JSON is not).
    "refuse": [{"select": SEL, "sender_fault": false, "code": "InternalError",
                "times": 1, "also_successful": false, "id_as": "{id}"}]
        the selected entries are not forwarded (not stored) and are listed in
        "Failed" `times` times under the id `id_as` ("{id}", the default, is the
        entry's Id), and in "Successful" too under their Id if also_successful.
    "unreported": SEL
        the selected entries are not forwarded and listed nowhere.
    "stored_unreported": SEL
        the selected entries are forwarded (stored) but left out of "Successful".
    "misreport": {"select": SEL, "as": "0{id}"}
        the selected entries are not forwarded; "Successful" lists them under the id
        `as` ("{id}" is replaced by the entry's Id: "0{id}", "+{id}", or a fixed "7").
    "delay": seconds
        (with any of the above but "reset": "before") answer no earlier than this
        long after the request was read; forwarding happens first.

SEL selects entries: "all", {"positions": [0, 2]} (place in the request's Entries) or
{"messages": ["feilian:e:1"]} (the "id" in the entry's MessageBody, which stays the
same when the relay resends an entry under another Id).

GET /__proxy/stats answers {"calls": n, "in_flight": k, "log": [...]}: per
SendMessageBatch call, the message ids sent, the message ids forwarded, and the fault.

Bounded: it listens on 127.0.0.1 only, forwards only to a loopback upstream, serves
at most 64 connections at a time and requests of at most 4 MiB, and exits when its
standard input closes (the test that started it is gone) or after --lifetime seconds.
On start it prints "listening <port>" on standard output.
"""

import argparse
import http.client
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

MAX_BODY = 4 * 1024 * 1024
MAX_CONNECTIONS = 64
TARGET = "AmazonSQS.SendMessageBatch"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host",
              "proxy-connection", "te", "trailer", "upgrade", "expect"}


class State:
    def __init__(self, scenario):
        self.plan = scenario.get("plan", [])
        self.then = scenario.get("then", {})
        self.lock = threading.Lock()
        self.calls = 0
        self.in_flight = 0
        self.log = []

    def next_call(self, entries):
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            number = self.calls
            fault = self.plan[number - 1] if number <= len(self.plan) else self.then
            record = {"call": number, "sent": [message_id(e) for e in entries],
                      "forwarded": [], "fault": fault}
            self.log.append(record)
            return fault, record

    def done(self):
        with self.lock:
            self.in_flight -= 1

    def stats(self):
        with self.lock:
            return {"calls": self.calls, "in_flight": self.in_flight, "log": list(self.log)}


def message_id(entry):
    try:
        return json.loads(entry.get("MessageBody", ""))["id"]
    except (ValueError, KeyError, TypeError):
        return "Id=" + str(entry.get("Id"))


def selected(select, position, entry):
    if select == "all":
        return True
    if not isinstance(select, dict):
        return False
    return position in select.get("positions", []) or message_id(entry) in select.get("messages", [])


class Upstream:
    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"sqs_fault_proxy: the upstream must be http on loopback, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80

    def call(self, method, path, headers, body):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            forwarded = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP}
            forwarded["Content-Length"] = str(len(body))
            forwarded["Host"] = f"{self.host}:{self.port}"
            connection.request(method, path, body=body, headers=forwarded)
            response = connection.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, data
        finally:
            connection.close()


class Handler(socketserver.StreamRequestHandler):
    # Set on the class by main().
    state: State = None
    upstream: Upstream = None

    def handle(self):
        self.request.settimeout(30)
        try:
            while self.one_request():
                pass
        except (OSError, ValueError):
            pass  # the client went away (it timed out, or we reset it)

    def one_request(self):
        line = self.rfile.readline(65537)
        if not line:
            return False
        try:
            method, path, _version = line.decode("latin-1").split()
        except ValueError:
            return False
        headers = []
        while True:
            header = self.rfile.readline(65537)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        lookup = {k.lower(): v for k, v in headers}
        if lookup.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        length = int(lookup.get("content-length", "0") or "0")
        if length > MAX_BODY:
            self.answer(413, [("Content-Type", "text/plain")], b"too large")
            return False
        body = self.rfile.read(length) if length else b""
        keep_alive = lookup.get("connection", "").lower() != "close"

        if method == "GET" and path == "/__proxy/stats":
            data = json.dumps(self.state.stats()).encode()
            self.answer(200, [("Content-Type", "application/json")], data, close=True)
            return False
        if lookup.get("x-amz-target") != TARGET:
            status, kept, data = self.upstream.call(method, path, headers, body)
            self.answer(status, kept, data)
            return keep_alive
        return self.send_message_batch(method, path, headers, body) and keep_alive

    def send_message_batch(self, method, path, headers, body):
        started = time.monotonic()
        try:
            request = json.loads(body)
            entries = request.get("Entries", [])
        except (ValueError, AttributeError):
            request, entries = None, []
        fault, record = self.state.next_call(entries)
        try:
            if "error" in fault:
                self.pause(fault, started)
                error = fault["error"]
                data = json.dumps({"__type": error.get("type", "com.amazonaws.sqs#InternalError"),
                                   "message": error.get("message", "injected")}).encode()
                extra = [("x-amzn-query-error", error["query_error"])] if "query_error" in error else []
                self.answer(error.get("status", 500),
                            [("Content-Type", "application/x-amz-json-1.0")] + extra, data)
                return True
            if fault.get("reset") == "before":
                self.reset()
                return False

            refuse = fault.get("refuse", [])
            held, failed, forged = [], [], []
            for position, entry in enumerate(entries):
                for rule in refuse:
                    if selected(rule.get("select"), position, entry):
                        held.append(position)
                        listed_as = rule.get("id_as", "{id}").replace("{id}", str(entry.get("Id")))
                        item = {"Id": listed_as, "SenderFault": rule.get("sender_fault", False),
                                "Code": rule.get("code", "InternalError"), "Message": "injected"}
                        failed.extend([item] * rule.get("times", 1))
                        if rule.get("also_successful"):
                            forged.append(fake_success(entry.get("Id")))
                        break
                else:
                    if selected(fault.get("unreported"), position, entry):
                        held.append(position)
                    elif "misreport" in fault and selected(fault["misreport"].get("select"), position, entry):
                        held.append(position)
                        forged.append(fake_success(fault["misreport"]["as"].replace("{id}", str(entry.get("Id")))))

            hidden = {entry.get("Id") for position, entry in enumerate(entries)
                      if position not in held and selected(fault.get("stored_unreported"), position, entry)}
            forward = [e for position, e in enumerate(entries) if position not in held]
            if forward and request is not None:
                request["Entries"] = forward
                status, kept, data = self.upstream.call(method, path, headers, json.dumps(request).encode())
                record["forwarded"] = [message_id(e) for e in forward] if status == 200 else []
            elif request is None:
                status, kept, data = self.upstream.call(method, path, headers, body)
            else:
                status, kept, data = 200, [("Content-Type", "application/x-amz-json-1.0")], b'{"Successful":[],"Failed":[]}'
        finally:
            self.state.done()

        if status == 200 and (failed or forged or hidden):
            answer = json.loads(data)
            answer["Successful"] = [s for s in answer.get("Successful", []) if s.get("Id") not in hidden] + forged
            answer["Failed"] = answer.get("Failed", []) + failed
            data = json.dumps(answer).encode()
        self.pause(fault, started)
        if fault.get("reset") == "after":
            self.reset()
            return False
        if fault.get("cut"):
            self.answer(status, kept, data, send=len(data) // 2)
            return False
        if "body" in fault:
            status, data = 200, fault["body"].encode()
        elif fault.get("truncate"):
            status, data = 200, data[: len(data) // 2]
        self.answer(status, kept, data)
        return True

    def pause(self, fault, started):
        remaining = float(fault.get("delay", 0)) - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)

    def answer(self, status, headers, data, send=None, close=False):
        lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in headers]
        lines.append(f"Content-Length: {len(data)}")
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + data[: len(data) if send is None else send])
        self.wfile.flush()

    def reset(self):
        """Closes the connection with a TCP RST instead of a FIN."""
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.request.close()


def fake_success(entry_id):
    return {"Id": entry_id, "MessageId": "00000000-0000-4000-8000-000000000000",
            "MD5OfMessageBody": "d41d8cd98f00b204e9800998ecf8427e"}


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:<port> of moto")
    parser.add_argument("--scenario", default="{}", help="the scenario, JSON (see above)")
    parser.add_argument("--lifetime", type=float, default=300, help="exit after this many seconds")
    args = parser.parse_args()

    Handler.state = State(json.loads(args.scenario))
    Handler.upstream = Upstream(args.upstream)
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"listening {server.server_address[1]}", flush=True)

    stdin_closed = threading.Event()

    def watch_stdin():
        while sys.stdin.buffer.read(4096):
            pass
        stdin_closed.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    stdin_closed.wait(args.lifetime)
    os._exit(0)


if __name__ == "__main__":
    main()
