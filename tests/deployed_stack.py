#!/usr/bin/env python3
"""The deployed stack: template.yaml, unchanged, deployed as a user deploys it (`sam
deploy`: packaged to S3, then CloudFormation with the SAM transform) to MiniStack, a
local AWS started by scripts/with-ministack.sh; the secret filled as README.md,
"Deploy", says; the stack's own URLs driven by org-change-sim; the messages read back
from the queues the stack's outputs name and checked field by field.

It proves that the template's resources, parameters, policies, secret and outputs wire
together: a webhook sent to the stack's URL ends as a message on the stack's queue.
What MiniStack does not emulate, and so this cannot prove, is in docs/testing.md ("The deployed stack, on a local AWS");
each gap worked around here has a comment starting "Emulator gap".

With Enricher=Enabled, a third and fourth stack add the enricher: its function reads the
relay's queue and asks the local open API server (tests/fake_open_api.py, started here)
for the current object, and the messages are read back from the enriched queue.

Usage (make test runs it): scripts/with-ministack.sh .venv/bin/python tests/deployed_stack.py
The functions are the x86_64 debug builds `cargo test` already made (target/debug/
org-change-relay and org-change-enricher; RELAY_BOOTSTRAP and ENRICHER_BOOTSTRAP
override): the template's arm64 is not emulated.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import jsonschema

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fake_open_api  # noqa: E402

# Emulator gaps with nothing to work around, so nothing here checks them: reserved
# concurrency, stage throttling, the JSON log format, EMF metrics (the alarms never fire),
# arm64. IAM is not enforced (scripts/with-ministack.sh says why).
ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
RELAY = Path(os.environ.get("RELAY_BOOTSTRAP", TARGET / "debug/org-change-relay"))
ENRICHER = Path(os.environ.get("ENRICHER_BOOTSTRAP", TARGET / "debug/org-change-enricher"))
SIM = TARGET / "debug/org-change-sim"
SAM = ROOT / ".venv/bin/sam"
ENDPOINT = os.environ.get("MINISTACK_ENDPOINT", "")
REGION = os.environ.get("AWS_REGION", "us-east-1")

FEISHU = {"token": "dep-feishu-token-1", "key": "dep-feishu-key-1"}
FEILIAN = {"token": "dep-feilian-token-1", "key": "dep-feilian-key-1"}
LARK = {"token": "dep-lark-token-1", "key": "dep-lark-key-1"}
SUBSIDIARY = {"token": "dep-subsidiary-token-1", "key": "dep-subsidiary-key-1"}
FEILIAN_PREVIOUS = {"token": "dep-feilian-token-0", "key": "dep-feilian-key-0"}
# The default Feishu endpoint's internal app, registered with the local open API server.
FEISHU_APP = {"app_id": "cli_dep_enricher", "app_secret": "dep-app-secret-1"}

# What each event type becomes (README.md, "The message"): entity and action.
FEISHU_TYPES = {
    "corehr.department.created_v1": ("department", "created"),
    "corehr.department.created_v2": ("department", "created"),
    "corehr.department.updated_v1": ("department", "updated"),
    "corehr.department.updated_v2": ("department", "updated"),
    "corehr.department.deleted_v1": ("department", "deleted"),
    "corehr.custom_org.created_v2": ("custom_org", "created"),
    "corehr.custom_org.updated_v2": ("custom_org", "updated"),
    "corehr.custom_org.deleted_v2": ("custom_org", "deleted"),
    "contact.department.created_v3": ("department", "created"),
    "contact.department.updated_v3": ("department", "updated"),
    "contact.department.deleted_v3": ("department", "deleted"),
}
FEILIAN_TYPES = {
    "department.v1.create": ("department", "created"),
    "department.v1.update": ("department", "updated"),
    "department.v1.delete": ("department", "deleted"),
}


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION)


def secret_value(extra=None):
    """The secret as README.md, "Deploy", fills it: both default endpoints, a named one of
    each platform, and Feilian's previous pair during a rotation; then `extra` keys."""
    until = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (extra or {}) | {
        "FEISHU_VERIFICATION_TOKEN": FEISHU["token"],
        "FEISHU_ENCRYPT_KEY": FEISHU["key"],
        "FEILIAN_VERIFICATION_TOKEN": FEILIAN["token"],
        "FEILIAN_ENCRYPT_KEY": FEILIAN["key"],
        "ENDPOINTS": {
            "feishu/lark-global": {"verification_token": LARK["token"], "encrypt_key": LARK["key"]},
            "feilian/subsidiary": {"verification_token": SUBSIDIARY["token"],
                                   "encrypt_key": SUBSIDIARY["key"]},
            "feilian": {
                "previous_verification_token": FEILIAN_PREVIOUS["token"],
                "previous_encrypt_key": FEILIAN_PREVIOUS["key"],
                "previous_until": until,
            },
        },
    }


class Stack:
    """One deployed stack: its outputs, resources and local URLs."""

    def __init__(self, name, parameters, secret_extra=None):
        self.name = name
        deploy(name, parameters)
        cloudformation = client("cloudformation")
        described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        self.resources = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cloudformation.describe_stack_resources(StackName=name)["StackResources"]
        }
        create_routes(self)
        fill_secret(self, secret_extra)

    def url(self, output, suffix=""):
        return local_url(self.outputs[output]) + suffix


def deploy(name, parameters):
    """`sam deploy` of template.yaml as it is, with the function's bootstrap beside it
    (what `sam build` leaves for CodeUri `.`), into a bucket of the emulator's S3."""
    bucket = "deployed-stack-artifacts"
    s3 = client("s3")
    if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=bucket)
    with tempfile.TemporaryDirectory(prefix="deployed-stack-") as build:
        if parameters.get("Enricher") == "Enabled":
            two_functions(Path(build))
        else:
            shutil.copyfile(TEMPLATE, Path(build) / "template.yaml")
            shutil.copy(RELAY, Path(build) / "bootstrap")
        overrides = [f"{key}={value}" for key, value in parameters.items()]
        command = [str(SAM), "deploy", "--template-file", "template.yaml", "--stack-name", name,
                   "--s3-bucket", bucket, "--capabilities", "CAPABILITY_IAM",
                   "--no-confirm-changeset", "--region", REGION]
        if overrides:
            command += ["--parameter-overrides", *overrides]
        env = dict(os.environ, AWS_ENDPOINT_URL=ENDPOINT, SAM_CLI_TELEMETRY="0")
        env.pop("AWS_PROFILE", None)
        done = subprocess.run(command, cwd=build, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"sam deploy {name} failed:\n{done.stdout}\n{done.stderr}"


def two_functions(build):
    """What `sam build` leaves for two functions: each bootstrap in a folder named after
    its function, and the template's CodeUri of each pointing there. Nothing else in the
    template changes."""
    text = TEMPLATE.read_text()
    for resource, binary in [("RelayFunction", RELAY), ("EnricherFunction", ENRICHER)]:
        start = text.index(f"\n  {resource}:\n")
        at = text.index("      CodeUri: .\n", start)
        text = text[:at] + f"      CodeUri: {resource}\n" + text[at + len("      CodeUri: .\n"):]
        (build / resource).mkdir()
        shutil.copy(binary, build / resource / "bootstrap")
    (build / "template.yaml").write_text(text)


def create_routes(stack):
    """Emulator gap: MiniStack creates no routes from an HTTP API's OpenAPI `Body`, which is
    how SAM writes the template's events. They are created here from the deployed
    definition (the processed template), so a route the template lacks stays missing."""
    processed = client("cloudformation").get_template(StackName=stack.name, TemplateStage="Processed")
    body = processed["TemplateBody"]["Resources"]["ServerlessHttpApi"]["Properties"]["Body"]
    api = stack.resources["ServerlessHttpApi"]
    gateway = client("apigatewayv2")
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            integration = operation["x-amazon-apigateway-integration"]
            created = gateway.create_integration(
                ApiId=api,
                IntegrationType=integration["type"].upper(),
                IntegrationMethod=integration["httpMethod"],
                IntegrationUri=resolve(stack, integration["uri"]["Fn::Sub"]),
                PayloadFormatVersion=integration["payloadFormatVersion"],
            )
            gateway.create_route(ApiId=api, RouteKey=f"{method.upper()} {path}",
                                 Target=f"integrations/{created['IntegrationId']}")


def resolve(stack, text):
    """`text` of an Fn::Sub, its references replaced by the deployed values."""
    def value(match):
        name = match.group(1)
        if name == "AWS::Partition":
            return "aws"
        if name == "AWS::Region":
            return REGION
        resource, attribute = name.split(".")
        assert attribute == "Arn", f"unexpected reference {name} in the API definition"
        function = client("lambda").get_function(FunctionName=stack.resources[resource])
        return function["Configuration"]["FunctionArn"]
    return re.sub(r"\$\{([^}]+)\}", value, text)


def local_url(url):
    """Emulator gap: the outputs' URLs use AWS's domain; MiniStack serves an API at
    <endpoint>/_aws/execute-api/<api-id>/<stage>/<path>. The API id and the path are the
    output's own; the stage is the HTTP API's $default."""
    match = re.fullmatch(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(/.*)", url)
    assert match, f"not an execute-api URL: {url}"
    return f"{ENDPOINT}/_aws/execute-api/{match.group(1)}/$default{match.group(2)}"


def fill_secret(stack, extra=None):
    """README.md, "Deploy": put the values into the secret the output SecretArn names, then
    change the functions' configuration so that new instances read them.
    Emulator gap: MiniStack's `!Ref` of a secret is its name, not its ARN; both serve as
    a SecretId, here and in the function's SECRET_ID."""
    client("secretsmanager").put_secret_value(SecretId=stack.outputs["SecretArn"],
                                              SecretString=json.dumps(secret_value(extra)))
    for output in ("FunctionName", "EnricherFunctionName"):
        if output in stack.outputs:
            client("lambda").update_function_configuration(
                FunctionName=stack.outputs[output],
                Description=f"secrets reloaded {datetime.now(timezone.utc).isoformat()}")


def sim(*args):
    """org-change-sim's output (stdout then stderr), without this process's environment."""
    done = subprocess.run([str(SIM), *args], capture_output=True, text=True, env={}, timeout=60)
    return done.stdout + done.stderr


def trigger(url, secrets, *types, entity_id=None):
    """Triggers `types` at `url`; each event's (type, event_id, status) as printed."""
    extra = ["--id", entity_id] if entity_id else []
    out = sim("trigger", "--url", url, "--token", secrets["token"], "--key", secrets["key"], *extra, *types)
    sent = re.findall(r"^(\S+) event_id=(\S+) entity_id=\S+ → (\d{3})", out, re.MULTILINE)
    assert len(sent) == len(types) or types == ("all",), f"not every event was sent:\n{out}"
    return [(kind, event_id, int(status)) for kind, event_id, status in sent], out


def challenge_until_ready(url, secrets, timeout=30):
    """The challenge, sent until it comes back: the first request starts the function,
    which reads the secret."""
    deadline = time.monotonic() + timeout
    while True:
        out = sim("challenge", "--url", url, "--token", secrets["token"], "--key", secrets["key"])
        if "ok: the challenge came back" in out:
            return out
        assert time.monotonic() < deadline, f"the challenge never came back from {url}:\n{out}"
        time.sleep(0.5)


def drain(queue_url):
    """Every message now on the queue, deleted as read: (body text, attributes, system
    attributes)."""
    sqs = client("sqs")
    received, empty = [], 0
    while empty < 2:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"],
                                       MessageSystemAttributeNames=["All"],
                                       VisibilityTimeout=30).get("Messages", [])
        empty = 0 if messages else empty + 1
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            attributes = {}
            for name, value in message.get("MessageAttributes", {}).items():
                assert value["DataType"] == "String", f"attribute {name}: {value}"
                attributes[name] = value["StringValue"]
            received.append((message["Body"], attributes, message.get("Attributes", {})))
    return received


SCHEMA = json.loads((ROOT / "schema/message.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def check_message(message, *, source, endpoint, event_type, event_id, entity_id=None, fifo=False):
    """One message, field by field, against what was sent; its body against the
    committed schema; its attributes against its body."""
    text, attributes, system = message
    body = json.loads(text)
    errors = [f"{list(e.path)}: {e.message}" for e in VALIDATOR.iter_errors(body)]
    assert not errors, f"breaks schema/message.schema.json: {errors}\n{text}"
    entity, action = (FEISHU_TYPES if source == "feishu" else FEILIAN_TYPES)[event_type]
    expected_id = f"{endpoint}:{event_id}" if source == "feishu" else f"{endpoint}:{event_id}:0"
    expected = {"schema_version": 1, "id": expected_id, "source": source, "endpoint": endpoint,
                "event_type": event_type, "event_id": event_id, "entity": entity, "action": action}
    assert {k: body.get(k) for k in expected} == expected, f"{expected}\n{text}"
    if entity_id is not None:
        assert body["entity_id"] == entity_id, text
    assert (body["object_api_name"] is not None) == (entity == "custom_org"), text
    occurred = datetime.strptime(body["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - occurred).total_seconds()) < 600, text
    assert attributes == {"source": source, "event_type": event_type, "entity": entity, "action": action}, attributes
    if fifo:
        # The FIFO stack sets FifoGroupBy=unit, so that a parameter the function
        # never sees would show: the default, tenant, is the relay's own default.
        tenant = body["tenant_key"] or body["app_id"] or ""
        assert system.get("MessageGroupId") == f"{source}:{tenant}:{entity}:{body['entity_id']}", system
        assert system.get("MessageDeduplicationId") == expected_id, system
    else:
        assert "MessageGroupId" not in system, system
    return body


def by_event_id(messages):
    table = {}
    for message in messages:
        event_id = json.loads(message[0])["event_id"]
        assert event_id not in table, f"two messages of event {event_id}"
        table[event_id] = message
    return table


# The scenarios. Each drains what it caused, so each checks its own messages only.

def both_challenges_come_back(stack):
    for output, secrets in [("FeishuWebhookUrl", FEISHU), ("FeilianWebhookUrl", FEILIAN)]:
        out = challenge_until_ready(stack.url(output), secrets)
        assert "→ 200" in out, out
    assert drain(stack.outputs["QueueUrl"]) == []


def every_event_type_becomes_its_message(stack):
    for output, secrets, source, types in [("FeishuWebhookUrl", FEISHU, "feishu", FEISHU_TYPES),
                                           ("FeilianWebhookUrl", FEILIAN, "feilian", FEILIAN_TYPES)]:
        unit = f"dep-{uuid.uuid4().hex[:8]}"
        sent, out = trigger(stack.url(output), secrets, *types, entity_id=unit)
        assert [s[0] for s in sent] == list(types) and all(s[2] == 200 for s in sent), out
        received = by_event_id(drain(stack.outputs["QueueUrl"]))
        assert sorted(received) == sorted(s[1] for s in sent), f"{sorted(received)}\n{out}"
        for event_type, event_id, _ in sent:
            check_message(received[event_id], source=source, endpoint=source,
                          event_type=event_type, event_id=event_id, entity_id=unit)


def only(queue_url):
    """The one message now on the queue, deleted."""
    messages = drain(queue_url)
    assert len(messages) == 1, f"{len(messages)} messages on {queue_url}, not 1: {messages}"
    return messages[0]


def named_endpoints_are_served_under_their_own_urls(stack):
    for output, source, name, secrets, event_type in [
            ("FeishuWebhookUrl", "feishu", "lark-global", LARK, "corehr.department.updated_v2"),
            ("FeilianWebhookUrl", "feilian", "subsidiary", SUBSIDIARY, "department.v1.update")]:
        url = stack.url(output, f"/{name}")
        challenge_until_ready(url, secrets)
        sent, out = trigger(url, secrets, event_type)
        assert sent[0][2] == 200, out
        check_message(only(stack.outputs["QueueUrl"]), source=source, endpoint=f"{source}/{name}",
                      event_type=event_type, event_id=sent[0][1])
    url = stack.url("FeishuWebhookUrl", "/lark-global")
    # The default endpoint's pair is not the named one's, and an unknown name is 404.
    _, out = trigger(url, FEISHU, "corehr.department.updated_v2")
    assert "→ 401" in out, out
    _, out = trigger(stack.url("FeishuWebhookUrl", "/nobody"), LARK, "corehr.department.updated_v2")
    assert "→ 404" in out, out
    assert drain(stack.outputs["QueueUrl"]) == []


def during_a_rotation_the_previous_pair_is_accepted(stack):
    sent, out = trigger(stack.url("FeilianWebhookUrl"), FEILIAN_PREVIOUS, "department.v1.update")
    assert sent[0][2] == 200, out
    check_message(only(stack.outputs["QueueUrl"]), source="feilian", endpoint="feilian",
                  event_type="department.v1.update", event_id=sent[0][1])
    # Never one pair's token with the other's key.
    mixed = {"token": FEILIAN_PREVIOUS["token"], "key": FEILIAN["key"]}
    _, out = trigger(stack.url("FeilianWebhookUrl"), mixed, "department.v1.update")
    assert "→ 401" in out, out
    assert drain(stack.outputs["QueueUrl"]) == []


def a_forged_request_is_refused_with_401(stack):
    forged = {"token": "not-the-token", "key": FEISHU["key"]}
    _, out = trigger(stack.url("FeishuWebhookUrl"), forged, "corehr.department.updated_v2")
    assert "→ 401" in out and "bad_token" in out, out
    wrong_key = {"token": FEILIAN["token"], "key": "not-the-key"}
    _, out = trigger(stack.url("FeilianWebhookUrl"), wrong_key, "department.v1.update")
    assert "→ 401" in out and "undecryptable" in out, out
    assert drain(stack.outputs["QueueUrl"]) == []
    assert drain(stack.outputs["QuarantineQueueUrl"]) == []


def a_verified_event_without_its_id_is_quarantined(stack):
    event_id = uuid.uuid4().hex
    sample = json.loads((ROOT / "events/feishu/corehr.department.updated_v2.json").read_text())
    sample["header"]["event_id"] = event_id
    sample["event"]["dept"] = sample["event"].pop("department_id")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(sample, file)
    try:
        out = sim("send", "--url", stack.url("FeishuWebhookUrl"), "--token", FEISHU["token"],
                  "--key", FEISHU["key"], file.name)
    finally:
        os.unlink(file.name)
    assert "→ 200" in out and '"quarantined":"malformed_event"' in out, out
    assert drain(stack.outputs["QueueUrl"]) == []
    text, attributes, _ = only(stack.outputs["QuarantineQueueUrl"])
    assert {k: attributes.get(k) for k in ["reason", "source", "endpoint", "event_type", "event_id"]} == {
        "reason": "malformed_event", "source": "feishu", "endpoint": "feishu",
        "event_type": "corehr.department.updated_v2", "event_id": event_id}, attributes
    held = json.loads(text)
    assert held["header"]["event_id"] == event_id and held["header"]["token"] == "<redacted>", text
    assert FEISHU["token"] not in text and FEISHU["key"] not in text, text


def a_fifo_stack_orders_per_unit_and_enqueues_a_retry_once(stack):
    queue = stack.outputs["QueueUrl"]
    assert queue.endswith(".fifo"), queue
    challenge_until_ready(stack.url("FeishuWebhookUrl"), FEISHU)
    unit = f"dep-{uuid.uuid4().hex[:8]}"
    sent, out = trigger(stack.url("FeilianWebhookUrl"), FEILIAN, *FEILIAN_TYPES, entity_id=unit)
    assert all(s[2] == 200 for s in sent), out
    # One Feishu event delivered twice (a platform retry): the same body, one message.
    retried = ROOT / "events/feishu/corehr.custom_org.updated_v2.json"
    for _ in range(2):
        out = sim("send", "--url", stack.url("FeishuWebhookUrl"), "--token", FEISHU["token"],
                  "--key", FEISHU["key"], str(retried))
        assert "→ 200" in out, out
    received = drain(queue)
    feilian = [m for m in received if json.loads(m[0])["source"] == "feilian"]
    # In order within the unit's group: the order the changes were sent in.
    assert [json.loads(m[0])["event_id"] for m in feilian] == [s[1] for s in sent], received
    for message, (event_type, event_id, _) in zip(feilian, sent):
        check_message(message, source="feilian", endpoint="feilian", event_type=event_type,
                      event_id=event_id, entity_id=unit, fifo=True)
    feishu = [m for m in received if json.loads(m[0])["source"] == "feishu"]
    sample = json.loads(retried.read_text())
    assert len(feishu) == 1, received
    check_message(feishu[0], source="feishu", endpoint="feishu", event_type="corehr.custom_org.updated_v2",
                  event_id=sample["header"]["event_id"], fifo=True)


def tracing_mode(stack):
    """The function's X-Ray tracing mode. Emulator gap: MiniStack records the mode but
    traces nothing, so no trace is checked."""
    function = client("lambda").get_function(FunctionName=stack.outputs["FunctionName"])
    return function["Configuration"]["TracingConfig"]["Mode"], function["Configuration"]["Role"]


def tracing_is_active_by_default(stack):
    mode, role = tracing_mode(stack)
    assert mode == "Active", mode
    # SAM gives a traced function's role the managed policy that lets it write traces.
    attached = client("iam").list_attached_role_policies(RoleName=role.rsplit("/", 1)[-1])
    names = [policy["PolicyName"] for policy in attached["AttachedPolicies"]]
    assert any(name.lower().startswith("awsxray") for name in names), names


def tracing_pass_through_follows_the_parameter(stack):
    assert tracing_mode(stack)[0] == "PassThrough"


def queue_attributes(url):
    return client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def the_queues_are_configured_as_documented(stack, fifo=False):
    """14 days of retention; after 5 receives a message moves to the dead-letter queue,
    of the same type; FIFO deduplicates and orders per message group. Emulator gap:
    MiniStack stores these settings; redrive and retention are not exercised."""
    queue = queue_attributes(stack.outputs["QueueUrl"])
    dead_letters = queue_attributes(stack.outputs["DeadLetterQueueUrl"])
    assert queue["MessageRetentionPeriod"] == dead_letters["MessageRetentionPeriod"] == "1209600"
    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dead_letters["QueueArn"], "maxReceiveCount": 5}, redrive
    assert queue["QueueArn"] == stack.outputs["QueueArn"], (queue, stack.outputs)
    assert queue_attributes(stack.outputs["QuarantineQueueUrl"]).get("FifoQueue", "false") == "false"
    for attributes in (queue, dead_letters):
        assert attributes.get("FifoQueue", "false") == ("true" if fifo else "false"), attributes
    if fifo:
        assert (queue["DeduplicationScope"], queue["FifoThroughputLimit"]) == ("messageGroup", "perMessageGroupId"), queue


def the_fifo_queues_are_configured_as_documented(stack):
    the_queues_are_configured_as_documented(stack, fifo=True)


def the_enricher_is_off_by_default(stack):
    """Without Enricher=Enabled the stack is the relay alone: no enricher resource, output
    or event source."""
    extra = [name for name in list(stack.resources) + list(stack.outputs) if name.startswith("Enrich")]
    assert extra == [], extra
    mappings = client("lambda").list_event_source_mappings(FunctionName=stack.outputs["FunctionName"])
    assert mappings["EventSourceMappings"] == [], mappings


# The enricher. One local open API server serves every enricher stack; each scenario
# uses ids of its own, so the calls it checks are its own.
OPEN_API = {}


def open_api(name, body=None):
    """A control call to the local open API server (tests/fake_open_api.py)."""
    reading = name == "calls"
    data = None if reading else json.dumps(body if body is not None else {}).encode()
    request = urllib.request.Request(f"{OPEN_API['url']}/_control/{name}", data=data,
                                     method="GET" if reading else "POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def calls_for(object_id):
    """The open API calls that asked for `object_id`."""
    return [c for c in open_api("calls")["calls"] if object_id in c["ids"]]


def collect(queue_url, count, timeout=60):
    """`count` messages from the queue, waiting for the enricher; deleted as read."""
    deadline = time.monotonic() + timeout
    received = []
    while len(received) < count:
        assert time.monotonic() < deadline, f"{len(received)} of {count} messages on {queue_url} in {timeout} s"
        received += drain(queue_url)
        time.sleep(0.5)
    assert len(received) == count, f"{len(received)} messages on {queue_url}, not {count}: {received}"
    return received


RFC3339_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def check_enriched(message, *, event_type, event_id, entity_id, fifo=False):
    """The enriched message: `current_at` set, `current_missing` null, and every other
    field, attribute and FIFO id as the relay writes them (check_message). Its `current`."""
    text, attributes, system = message
    body = json.loads(text)
    errors = [f"{list(e.path)}: {e.message}" for e in VALIDATOR.iter_errors(body)]
    assert not errors, f"breaks schema/message.schema.json: {errors}\n{text}"
    assert RFC3339_MS.fullmatch(body.get("current_at") or ""), text
    read = datetime.strptime(body["current_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - read).total_seconds()) < 600, text
    assert body.get("current_missing", "absent") is None, text
    relayed = {k: v for k, v in body.items() if k not in ("current", "current_at", "current_missing")}
    check_message((json.dumps(relayed), attributes, system), source="feishu", endpoint="feishu",
                  event_type=event_type, event_id=event_id, entity_id=entity_id, fifo=fifo)
    return body["current"]


def answered_item(calls, id_field, object_id):
    """The item the server answered for `object_id`, from the first successful call."""
    for call in calls:
        if call["status"] == 200 and call["code"] == 0:
            return next(i for i in call["answer"]["data"]["items"] if i[id_field] == object_id)
    raise AssertionError(f"no successful call for {object_id}: {calls}")


def the_enricher_is_wired_as_documented(stack, fifo=False):
    """The enriched queue and its dead-letter queue as documented (FIFO as the relay's
    queue, content-based deduplication off), the event source on the relay's queue with
    partial failures and a bound, and the function's variables."""
    queue = queue_attributes(stack.outputs["EnrichedQueueUrl"])
    dead_letters = queue_attributes(stack.outputs["EnrichedDeadLetterQueueUrl"])
    assert queue["MessageRetentionPeriod"] == dead_letters["MessageRetentionPeriod"] == "1209600"
    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dead_letters["QueueArn"], "maxReceiveCount": 5}, redrive
    assert queue["QueueArn"] == stack.outputs["EnrichedQueueArn"], queue
    for attributes in (queue, dead_letters):
        assert attributes.get("FifoQueue", "false") == ("true" if fifo else "false"), attributes
    if fifo:
        assert queue.get("ContentBasedDeduplication", "false") == "false", queue
        assert (queue["DeduplicationScope"], queue["FifoThroughputLimit"]) == ("messageGroup", "perMessageGroupId"), queue
    function = stack.outputs["EnricherFunctionName"]
    (mapping,) = client("lambda").list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    assert mapping["EventSourceArn"] == stack.outputs["QueueArn"], mapping
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], mapping
    assert (mapping["BatchSize"], mapping["ScalingConfig"]) == (10, {"MaximumConcurrency": 2}), mapping
    variables = client("lambda").get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    assert variables == {"ENRICHED_QUEUE_URL": stack.outputs["EnrichedQueueUrl"],
                         "SECRET_ID": stack.outputs["SecretArn"], "FEISHU_API_HOST": OPEN_API["url"],
                         "ENRICH_SHARE": "0.5"}, variables


def the_fifo_enricher_is_wired_as_documented(stack):
    the_enricher_is_wired_as_documented(stack, fifo=True)


def a_department_update_arrives_with_current(stack, fifo=False):
    """Done when (issue 21): the relayed corehr.department.updated_v2 on the enriched
    queue, `current` equal to what the API returned."""
    department_id = str(7_000_000_000_000_000_000 + uuid.uuid4().int % 10**18)
    department = {"id": department_id, "version_id": "6890452208593372611", "code": "D-DEP",
                  "department_name": [{"lang": "zh-CN", "value": "部署测试"}], "active": True,
                  "effective_date": "2026-12-06"}
    open_api("departments", {"app_id": FEISHU_APP["app_id"], "items": [department]})
    event_type = "corehr.department.updated_v2"
    sent, out = trigger(stack.url("FeishuWebhookUrl"), FEISHU, event_type, entity_id=department_id)
    assert sent[0][2] == 200, out
    (message,) = collect(stack.outputs["EnrichedQueueUrl"], 1)
    current = check_enriched(message, event_type=event_type, event_id=sent[0][1],
                             entity_id=department_id, fifo=fifo)
    calls = calls_for(department_id)
    assert current == answered_item(calls, "id", department_id), (current, calls)
    assert current["department_name"] == department["department_name"], current
    assert {c["app_id"] for c in calls} == {FEISHU_APP["app_id"]}, calls
    assert all(c["query"].get("department_id_type") == "people_corehr_department_id" for c in calls), calls


def a_fifo_department_update_keeps_its_group_and_deduplication_ids(stack):
    a_department_update_arrives_with_current(stack, fifo=True)


def a_custom_org_update_arrives_with_current(stack):
    org_id = str(7_400_000_000_000_000_000 + uuid.uuid4().int % 10**18)
    org = {"org_id": org_id, "names": [{"lang": "zh-CN", "value": "部署测试"}],
           "code": "MDPD-DEP", "active": True}
    api_name = json.loads((ROOT / "events/feishu/corehr.custom_org.updated_v2.json").read_text())["event"]["object_api_name"]
    open_api("custom_orgs", {"app_id": FEISHU_APP["app_id"], "object_api_name": api_name, "items": [org]})
    event_type = "corehr.custom_org.updated_v2"
    sent, out = trigger(stack.url("FeishuWebhookUrl"), FEISHU, event_type, entity_id=org_id)
    assert sent[0][2] == 200, out
    (message,) = collect(stack.outputs["EnrichedQueueUrl"], 1)
    current = check_enriched(message, event_type=event_type, event_id=sent[0][1], entity_id=org_id)
    calls = calls_for(org_id)
    assert current == answered_item(calls, "org_id", org_id), (current, calls)
    assert current["names"] == org["names"], current
    assert {c["object_api_name"] for c in calls} == {api_name}, calls


def a_contact_event_passes_through_unchanged(stack):
    """Events that carry their object (contact v3) are not looked up: no added field."""
    unit = f"od-{uuid.uuid4().hex[:12]}"
    sent, out = trigger(stack.url("FeishuWebhookUrl"), FEISHU, "contact.department.updated_v3", entity_id=unit)
    assert sent[0][2] == 200, out
    (message,) = collect(stack.outputs["EnrichedQueueUrl"], 1)
    body = check_message(message, source="feishu", endpoint="feishu", event_type="contact.department.updated_v3",
                         event_id=sent[0][1], entity_id=unit)
    assert not {"current", "current_at", "current_missing"} & set(body), message[0]
    assert calls_for(unit) == []


STANDARD = [the_enricher_is_off_by_default, the_queues_are_configured_as_documented, tracing_is_active_by_default, both_challenges_come_back, every_event_type_becomes_its_message,
            named_endpoints_are_served_under_their_own_urls, during_a_rotation_the_previous_pair_is_accepted,
            a_forged_request_is_refused_with_401, a_verified_event_without_its_id_is_quarantined]
FIFO = [the_fifo_queues_are_configured_as_documented, a_fifo_stack_orders_per_unit_and_enqueues_a_retry_once, tracing_pass_through_follows_the_parameter]
ENRICHED = [the_enricher_is_wired_as_documented, a_department_update_arrives_with_current,
            a_custom_org_update_arrives_with_current, a_contact_event_passes_through_unchanged]
ENRICHED_FIFO = [the_fifo_enricher_is_wired_as_documented, a_fifo_department_update_keeps_its_group_and_deduplication_ids]


def run(stack_name, parameters, scenarios, results, secret_extra=None):
    """Deploys one stack and runs `scenarios` on it; a failed deployment fails them all."""
    started = time.monotonic()
    try:
        stack = Stack(stack_name, parameters, secret_extra)
    except Exception:
        failure = traceback.format_exc()
        for scenario in scenarios:
            results.append((scenario.__name__, failure))
        return
    print(f"deployed {stack_name} {parameters} in {time.monotonic() - started:.1f} s", flush=True)
    for scenario in scenarios:
        try:
            scenario(stack)
            results.append((scenario.__name__, None))
        except Exception:
            results.append((scenario.__name__, traceback.format_exc()))


def main():
    assert ENDPOINT, "MINISTACK_ENDPOINT is not set: run under scripts/with-ministack.sh"
    for tool in (RELAY, ENRICHER, SIM, SAM):
        assert tool.is_file(), f"{tool} not found: build with `cargo test --features integration` and run scripts/setup.sh"
    started = time.monotonic()
    results = []
    suffix = uuid.uuid4().hex[:6]
    run(f"relay-std-{suffix}", {}, STANDARD, results)
    run(f"relay-fifo-{suffix}", {"QueueType": "fifo", "FifoGroupBy": "unit", "XRayTracing": "PassThrough"},
        FIFO, results)
    # The enricher's functions run as local processes of MiniStack, so they reach the
    # local open API server on the loopback address.
    server = fake_open_api.serve()
    OPEN_API["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    open_api("apps", FEISHU_APP)
    enriched = {"Enricher": "Enabled", "FeishuApiHost": OPEN_API["url"]}
    app_keys = {"FEISHU_APP_ID": FEISHU_APP["app_id"], "FEISHU_APP_SECRET": FEISHU_APP["app_secret"]}
    try:
        run(f"relay-enrich-{suffix}", enriched, ENRICHED, results, app_keys)
        run(f"relay-enrich-fifo-{suffix}", enriched | {"QueueType": "fifo", "FifoGroupBy": "unit"},
            ENRICHED_FIFO, results, app_keys)
    finally:
        server.shutdown()
    for name, failure in results:
        print(f"test {name} ... {'ok' if failure is None else 'FAILED'}")
        if failure:
            print(failure)
    failed = sum(1 for _, failure in results if failure)
    print(f"deployed stack: {time.monotonic() - started:.1f} s")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
