"""Small SQS helper for the demo, against the moto server in $MOTO_ENDPOINT.

    sqs.py create NAME          create a queue, print its URL
    sqs.py drain URL [STEPS]    print and delete every message on the queue

STEPS is a file of lines `<step>\t<event_id>`: the messages are then printed in the
order of the steps, under the step whose event they came from.
"""
import json
import os
import sys

import boto3


# The message attributes, in the order they are printed; any other follows, sorted.
ATTRIBUTES = ["source", "event_type", "entity", "action"]


def client():
    if "MOTO_ENDPOINT" not in os.environ:
        sys.exit("sqs.py: MOTO_ENDPOINT is not set: run it through scripts/with-moto.sh (make demo, make relay)")
    return boto3.client("sqs", endpoint_url=os.environ["MOTO_ENDPOINT"], region_name=os.environ["AWS_REGION"])


def main(argv):
    if len(argv) == 3 and argv[1] == "create":
        attributes = {"FifoQueue": "true"} if argv[2].endswith(".fifo") else {}
        print(client().create_queue(QueueName=argv[2], Attributes=attributes)["QueueUrl"])
        return 0
    if len(argv) in (3, 4) and argv[1] == "drain":
        # A message may hold a lone UTF-16 surrogate escape (`\ud83d`, legal JSON, passed
        # through by the relay), which json.loads keeps and UTF-8 cannot encode: print
        # it as its escape rather than stop draining.
        sys.stdout.reconfigure(errors="backslashreplace")
        steps = read_steps(argv[3]) if len(argv) == 4 else {}
        messages = receive_all(client(), argv[2], steps)
        # In the order the steps sent them; a Feilian event's messages by index.
        position = {event_id: n for n, event_id in enumerate(steps)}
        messages.sort(key=lambda m: (position.get(m[2].get("event_id"), len(position)), m[2].get("id", "")))
        heading = None
        for count, (step, attributes, body) in enumerate(messages, 1):
            if steps and step != heading:
                heading = step
                print(f"-- {step or 'not sent by a step above'}")
            shown = ", ".join(f"{k}={attributes[k]}" for k in ordered(attributes))
            print(f"--- message {count}  attributes: {shown}")
            print(json.dumps(body, ensure_ascii=False, indent=2))
        print(f"==> {len(messages)} message(s) read from the queue")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


def read_steps(path):
    """event_id -> the step that sent it."""
    steps = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            step, _, event_id = line.rstrip("\n").partition("\t")
            steps[event_id] = step
    return steps


def ordered(attributes):
    return [k for k in ATTRIBUTES if k in attributes] + sorted(k for k in attributes if k not in ATTRIBUTES)


def receive_all(sqs, url, steps):
    """Every message on the queue, deleted once read: (step, attributes, body)."""
    found = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            attributes = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
            body = json.loads(message["Body"])
            found.append((steps.get(body.get("event_id")), attributes, body))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
