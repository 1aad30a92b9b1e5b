"""The change feed: one row per committed change to a synced record, in commit order.

Two kinds of lock, both transaction-scoped PostgreSQL advisory locks:

- **The feed lock.** A transaction that took sequence number 41 can commit after one that
  took 42; a puller that saw 42 and moved its cursor past it would never see 41. So the
  feed's rows are not written when a change is made: `record` keeps them with the session,
  and just before the commit (`_write_pending`, a `before_commit` hook) they are written
  under one advisory lock held to the commit. Sequence numbers are therefore handed out in
  commit order, and `seq > cursor` never skips a row. The lock is held only for that
  INSERT and the commit, and it is the last lock the transaction takes: whoever holds it
  waits for nothing else, so it cannot be part of a deadlock.
- **The district locks** (`lock`), taken at the start of a writing transaction, before it
  reads what its writes depend on. They keep what one write must not interleave with:
  the same push sent twice at once, two reports opening the same violation case, a report
  edited by its inspector and their head. A write confined to some districts (a push, a
  round) takes those districts' locks, in ascending order, and the citywide lock in shared
  mode; a citywide write (the hours, an office import, a correction that may move an
  office) takes the citywide lock exclusively. Pushes of different districts therefore
  run side by side, where one lock over all writers made them take turns (README "Load
  and faults").

On SQLite every write transaction already holds the database's write lock from its start
(BEGIN IMMEDIATE, app.database), which gives both orders; the rows are still written at the
commit, so the code is one.

A savepoint rolled back takes the rows it recorded with it (`_mark`, `_forget`).
"""

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.database import utcnow
from app.extensions import db
from app.models import Change

FEED_LOCK_KEY = 0x62617a726573  # "bazres"; one bigint key, a space apart from the pairs below
DISTRICT_LOCKS = 0x627a  # the first of two int keys; the second is the district, 0 the city

_PENDING = "bazres.changefeed.pending"
_MARKS = "bazres.changefeed.marks"


def lock(districts: Iterable[int] | None) -> None:
    """Take, for this transaction, the write locks of these districts, or of the whole city
    when None. Call first thing in a writing transaction."""
    session = db.session
    if session.get_bind().dialect.name != "postgresql":
        return
    take = "SELECT pg_advisory_xact_lock(:space, :key)"
    if districts is None:
        session.execute(sa.text(take), {"space": DISTRICT_LOCKS, "key": 0})
        return
    session.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:space, 0)"), {"space": DISTRICT_LOCKS})
    for district in sorted(set(districts)):
        session.execute(sa.text(take), {"space": DISTRICT_LOCKS, "key": district})


def record(entity: str, entity_id, *, district: int | None = None, user_id: int | None = None,
           deleted: bool = False) -> None:
    """A change to a synced record, written to the feed when the transaction commits."""
    record_many([{"entity": entity, "entity_id": str(entity_id), "district": district, "user_id": user_id,
                  "deleted": deleted, "at": utcnow()}])


def record_many(rows: list[dict]) -> None:
    """Changes as plain rows (entity, entity_id, district, user_id, deleted, at)."""
    db.session().info.setdefault(_PENDING, []).extend(rows)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.get(_PENDING)
    if not pending or session.in_nested_transaction():
        return
    session.flush()  # every other write first: once the feed lock is taken, nothing is waited for
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY})
    session.execute(Change.__table__.insert(), pending)
    pending.clear()


@event.listens_for(Session, "after_transaction_create")
def _mark(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[transaction] = len(session.info.get(_PENDING, ()))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if previous_transaction.nested:
        del pending[session.info.get(_MARKS, {}).get(previous_transaction, 0):]
    elif previous_transaction.parent is None:
        pending.clear()
    # else a flush's own sub-transaction: its savepoint or root is rolled back in turn


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.get(_MARKS, {}).pop(transaction, None)
    elif transaction.parent is None:
        session.info.pop(_PENDING, None)  # committed, rolled back or closed: nothing carries over
