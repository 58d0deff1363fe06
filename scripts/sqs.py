"""Small SQS helper for the demo, against the moto server in $MOTO_ENDPOINT.

    sqs.py create NAME    create a queue, print its URL
    sqs.py drain URL      print and delete every message on the queue
"""
import json
import os
import sys

import boto3


def client():
    return boto3.client("sqs", endpoint_url=os.environ["MOTO_ENDPOINT"], region_name=os.environ["AWS_REGION"])


def main(argv):
    if len(argv) == 3 and argv[1] == "create":
        attributes = {"FifoQueue": "true"} if argv[2].endswith(".fifo") else {}
        print(client().create_queue(QueueName=argv[2], Attributes=attributes)["QueueUrl"])
        return 0
    if len(argv) == 3 and argv[1] == "drain":
        # A message may hold a lone UTF-16 surrogate escape (`\ud83d`, legal JSON, passed
        # through by the relay), which json.loads keeps and UTF-8 cannot encode: print
        # it as its escape rather than stop draining.
        sys.stdout.reconfigure(errors="backslashreplace")
        sqs, count = client(), 0
        while True:
            messages = sqs.receive_message(QueueUrl=argv[2], MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            for message in messages:
                count += 1
                attributes = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
                print(f"--- message {count}  attributes: {json.dumps(attributes, ensure_ascii=False)}")
                print(json.dumps(json.loads(message["Body"]), ensure_ascii=False, indent=2))
                sqs.delete_message(QueueUrl=argv[2], ReceiptHandle=message["ReceiptHandle"])
        print(f"==> {count} message(s) read from the queue")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
