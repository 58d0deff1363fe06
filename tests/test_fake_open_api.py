#!/usr/bin/env python3
"""The local open API server (tests/fake_open_api.py) answers as the official pages say.

Runs with `python3 tests/test_fake_open_api.py` or `.venv/bin/python -m pytest tests/
test_fake_open_api.py`. It starts the server in this process, on a free loopback port,
unless OPEN_API_URL names one already running (scripts/with-open-api.sh sets it).
"""

import json
import os
import sys
import time
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fake_open_api  # noqa: E402

SERVER = None
BASE = os.environ.get("OPEN_API_URL", "")
TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"
DEPARTMENTS = ("/open-apis/corehr/v2/departments/batch_get"
               "?department_id_type=people_corehr_department_id&user_id_type=people_corehr_id")
CUSTOM_ORGS = "/open-apis/corehr/v2/custom_orgs/query?page_size=100"
APP = {"app_id": "cli_test_app", "app_secret": "secret-one"}
DEPARTMENT = {
    "id": "7043711774159341101",
    "version_id": "6890452208593372611",
    "department_name": [{"lang": "zh-CN", "value": "中文示例"}],
    "code": "D00000456",
    "active": True,
    "manager": "6893013238632416777",
}
ORG = {
    "org_id": "6862995757234914824",
    "names": [{"lang": "zh-CN", "value": "中文示例"}],
    "code": "MDPD00000023",
    "active": True,
}


def setUpModule():
    global SERVER, BASE
    if not BASE:
        SERVER = fake_open_api.serve()
        BASE = f"http://127.0.0.1:{SERVER.server_address[1]}"


def tearDownModule():
    if SERVER is not None:
        SERVER.shutdown()


def call(path, body=None, token=None, method="POST"):
    """(HTTP status, headers, parsed JSON body or the raw text when it is not JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Content-Type", "application/json; charset=utf-8")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, headers, raw = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as answer:
        status, headers, raw = answer.code, answer.headers, answer.read()
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, raw.decode()


def control(name, body=None, method="POST"):
    status, _, answer = call(f"/_control/{name}", body if body is not None else {}, method=method)
    assert status == 200, f"control {name}: {status} {answer}"
    return answer


def token_for(app=APP):
    status, _, answer = call(TOKEN, app)
    assert status == 200 and answer["code"] == 0, answer
    return answer["tenant_access_token"]


class Base(unittest.TestCase):
    def setUp(self):
        control("reset")
        control("apps", APP)


class TokenTest(Base):
    def test_registered_app_gets_a_two_hour_tenant_token(self):
        status, _, answer = call(TOKEN, APP)
        self.assertEqual(status, 200)
        self.assertEqual(answer["code"], 0)
        self.assertEqual(answer["msg"], "ok")
        self.assertTrue(answer["tenant_access_token"].startswith("t-"))
        self.assertEqual(answer["expire"], 7200)

    def test_unknown_app_is_code_10003_with_http_200(self):
        status, _, answer = call(TOKEN, {"app_id": "cli_nobody", "app_secret": "x"})
        self.assertEqual((status, answer["code"]), (200, 10003))
        self.assertNotIn("tenant_access_token", answer)

    def test_wrong_secret_is_code_10015_with_http_200(self):
        status, _, answer = call(TOKEN, {"app_id": APP["app_id"], "app_secret": "wrong"})
        self.assertEqual((status, answer["code"]), (200, 10015))

    def test_same_token_while_30_minutes_remain_then_a_new_one_and_both_valid(self):
        control("clock", {"freeze": True})
        first = token_for()
        control("clock", {"advance": 7200 - 1800})
        _, _, again = call(TOKEN, APP)
        self.assertEqual(again["tenant_access_token"], first)
        self.assertEqual(again["expire"], 1800)
        control("clock", {"advance": 1})
        _, _, renewed = call(TOKEN, APP)
        self.assertNotEqual(renewed["tenant_access_token"], first)
        self.assertEqual(renewed["expire"], 7200)
        status, _, answer = call(DEPARTMENTS, {"department_id_list": []}, token=first)
        self.assertEqual((status, answer["code"]), (200, 0))

    def test_expired_token_is_code_99991663(self):
        control("clock", {"freeze": True})
        token = token_for()
        control("clock", {"advance": 7200})
        status, _, answer = call(DEPARTMENTS, {"department_id_list": []}, token=token)
        self.assertEqual((status, answer["code"]), (400, 99991663))

    def test_expire_tokens_control_expires_every_token_now(self):
        token = token_for()
        control("expire_tokens")
        _, _, answer = call(DEPARTMENTS, {"department_id_list": []}, token=token)
        self.assertEqual(answer["code"], 99991663)
        self.assertNotEqual(token_for(), token)

    def test_missing_bearer_is_99991661_and_malformed_token_99991671(self):
        _, _, missing = call(DEPARTMENTS, {"department_id_list": []})
        self.assertEqual(missing["code"], 99991661)
        _, _, malformed = call(DEPARTMENTS, {"department_id_list": []}, token="abc")
        self.assertEqual(malformed["code"], 99991671)


class DepartmentsTest(Base):
    def setUp(self):
        super().setUp()
        control("departments", {"app_id": APP["app_id"], "items": [DEPARTMENT]})
        self.token = token_for()

    def test_returns_only_the_listed_fields_plus_id(self):
        body = {"department_id_list": [DEPARTMENT["id"]], "fields": ["code", "department_name"]}
        status, _, answer = call(DEPARTMENTS, body, token=self.token)
        self.assertEqual(status, 200)
        self.assertEqual(answer["code"], 0)
        self.assertEqual(answer["msg"], "success")
        self.assertEqual(answer["data"]["items"], [{
            "id": DEPARTMENT["id"], "code": "D00000456",
            "department_name": DEPARTMENT["department_name"]}])

    def test_without_fields_only_the_id_comes_back(self):
        _, _, answer = call(DEPARTMENTS, {"department_id_list": [DEPARTMENT["id"]]}, token=self.token)
        self.assertEqual(answer["data"]["items"], [{"id": DEPARTMENT["id"]}])

    def test_ids_it_does_not_hold_are_left_out(self):
        body = {"department_id_list": ["404", DEPARTMENT["id"]], "fields": ["code"]}
        _, _, answer = call(DEPARTMENTS, body, token=self.token)
        self.assertEqual([i["id"] for i in answer["data"]["items"]], [DEPARTMENT["id"]])

    def test_empty_data_option_drops_items(self):
        control("options", {"empty_data": True})
        _, _, answer = call(DEPARTMENTS, {"department_id_list": ["404"]}, token=self.token)
        self.assertEqual(answer["data"], {})

    def test_more_than_100_ids_is_1160102_with_http_400(self):
        body = {"department_id_list": [str(i) for i in range(101)]}
        status, _, answer = call(DEPARTMENTS, body, token=self.token)
        self.assertEqual((status, answer["code"]), (400, 1160102))

    def test_forbidden_id_is_1160103_with_http_403(self):
        control("forbid", {"app_id": APP["app_id"], "department_ids": [DEPARTMENT["id"]]})
        status, _, answer = call(DEPARTMENTS, {"department_id_list": [DEPARTMENT["id"]]},
                                 token=self.token)
        self.assertEqual((status, answer["code"]), (403, 1160103))

    def test_object_is_invisible_until_its_lag_has_passed(self):
        control("clock", {"freeze": True})
        late = dict(DEPARTMENT, id="late-1")
        control("departments", {"app_id": APP["app_id"], "items": [late], "visible_after": 2})
        body = {"department_id_list": ["late-1"], "fields": ["code"]}
        _, _, before = call(DEPARTMENTS, body, token=self.token)
        self.assertEqual(before["data"]["items"], [])
        control("clock", {"advance": 2})
        _, _, after = call(DEPARTMENTS, body, token=self.token)
        self.assertEqual(after["data"]["items"], [{"id": "late-1", "code": "D00000456"}])

    def test_objects_belong_to_their_app(self):
        other = {"app_id": "cli_other", "app_secret": "secret-two"}
        control("apps", other)
        _, _, answer = call(DEPARTMENTS, {"department_id_list": [DEPARTMENT["id"]]},
                            token=token_for(other))
        self.assertEqual(answer["data"]["items"], [])

    def test_calls_are_recorded(self):
        call(DEPARTMENTS, {"department_id_list": [DEPARTMENT["id"], "404"]}, token=self.token)
        calls = control("calls", method="GET")["calls"]
        self.assertEqual([c["path"] for c in calls], [TOKEN, DEPARTMENTS.split("?")[0]])
        last = calls[-1]
        self.assertEqual(last["app_id"], APP["app_id"])
        self.assertEqual((last["status"], last["code"]), (200, 0))
        self.assertEqual(last["ids"], [DEPARTMENT["id"], "404"])
        self.assertEqual(last["query"]["department_id_type"], "people_corehr_department_id")
        self.assertLess(abs(last["time"] - time.time()), 60)
        self.assertEqual(last["answer"]["data"]["items"], [{"id": DEPARTMENT["id"]}])
        self.assertEqual(calls[0]["answer"]["tenant_access_token"], "<token>")


class CustomOrgsTest(Base):
    def setUp(self):
        super().setUp()
        control("custom_orgs", {"app_id": APP["app_id"], "object_api_name": "custom_org_01",
                                "items": [ORG]})
        self.token = token_for()

    def test_returns_the_listed_org_fields_plus_org_id(self):
        body = {"object_api_name": "custom_org_01", "org_ids": [ORG["org_id"], "404"],
                "org_fields": ["names"]}
        status, _, answer = call(CUSTOM_ORGS, body, token=self.token)
        self.assertEqual((status, answer["code"], answer["msg"]), (200, 0, "success"))
        self.assertEqual(answer["data"], {
            "items": [{"org_id": ORG["org_id"], "names": ORG["names"]}], "has_more": False})

    def test_object_api_name_is_required(self):
        status, _, answer = call(CUSTOM_ORGS, {"org_ids": [ORG["org_id"]]}, token=self.token)
        self.assertEqual((status, answer["code"]), (400, 1161001))

    def test_more_than_200_org_ids_is_refused(self):
        body = {"object_api_name": "custom_org_01", "org_ids": [str(i) for i in range(201)]}
        status, _, answer = call(CUSTOM_ORGS, body, token=self.token)
        self.assertEqual((status, answer["code"]), (400, 1161001))

    def test_other_object_api_name_finds_nothing(self):
        body = {"object_api_name": "custom_org_02", "org_ids": [ORG["org_id"]]}
        _, _, answer = call(CUSTOM_ORGS, body, token=self.token)
        self.assertEqual(answer["data"]["items"], [])


class RateLimitTest(Base):
    def setUp(self):
        super().setUp()
        control("clock", {"freeze": True})
        self.token = token_for()

    def burst(self, path, body, count):
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda _: call(path, body, token=self.token), range(count)))

    def test_departments_allow_50_per_second(self):
        answers = self.burst(DEPARTMENTS, {"department_id_list": []}, 51)
        limited = [a for a in answers if a[0] == 429]
        self.assertEqual(len(limited), 1)
        status, headers, body = limited[0]
        self.assertEqual(body["code"], 99991400)
        self.assertEqual(headers["x-ogw-ratelimit-limit"], "50")
        self.assertEqual(headers["x-ogw-ratelimit-reset"], "1")
        control("clock", {"advance": 1})
        self.assertEqual(call(DEPARTMENTS, {"department_id_list": []}, token=self.token)[0], 200)

    def test_departments_allow_1000_per_minute(self):
        for _ in range(20):
            statuses = [call(DEPARTMENTS, {}, token=self.token)[0] for _ in range(50)]
            self.assertEqual(statuses, [200] * 50)
            control("clock", {"advance": 1})
        status, headers, body = call(DEPARTMENTS, {}, token=self.token)
        self.assertEqual((status, body["code"]), (429, 99991400))
        self.assertEqual(headers["x-ogw-ratelimit-limit"], "1000")
        control("clock", {"advance": 40})
        self.assertEqual(call(DEPARTMENTS, {}, token=self.token)[0], 200)

    def test_custom_orgs_allow_5_per_second(self):
        answers = self.burst(CUSTOM_ORGS, {"object_api_name": "custom_org_01"}, 6)
        self.assertEqual(sorted(a[0] for a in answers), [200] * 5 + [429])

    def test_limits_are_per_app(self):
        other = {"app_id": "cli_other", "app_secret": "secret-two"}
        control("apps", other)
        self.burst(CUSTOM_ORGS, {"object_api_name": "custom_org_01"}, 5)
        status, _, _ = call(CUSTOM_ORGS, {"object_api_name": "custom_org_01"}, token=token_for(other))
        self.assertEqual(status, 200)


class FaultTest(Base):
    def setUp(self):
        super().setUp()
        self.token = token_for()

    def departments(self):
        return call(DEPARTMENTS, {"department_id_list": []}, token=self.token)

    def inject(self, **fault):
        control("faults", {"path": "departments", "count": 1, **fault})

    def test_delay_then_a_normal_answer(self):
        self.inject(kind="delay", ms=300)
        started = time.monotonic()
        status, _, answer = self.departments()
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual((status, answer["code"]), (200, 0))

    def test_status_503_is_the_corehr_timeout(self):
        self.inject(kind="status", status=503)
        status, _, answer = self.departments()
        self.assertEqual((status, answer["code"]), (503, 1161204))
        self.assertEqual(self.departments()[0], 200)

    def test_rate_limited_is_1161604_with_http_429(self):
        self.inject(kind="rate_limited")
        status, _, answer = self.departments()
        self.assertEqual((status, answer["code"]), (429, 1161604))

    def test_token_invalid_is_99991663(self):
        self.inject(kind="token_invalid")
        status, _, answer = self.departments()
        self.assertEqual((status, answer["code"]), (400, 99991663))

    def test_non_json_body(self):
        self.inject(kind="non_json", status=502)
        status, _, answer = self.departments()
        self.assertEqual(status, 502)
        self.assertIn("<html>", answer)

    def test_fault_lasts_count_calls_of_its_path_only(self):
        control("faults", {"path": "departments", "count": 2, "kind": "status"})
        self.assertEqual(token_for(), self.token)
        self.assertEqual([self.departments()[0] for _ in range(3)], [500, 500, 200])
        faults = [c["fault"] for c in control("calls", method="GET")["calls"]]
        self.assertEqual(faults, [None, None, "status", "status", None])

    def test_token_path_fault(self):
        control("faults", {"path": "token", "kind": "answer", "status": 200, "code": 10014,
                           "msg": "app unauthorized"})
        status, _, answer = call(TOKEN, APP)
        self.assertEqual((status, answer["code"]), (200, 10014))

    def test_reset_clears_apps_and_faults(self):
        self.inject(kind="status")
        control("reset")
        self.assertEqual(control("calls", method="GET")["calls"], [])
        self.assertEqual(call(TOKEN, APP)[2]["code"], 10003)
        self.assertEqual(call(DEPARTMENTS, {}, token=self.token)[2]["code"], 99991663)


if __name__ == "__main__":
    unittest.main()
