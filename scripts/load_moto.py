"""moto's server for the load test (scripts/load.py), with two changes to its SQS that
keep it usable at load-test volumes. Neither changes what a client sees.

1. Speed. moto 5.2 reads the clock through a datetime round trip (~20 us) for every
   message each time it checks visibility or delay, and SendMessage computes every queue
   attribute, counting every message, to look up one flag: with a few thousand messages
   on a queue each SendMessageBatch costs moto ~0.5 s of CPU. Here the clock is
   time.time() (the same milliseconds since the epoch); the load test also drains the
   queues while it runs, so they stay short.
2. FIFO deduplication as SQS documents it: a message whose MessageDeduplicationId was
   accepted in the last 5 minutes is accepted and dropped, whether or not the first
   one has been received and deleted since. moto only compares with the messages still
   on the queue, which a load test that drains as it goes has deleted.

Usage: load_moto.py -H 127.0.0.1 -p PORT (moto_server's own arguments).
"""

import sys
import threading
import time

from moto.server import main
from moto.sqs import models

DEDUPLICATION_SECONDS = 300


def unix_time_millis(dt=None, _original=models.unix_time_millis):
    return time.time() * 1000.0 if dt is None else _original(dt)


models.unix_time_millis = unix_time_millis

_add_message = models.Queue.add_message
_seen: dict[tuple[str, str], float] = {}
_seen_lock = threading.Lock()


def add_message(self, message):
    if self.fifo_queue and message.deduplication_id:
        key, now = (self.name, message.deduplication_id), time.monotonic()
        with _seen_lock:
            first = _seen.get(key)
            if first is not None and now - first < DEDUPLICATION_SECONDS:
                return
            _seen[key] = now
    _add_message(self, message)


models.Queue.add_message = add_message

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
