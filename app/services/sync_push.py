"""The push of DESIGN §5.2 wired to the database: one transaction under the change-feed
lock, in which the engine (sync.push) applies the ops through the SQLAlchemy store
(app.services.sync_store). The response is written after commit.
"""

from datetime import datetime

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


def push(user: User, envelope: dict, arrived_at: datetime | None = None) -> dict:
    """`arrived_at`: when the request's first bytes were there. The clock skew is measured
    from it (server receive time − `sent_at`), not from now: a body that took minutes over
    2G would otherwise be taken for a phone's clock minutes slow, and its reports' device
    times corrected by as much (DESIGN §5.3)."""
    ops = envelope["ops"]
    if len(ops) > MAX_OPS:
        raise Problem("payload-too-large", f"{len(ops)} ops in one push; send at most {MAX_OPS}.")
    received_at = utcnow()
    visibility = Visibility.of(user)
    ctx = engine.Push(user.id, visibility.covers, envelope["device_id"], received_at,
                      clock_skew_s(arrived_at or received_at, envelope["sent_at"]))
    with unit_of_work() as session:
        changefeed.lock(visibility.districts)
        results = engine.apply_all(SqlStore(session), ctx, ops)
    return {"protocol": 1, "server_time": received_at, "clock_skew_s": ctx.skew_s, "results": results}


def quarantine(user: User, page) -> tuple[list, int]:
    """Quarantined ops the caller may see: an inspector's own; a head's, their district's
    inspectors'. A payload too large to list is null, its `payload_length` given."""
    visibility = Visibility.of(user)
    return ledger_repo.quarantine_page(visibility.districts, visibility.author_id, page.offset, page.limit)


def quarantined(user: User, quarantined_id: int) -> dict:
    """One quarantined op the caller may see, its payload whole; else 404."""
    visibility = Visibility.of(user)
    found = ledger_repo.quarantined(quarantined_id, visibility.districts, visibility.author_id)
    if found is None:
        raise Problem("not-found", f"There is no quarantined op {quarantined_id} you may see.")
    return found
