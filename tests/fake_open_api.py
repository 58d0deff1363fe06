#!/usr/bin/env python3
"""A local server of the Feishu/Lark open API, for the enricher's tests.

Python standard library only. It serves the three calls the enricher makes, with the
shapes, limits and codes of docs/protocol.md, "The open API (the enricher)":

    POST /open-apis/auth/v3/tenant_access_token/internal
    POST /open-apis/corehr/v2/departments/batch_get
    POST /open-apis/corehr/v2/custom_orgs/query

Start: `python3 tests/fake_open_api.py [--host 127.0.0.1] [--port 0]`. It prints
"listening <port>" on standard output. scripts/with-open-api.sh starts it for a command.

Control API (JSON in, JSON out; an error is HTTP 400 {"error": "..."}):

    GET  /_control/health         {"ok": true}
    POST /_control/apps           {"app_id", "app_secret"}: register an app.
    POST /_control/departments    {"app_id", "items": [{"id", ...}], "visible_after": s}
    POST /_control/custom_orgs    {"app_id", "object_api_name", "items": [{"org_id", ...}],
                                   "visible_after": s}
        Put objects for that app (replacing same ids). An object is left out of answers
        until `visible_after` seconds (default 0) have passed: the replica lag.
    POST /_control/remove         {"app_id", "department_ids": [], "object_api_name",
                                   "org_ids": []}: delete objects.
    POST /_control/forbid         {"app_id", "department_ids": []}: a call asking for one
        fails with 1160103, HTTP 403.
    POST /_control/faults         {"path", "count": 1, "kind", ...}: the next `count`
        calls of `path` (a full path, or "token", "departments", "custom_orgs") get:
          "delay"         {"ms"}: wait, then answer normally.
          "status"        {"status": 500, "code", "msg"}: that HTTP status, JSON error body.
          "rate_limited"  {"code": 1161604}: HTTP 429 (99991400 adds the x-ogw headers).
          "token_invalid" {"code": 99991663}: HTTP 400, the token error.
          "non_json"      {"status": 200}: an HTML body.
          "answer"        {"status", "code", "msg"}: any JSON error answer.
        Any fault may also carry "delay_ms". Faulted calls do not count to rate limits.
    POST /_control/expire_tokens  every issued token expires now.
    POST /_control/clock          {"freeze": bool, "advance": s}: the server's clock for
        token lifetimes, the lag and the rate limits. Default: the real clock.
    POST /_control/limits         {"path", "per_second", "per_minute"}: null lifts a cap.
    POST /_control/options        {"empty_data": bool}: an answer with no items has
        `data: {}` instead of `data: {"items": []}` (the docs leave it open).
    GET  /_control/calls          {"calls": [{"path", "app_id", "time", "status", "code",
                                   "ids", "query", "object_api_name", "fault", "answer"}]}
        Every open API call, in order; "answer" is the JSON body sent (null if not JSON),
        its token replaced by "<token>".
    POST /_control/reset          back to the state at start.
"""

import argparse
import json
import secrets
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
DEPARTMENTS_PATH = "/open-apis/corehr/v2/departments/batch_get"
CUSTOM_ORGS_PATH = "/open-apis/corehr/v2/custom_orgs/query"
ALIASES = {"token": TOKEN_PATH, "departments": DEPARTMENTS_PATH, "custom_orgs": CUSTOM_ORGS_PATH}

# Token rules of the internal-app token page: 2 h at most; the same token while 30 min
# or more remain, else a new one while the old stays valid.
TOKEN_LIFETIME = 7200
TOKEN_REUSE_FLOOR = 1800

# Per app and per API, as each page's header states: departments 1000/min and 50/s,
# custom orgs 5/s. The frequency-control page answers 99991400 with HTTP 429.
DEFAULT_LIMITS = {DEPARTMENTS_PATH: (50, 1000), CUSTOM_ORGS_PATH: (5, None)}

# The enums of the departments/batch_get page.
DEPARTMENT_ID_TYPES = {"open_department_id", "department_id", "people_corehr_department_id"}
USER_ID_TYPES = {"open_id", "union_id", "user_id", "people_corehr_id"}
DEPARTMENT_FIELDS = {
    "version_id", "sub_type", "manager", "is_root", "is_confidential", "effective_date",
    "expiration_date", "department_name", "parent_department_id", "tree_order", "list_order",
    "code", "active", "description", "custom_fields", "staffing_model", "cost_center_id",
    "created_time", "updated_time", "created_by", "updated_by", "record_created_time",
    "record_updated_time", "record_created_by", "record_updated_by",
}

# Token errors, from the common error codes page
# (https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code):
# 99991661 no or malformed Authorization header, 99991671 a token not starting with t-/u-,
# 99991663 an invalid tenant token, which the page says usually means it expired.
# The page gives no HTTP status. Public bug reports show 400 for 99991663 and 99991661.
NEED_TOKEN = (400, 99991661, "Need a token")
BAD_TOKEN_FORMAT = (400, 99991671, "Invalid token: must start with t-/u-")
INVALID_TOKEN = (400, 99991663,
                 "Invalid access token for authorization. Please make a request with token attached")
MAX_BODY = 4 << 20


class Answer:
    """One HTTP answer: its status, body bytes, content type, extra headers, and the
    platform `code` for the call log."""

    def __init__(self, status, body, code=None, content_type="application/json", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.code = code
        self.content_type = content_type
        self.headers = headers or {}


def error(status, code, msg, headers=None):
    return Answer(status, {"code": code, "msg": msg}, code, headers=headers)


def success(data, msg="success"):
    return Answer(200, {"code": 0, "msg": msg, "data": data}, 0)


class Clock:
    """The server's time: the real clock, or a frozen one, plus an offset tests advance."""

    def __init__(self):
        self.frozen = None
        self.offset = 0.0

    def now(self):
        return (self.frozen if self.frozen is not None else time.time()) + self.offset

    def set(self, freeze=None, advance=0.0):
        if freeze is True and self.frozen is None:
            self.frozen = time.time()
        elif freeze is False and self.frozen is not None:
            self.offset += self.frozen - time.time()
            self.frozen = None
        self.offset += float(advance)


class Limiter:
    """Sliding one-second and one-minute windows per (app, path). Only admitted calls
    count, so a client that backs off is not punished for its refused calls."""

    def __init__(self):
        self.limits = dict(DEFAULT_LIMITS)
        self.admitted = {}

    def admit(self, app_id, path, now):
        """None when admitted; else (limit, seconds until the window frees a slot)."""
        per_second, per_minute = self.limits.get(path, (None, None))
        window = self.admitted.setdefault((app_id, path), deque())
        while window and window[0] <= now - 60:
            window.popleft()
        recent = [t for t in window if t > now - 1]
        if per_second is not None and len(recent) >= per_second:
            return per_second, max(1, int(recent[-per_second] + 1 - now + 0.999))
        if per_minute is not None and len(window) >= per_minute:
            return per_minute, max(1, int(window[-per_minute] + 60 - now + 0.999))
        window.append(now)
        return None


class State:
    """Everything the server holds. One lock guards it; handlers never sleep holding it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.clock = Clock()
        self.limiter = Limiter()
        self.apps = {}
        self.tokens = {}
        self.current_token = {}
        self.departments = {}
        self.custom_orgs = {}
        self.forbidden = {}
        self.faults = []
        self.calls = []
        self.empty_data = False

    def take_fault(self, path):
        for fault in self.faults:
            if fault["path"] == path and fault["count"] > 0:
                fault["count"] -= 1
                return fault
        return None

    def token_app(self, token):
        entry = self.tokens.get(token)
        if entry is None or entry["expires"] <= self.clock.now():
            return None
        return entry["app_id"]

    def visible(self, store, app_id, key):
        held = store.get(app_id, {}).get(key)
        if held is None or held["visible_at"] > self.clock.now():
            return None
        return held["object"]


def issue_token(state, body):
    """The internal-app token call. Unknown app: 10003 (a probe saw this; the page is
    silent). Wrong secret: 10015. Both with HTTP 200, as the probe saw."""
    app_id, app_secret = body.get("app_id"), body.get("app_secret")
    if not isinstance(app_id, str) or not isinstance(app_secret, str):
        return error(200, 10003, "invalid param")
    app = state.apps.get(app_id)
    if app is None:
        return error(200, 10003, "invalid param")
    if not secrets.compare_digest(app["app_secret"], app_secret):
        return error(200, 10015, "wrong app secret")
    now = state.clock.now()
    token = state.current_token.get(app_id)
    if token is None or state.tokens[token]["expires"] - now < TOKEN_REUSE_FLOOR:
        token = "t-" + secrets.token_hex(20)
        state.tokens[token] = {"app_id": app_id, "expires": now + TOKEN_LIFETIME}
        state.current_token[app_id] = token
    expire = int(state.tokens[token]["expires"] - now)
    return Answer(200, {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire}, 0)


def check_bearer(state, headers):
    """(app_id, None) for a valid tenant token, else (None, the token error)."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return None, error(*NEED_TOKEN)
    token = auth[7:].strip()
    if not token.startswith(("t-", "u-")):
        return None, error(*BAD_TOKEN_FORMAT)
    app_id = state.token_app(token)
    if app_id is None:
        return None, error(*INVALID_TOKEN)
    return app_id, None


def string_list(value, most):
    """The list when `value` is a list of at most `most` strings (None counts as []),
    else None."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > most or not all(isinstance(v, str) for v in value):
        return None
    return value


def project(obj, id_field, fields):
    return {k: v for k, v in obj.items() if k == id_field or k in fields}


def unique(ids):
    return list(dict.fromkeys(ids))


def items_data(state, items, extra=None):
    if not items and state.empty_data:
        return {}
    return {"items": items, **(extra or {})}


def batch_get_departments(state, app_id, query, body):
    """departments/batch_get: ≤100 ids, only the `fields` listed plus `id`, ids it does
    not hold (or not yet: the lag) left out. A forbidden id fails the call with 1160103."""
    id_type = query.get("department_id_type", "open_department_id")
    user_type = query.get("user_id_type", "open_id")
    if id_type not in DEPARTMENT_ID_TYPES or user_type not in USER_ID_TYPES:
        return error(400, 1160102, "param is invalid: id type")
    ids = string_list(body.get("department_id_list"), 100)
    fields = string_list(body.get("fields"), 100)
    if ids is None or fields is None or not set(fields) <= DEPARTMENT_FIELDS:
        return error(400, 1160102, "param is invalid")
    if any(i in state.forbidden.get(app_id, set()) for i in ids):
        return error(403, 1160103, "鉴权失败")
    items = []
    for department_id in unique(ids):
        held = state.visible(state.departments, app_id, department_id)
        if held is not None:
            items.append(project(held, "id", fields))
    return success(items_data(state, items))


def query_custom_orgs(state, app_id, query, body):
    """custom_orgs/query: object_api_name required, ≤200 org_ids, page_size ≤100 with a
    page_token loop. No org_ids at all means every org of that object, as on the page."""
    try:
        page_size = int(query.get("page_size", "0"))
        start = int(query.get("page_token") or 0)
    except ValueError:
        return error(400, 1161001, "param is invalid")
    api_name = body.get("object_api_name")
    org_ids = string_list(body.get("org_ids"), 200)
    fields = string_list(body.get("org_fields"), 200)
    if not 1 <= page_size <= 100 or not isinstance(api_name, str) or not api_name:
        return error(400, 1161001, "param is invalid")
    if org_ids is None or fields is None:
        return error(400, 1161001, "param is invalid")
    held = state.custom_orgs.get(app_id, {})
    keys = [(api_name, i) for i in unique(org_ids)] if org_ids else sorted(k for k in held if k[0] == api_name)
    found = [o for o in (state.visible(state.custom_orgs, app_id, k) for k in keys) if o is not None]
    page = [project(o, "org_id", fields) for o in found[start:start + page_size]]
    more = start + page_size < len(found)
    extra = {"has_more": more, **({"page_token": str(start + page_size)} if more else {})}
    return success(items_data(state, page, extra))


def fault_answer(fault):
    """The answer an injected fault gives; None for a pure delay."""
    kind = fault["kind"]
    if kind == "delay":
        return None
    if kind == "status":
        status = int(fault.get("status", 500))
        code = fault.get("code", 1161204 if status == 503 else 1500)
        return error(status, code, fault.get("msg", "internal error"))
    if kind == "rate_limited":
        return rate_limited(fault.get("code", 1161604), 50, 1)
    if kind == "token_invalid":
        code = fault.get("code", INVALID_TOKEN[1])
        return error(int(fault.get("status", 400)), code, fault.get("msg", INVALID_TOKEN[2]))
    if kind == "non_json":
        body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        return Answer(int(fault.get("status", 200)), body, None, content_type="text/html")
    return error(int(fault.get("status", 400)), fault.get("code"), fault.get("msg", "injected"))


def rate_limited(code, limit, reset):
    """HTTP 429. The gateway's 99991400 carries the x-ogw headers (frequency-control
    page); CoreHR's own 1161604 is sent without them, since no page shows them."""
    headers = {}
    if code == 99991400:
        headers = {"x-ogw-ratelimit-limit": str(limit), "x-ogw-ratelimit-reset": str(reset)}
        return error(429, code, "request trigger frequency limit", headers)
    return error(429, code, "QPS over limit", headers)


def api_answer(state, path, headers, query, body):
    """The answer to one open API call: token check, rate limit, then the call itself."""
    if path == TOKEN_PATH:
        return issue_token(state, body)
    app_id, refused = check_bearer(state, headers)
    if refused is not None:
        return refused
    blocked = state.limiter.admit(app_id, path, state.clock.now())
    if blocked is not None:
        return rate_limited(99991400, *blocked)
    if path == DEPARTMENTS_PATH:
        return batch_get_departments(state, app_id, query, body)
    return query_custom_orgs(state, app_id, query, body)


def caller_app(state, path, headers, body):
    """The app a call is from, for the log, whatever its answer."""
    if path == TOKEN_PATH:
        return body.get("app_id") if isinstance(body.get("app_id"), str) else None
    auth = headers.get("Authorization", "")
    entry = state.tokens.get(auth[7:].strip()) if auth.startswith("Bearer ") else None
    return entry["app_id"] if entry else None


def logged_answer(answer):
    """The answer's JSON for the call log, without the token it may carry."""
    if answer.content_type != "application/json":
        return None
    sent = json.loads(answer.body)
    if "tenant_access_token" in sent:
        sent["tenant_access_token"] = "<token>"
    return sent


def asked_ids(path, body):
    key = {DEPARTMENTS_PATH: "department_id_list", CUSTOM_ORGS_PATH: "org_ids"}.get(path)
    ids = body.get(key) if key else None
    return ids if isinstance(ids, list) else []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-open-api"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and
        # the client's delayed ACK add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def route(self, method):
        split = urlsplit(self.path)
        try:
            raw = self.read_body()
        except ValueError:
            self.send(Answer(413, {"error": "body too large"}))
            self.close_connection = True
            return
        if split.path.startswith("/_control/"):
            self.send(control(self.server.state, method, split.path, raw))
        elif method == "POST" and split.path in ALIASES.values():
            self.send(self.api_call(split.path, split.query, raw))
        else:
            self.send(error(404, 404, "not found"))

    def api_call(self, path, query_text, raw):
        state = self.server.state
        query = {k: v[-1] for k, v in parse_qs(query_text).items()}
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        with state.lock:
            fault = state.take_fault(path)
        if fault is not None:
            delay = fault.get("ms", 0) if fault["kind"] == "delay" else fault.get("delay_ms", 0)
            time.sleep(float(delay) / 1000)
        with state.lock:
            answer = fault_answer(fault) if fault is not None else None
            if answer is None:
                answer = api_answer(state, path, self.headers, query, body)
            state.calls.append({
                "path": path, "app_id": caller_app(state, path, self.headers, body),
                "time": time.time(), "status": answer.status, "code": answer.code,
                "ids": asked_ids(path, body), "query": query,
                "object_api_name": body.get("object_api_name"),
                "fault": fault["kind"] if fault is not None else None,
                "answer": logged_answer(answer),
            })
        return answer

    def send(self, answer):
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)


def control(state, method, path, raw):
    """The test-only control API (module docstring)."""
    try:
        body = json.loads(raw) if raw else {}
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        with state.lock:
            return Answer(200, control_action(state, method, path, body))
    except (ValueError, KeyError, TypeError) as problem:
        return Answer(400, {"error": f"{path}: {problem!r}"})


def control_action(state, method, path, body):
    name = path[len("/_control/"):]
    if method == "GET" and name == "health":
        return {"ok": True}
    if method == "GET" and name == "calls":
        return {"calls": list(state.calls)}
    if method != "POST":
        raise ValueError(f"unknown control {method} {path}")
    action = CONTROLS.get(name)
    if action is None:
        raise ValueError(f"unknown control {path}")
    action(state, body)
    return {"ok": True}


def put_app(state, body):
    state.apps[str(body["app_id"])] = {"app_secret": str(body["app_secret"])}


def put_departments(state, body):
    visible_at = state.clock.now() + float(body.get("visible_after", 0))
    held = state.departments.setdefault(str(body["app_id"]), {})
    for item in body["items"]:
        held[str(item["id"])] = {"object": item, "visible_at": visible_at}


def put_custom_orgs(state, body):
    visible_at = state.clock.now() + float(body.get("visible_after", 0))
    api_name = str(body["object_api_name"])
    held = state.custom_orgs.setdefault(str(body["app_id"]), {})
    for item in body["items"]:
        item = {"object_api_name": api_name, **item}
        held[(api_name, str(item["org_id"]))] = {"object": item, "visible_at": visible_at}


def remove(state, body):
    app_id = str(body["app_id"])
    for department_id in body.get("department_ids", []):
        state.departments.get(app_id, {}).pop(department_id, None)
    for org_id in body.get("org_ids", []):
        state.custom_orgs.get(app_id, {}).pop((body["object_api_name"], org_id), None)


def forbid(state, body):
    state.forbidden.setdefault(str(body["app_id"]), set()).update(body["department_ids"])


def add_fault(state, body):
    path = ALIASES.get(body["path"], body["path"])
    if path not in ALIASES.values():
        raise ValueError(f"no such API path {body['path']}")
    kinds = {"delay", "status", "rate_limited", "token_invalid", "non_json", "answer"}
    if body["kind"] not in kinds:
        raise ValueError(f"unknown fault kind {body['kind']}")
    state.faults.append({**body, "path": path, "count": int(body.get("count", 1))})


def expire_tokens(state, _body):
    now = state.clock.now()
    for entry in state.tokens.values():
        entry["expires"] = min(entry["expires"], now)


def set_clock(state, body):
    state.clock.set(body.get("freeze"), body.get("advance", 0.0))


def set_limits(state, body):
    path = ALIASES.get(body["path"], body["path"])
    state.limiter.limits[path] = (body.get("per_second"), body.get("per_minute"))


def set_options(state, body):
    state.empty_data = bool(body.get("empty_data", False))


CONTROLS = {
    "apps": put_app, "departments": put_departments, "custom_orgs": put_custom_orgs,
    "remove": remove, "forbid": forbid, "faults": add_fault, "expire_tokens": expire_tokens,
    "clock": set_clock, "limits": set_limits, "options": set_options,
    "reset": lambda state, _body: state.reset(),
}


def serve(host="127.0.0.1", port=0):
    """A started server on its own thread; `server.server_address[1]` is its port."""
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.state = State()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = serve(args.host, args.port)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
