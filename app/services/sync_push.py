"""The push of DESIGN §5.2 wired to the database: one transaction under the change-feed
lock, in which the engine (sync.push) applies the ops through the SQLAlchemy store
(app.services.sync_store). The response is written after commit.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from app.database import utcnow
from app.errors import Problem
from app.models import User
from app.repositories import ledger as ledger_repo
from app.services import changefeed, unit_of_work
from app.services.visibility import Visibility
from app.services.sync_store import SqlStore
from schemas.sync import MAX_OPS
from sync import push as engine
from sync.evidence import clock_skew_s


def push(user: User, envelope: dict) -> dict:
    ops = envelope["ops"]
    if len(ops) > MAX_OPS:
        raise Problem("payload-too-large", f"{len(ops)} ops in one push; send at most {MAX_OPS}.")
    received_at = utcnow()
    visibility = Visibility.of(user)
    ctx = engine.Push(user.id, visibility.covers, envelope["device_id"], received_at,
                      clock_skew_s(received_at, envelope["sent_at"]))
    with _collector_paused(), unit_of_work() as session:
        changefeed.lock(visibility.districts)
        results = engine.apply_all(SqlStore(session), ctx, ops)
    return {"protocol": 1, "server_time": received_at, "clock_skew_s": ctx.skew_s, "results": results}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a push is applied. A push of 500
    reports makes some hundred thousand short-lived objects, which started a collection of
    the youngest generation some 27 times per push and, every fourth or fifth push, one of
    the whole heap (90 ms in the benchmark's process: some 20 ms a push on average). Nearly
    all of them are freed by their reference counts before the push ends, so the collector
    finds little to do when it runs again afterwards (gc.enable); any cycle the push made is
    collected then."""
    if not gc.isenabled():  # (another thread's push holds it off already, or the process does)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def quarantine(user: User, page) -> tuple[list, int]:
    """Quarantined ops the caller may see: an inspector's own; a head's, their district's inspectors'."""
    visibility = Visibility.of(user)
    return ledger_repo.quarantine_page(visibility.districts, visibility.author_id, page.offset, page.limit)
