"""The change feed: one row per committed change to a synced record, in commit order.

Why a lock: on PostgreSQL a transaction that took sequence number 41 can commit after one
that took 42; a puller that saw 42 and moved its cursor past it would never see 41. So
every transaction that writes to the feed first takes one transaction-scoped advisory lock
and holds it to its commit: feed writers commit one after another, sequence numbers are
handed out in commit order, and `seq > cursor` never skips a row. The lock is taken at
the start of the writing transaction, before any row lock, so it cannot deadlock with them.
On SQLite every write transaction already holds the database's write lock (BEGIN
IMMEDIATE, app.database), which gives the same order.

The cost is that feed writers do not run in parallel; DESIGN §11's nationwide scale would
shard this lock by district (the pull is per scope), a change confined to this module.
"""

import sqlalchemy as sa

from app.extensions import db
from app.models import Change

FEED_LOCK_KEY = 0x62617a726573  # "bazres"


def lock() -> None:
    """Take the feed lock for this transaction (call before writing anything that syncs)."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY})


def record(entity: str, entity_id, *, district: int | None = None, user_id: int | None = None,
           deleted: bool = False) -> None:
    db.session.add(Change(entity=entity, entity_id=str(entity_id), district=district, user_id=user_id,
                          deleted=deleted))
