"""Load shedding: past capacity, a request that has waited too long for a thread is answered
503 `overloaded` with a `Retry-After` at once, before any of its work, instead of being
served late.

On the first morning of Nowruz every phone syncs at once. Under `make serve` (gunicorn's
threaded worker) a connection whose request has arrived waits in its worker's queue for a
free thread; past capacity that queue grows without bound, every request waits longer
than a phone's deadline, the phone retries, and the retries lengthen the queue. So the
worker (`serving.QueueTimedWorker`, `gunicorn.conf.py`'s `worker_class`) stamps each request with
how long it waited for its thread (`QUEUED_S` in the WSGI environ: a key only the server
sets, never a client's header), and `Shedding`, the app's outermost middleware, answers one
that waited longer than `SHED_AFTER_MS` with 503 before reading its body or opening a
transaction: nothing was written, the op ids it carried land when it is sent again, and the
threads go to requests that can still be served in time. The wait asked grows with the
queue's, spread at random so that shed phones do not all come back together.

Under `flask run` (no queue of ours) no request is stamped and none is shed.
"""

import math
import random

from serving import BACKLOG_S, CLOSE_AFTER, QUEUED_S, SHED

# Never shed: a health check must say the server is up even while it is busy.
NEVER_SHED = frozenset({"/healthz"})
LONGEST_RETRY_AFTER_S = 60
# A shed request's unread body up to this size is read and dropped by the server before the
# connection's next request (the client sent it already, fast); past it, or of unknown size,
# the connection is closed after the 503 instead, so no thread waits for a photo trickling in.
DRAIN_AT_MOST = 64 * 1024


class Shedding:
    """WSGI middleware: 503 `overloaded` for a request that waited past `after_s` in the queue."""

    def __init__(self, app, after_s: float, problem):
        self.app = app
        self.after_s = after_s
        self.problem = problem  # (environ, start_response, code, detail, headers) -> iterable

    def __call__(self, environ, start_response):
        queued = environ.get(QUEUED_S, 0.0)
        if self.after_s <= 0 or queued <= self.after_s or environ.get("PATH_INFO") in NEVER_SHED:
            return self.app(environ, start_response)
        retry_after = retry_after_s(queued, environ.get(BACKLOG_S, 0.0))
        environ[SHED] = True
        length = environ.get("CONTENT_LENGTH") or ""
        if (length.isdigit() and int(length) > DRAIN_AT_MOST) or environ.get("HTTP_TRANSFER_ENCODING"):
            environ[CLOSE_AFTER] = True
        return self.problem(environ, start_response, "overloaded",
                            f"The server is past capacity: this request waited {queued:.1f} s for its turn and was "
                            f"not started; nothing was written. Send it again after {retry_after} s.",
                            {"Retry-After": str(retry_after)})


def retry_after_s(queued_s: float, backlog_s: float = 0.0) -> int:
    """Seconds to wait: the longer of four times the queue's wait and the worker's backlog (the
    requests in it, at its recent time per request served), at least 2 s, up to twice that at
    random, so that phones shed together come back spread out and late enough for the queue
    to drain. With 1–2 s, 1,000 phones on 2 cores were shed four times a request; with the
    queue's wait alone, three (a shed costs the server and the phone a request's overhead)."""
    base = min(max(4 * queued_s, backlog_s, 2.0), LONGEST_RETRY_AFTER_S / 2)
    return math.ceil(base + random.uniform(0, base))
