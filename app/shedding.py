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
queue's, and is booked (`Returns`): a shed phone is told the first second from then in which
the worker has room, counting the phones shed before it and told to come back in that
second, so that they come back at a pace the worker can serve instead of together, to be
shed again.

Under `flask run` (no queue of ours) no request is stamped and none is shed.
"""

import math
import threading
import time

from serving import CLOSE_AFTER, QUEUED_S

# Never shed: a health check must say the server is up even while it is busy.
NEVER_SHED = frozenset({"/healthz"})
LONGEST_RETRY_AFTER_S = 60
# A shed request's unread body up to this size is read and dropped by the server before the
# connection's next request (the client sent it already, fast); past it, or of unknown size,
# the connection is closed after the 503 instead, so no thread waits for a photo trickling in.
DRAIN_AT_MOST = 64 * 1024
# The share of the worker's throughput that phones shed before may be booked to come back
# in, a second at a time: the rest is for the phones being served, going on with their cycle.
RETURNING_SHARE = 0.5
# However slow the worker, the phones booked are spread over about this long: at the start of
# a rush its rate is a few slow logins' and would spread a thousand phones over a minute.
BOOKED_WITHIN_S = 20
# And however few: a worker takes this many at once (its threads), so a handful shed in a
# burst come back within a few seconds, not one a second for as many seconds as there are.
ROOM_AT_LEAST = 4


class Shedding:
    """WSGI middleware: 503 `overloaded` for a request that waited past `after_s` in the queue."""

    def __init__(self, app, after_s: float, problem):
        self.app = app
        self.after_s = after_s
        self.problem = problem  # (environ, start_response, code, detail, headers) -> iterable
        self.returns = Returns()

    def __call__(self, environ, start_response):
        if self.after_s <= 0:
            return self.app(environ, start_response)
        queued = environ.get(QUEUED_S, 0.0)
        if queued <= self.after_s or environ.get("PATH_INFO") in NEVER_SHED:
            self.returns.admitted()
            return self.app(environ, start_response)
        retry_after = self.returns.book(earliest_s(queued))
        length = environ.get("CONTENT_LENGTH") or ""
        if (length.isdigit() and int(length) > DRAIN_AT_MOST) or environ.get("HTTP_TRANSFER_ENCODING"):
            environ[CLOSE_AFTER] = True
        return self.problem(environ, start_response, "overloaded",
                            f"The server is past capacity: this request waited {queued:.1f} s for its turn and was "
                            f"not started; nothing was written. Send it again after {retry_after} s.",
                            {"Retry-After": str(retry_after)})


def earliest_s(queued_s: float) -> float:
    """The soonest a shed phone may come back: four times the queue's wait, at least 2 s, at
    most half the longest wait. (Not the worker's backlog: at the start of a rush most of the
    requests in a worker's queue are about to be shed themselves, and a wait worked out from
    their number sent the first phones shed 27–60 s away while the worker had room; issue 18.)"""
    return min(max(4 * queued_s, 2.0), LONGEST_RETRY_AFTER_S / 2)


class Returns:
    """A worker's book of the seconds in which shed phones were told to come back, each with
    how many (one book a process, its threads share it). A phone shed is booked the first
    second from its earliest in which fewer are booked than `RETURNING_SHARE` of the requests
    the worker started a second in the last two whole seconds, or than spreads all those
    booked over `BOOKED_WITHIN_S`, or than `ROOM_AT_LEAST`, up to the longest wait. The phones
    shed together at the start of a rush then come back at a pace the workers can serve,
    where waits drawn at random brought back more of them at once than they could serve, to
    be shed again (with 1,000 phones on 2 cores, 10,700 sheds for 9,000 requests served;
    3,500–4,600 booked; issue 18). A phone may come back to another worker: the books hold on
    average over the workers, each of which sees its share of the phones. (What the worker
    served is counted, not worked out from its threads' recent time per request: after a
    quiet night that time is a few milliseconds, and would bring hundreds of phones back in
    the same second.)"""

    WINDOW_S = 2

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.booked: dict[int, int] = {}  # a second of the clock -> phones told to come back in it
        self.started: dict[int, int] = {}  # a second of the clock -> requests started in it

    def admitted(self) -> None:
        """A request is being served (not shed)."""
        with self.lock:
            second = int(self.clock())
            if second not in self.started:  # a new second: those past the window are forgotten
                for past in [s for s in self.started if s < second - self.WINDOW_S]:
                    del self.started[past]
                self.started[second] = 0
            self.started[second] += 1

    def book(self, earliest: float) -> int:
        """The Retry-After of a phone shed now that may come back `earliest` seconds from now
        at the soonest: whole seconds, as the header says them, 1 to the longest wait."""
        with self.lock:
            second = int(self.clock())
            for past in [s for s in self.booked if s <= second]:  # at most the longest wait's seconds
                del self.booked[past]
            started = sum(self.started.get(second - 1 - i, 0) for i in range(self.WINDOW_S)) / self.WINDOW_S
            room = max(RETURNING_SHARE * started, (sum(self.booked.values()) + 1) / BOOKED_WITHIN_S, ROOM_AT_LEAST)
            wait = min(max(1, math.ceil(earliest)), LONGEST_RETRY_AFTER_S)
            while wait < LONGEST_RETRY_AFTER_S and self.booked.get(second + wait, 0) >= room:
                wait += 1
            self.booked[second + wait] = self.booked.get(second + wait, 0) + 1
            return wait
