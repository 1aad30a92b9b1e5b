"""The push of DESIGN §5.2 wired to the database: one transaction under the change-feed
lock, in which the engine (sync.push) applies the ops through the SQLAlchemy store
(app.services.sync_store). The response is written after commit.
"""

from app.database import utcnow
from app.errors import Problem
from app.models import Report, User
from app.repositories import sync as repo
from app.services import changefeed, unit_of_work
from app.services.scope import Scope
from app.services.sync_store import SqlStore
from schemas.sync import MAX_OPS, write_report
from sync import push as engine
from sync.evidence import clock_skew_s


def push(user: User, envelope: dict) -> dict:
    ops = envelope["ops"]
    if len(ops) > MAX_OPS:
        raise Problem("payload-too-large", f"{len(ops)} ops in one push; send at most {MAX_OPS}.")
    received_at = utcnow()
    scope = Scope.of(user)
    ctx = engine.Push(user.id, scope.covers, envelope["device_id"], received_at,
                      clock_skew_s(received_at, envelope["sent_at"]))
    with unit_of_work() as session:
        changefeed.lock(scope.districts)
        results = engine.apply_all(SqlStore(session), ctx, ops)
    return {"protocol": 1, "server_time": received_at, "clock_skew_s": ctx.skew_s, "results": results}


def dump_report(report: Report) -> dict:
    pending = repo.missing_attachments((p["sha256"] for p in report.photos), report.author_id)
    return write_report(report, pending)


def dump_reports(reports: list[Report]) -> list[dict]:
    """Many reports, with one query for all their missing photos (a pull page, a case)."""
    pending = repo.missing_photos((r.author_id, p["sha256"]) for r in reports for p in r.photos)
    return [write_report(r, {p["sha256"] for p in r.photos if (r.author_id, p["sha256"]) in pending})
            for r in reports]


def quarantine(user: User, page) -> tuple[list, int]:
    """Quarantined ops the caller may see: their own; a head's, their district's inspectors'."""
    if user.citywide:
        return repo.quarantine_page(None, None, page.offset, page.limit)
    if user.role == "district_head":
        return repo.quarantine_page(user.districts, None, page.offset, page.limit)
    return repo.quarantine_page(None, user.id, page.offset, page.limit)
