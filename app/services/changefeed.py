"""The change feed: one row per committed change to a synced record, in commit order.

Two kinds of lock, both transaction-scoped PostgreSQL advisory locks:

- **The feed lock.** A transaction that took sequence number 41 can commit after one that
  took 42; a puller that saw 42 and moved its cursor past it would never see 41. So the
  feed's rows are not written when a change is made: `record` keeps them with the session,
  and just before the commit (a `before_commit` hook, app.repositories.changes) they are
  written under one advisory lock held to the commit. Sequence numbers are therefore
  handed out in commit order, and `seq > cursor` never skips a row. The lock is held only
  for that INSERT and the commit, and it is the last lock the transaction takes: whoever
  holds it waits for nothing else, so it cannot be part of a deadlock.
- **The district locks** (`lock`), taken at the start of a writing transaction, before it
  reads what its writes depend on. They keep what one write must not interleave with:
  the same push sent twice at once, two reports opening the same violation case, a report
  edited by its inspector and their head. A write confined to some districts (a push, a
  round) takes those districts' locks, in ascending order, and the citywide lock in shared
  mode; a citywide write (the hours, an office import, a correction that may move an
  office) takes the citywide lock exclusively. Pushes of different districts therefore
  run side by side, where one lock over all writers made them take turns (bench/HISTORY.md,
  "Pushes took turns").

On SQLite every write transaction already holds the database's write lock from its start
(BEGIN IMMEDIATE, app.database), which gives both orders; the rows are still written at the
commit, so the code is one.

A savepoint rolled back takes the rows it recorded with it (`_mark`, `_forget`). The SQL
of the locks and of the rows, and those hooks, are in app.repositories.changes.
"""

from collections.abc import Iterable

from app.database import utcnow
from app.repositories import changes as repo


def lock(districts: Iterable[int] | None) -> None:
    """Take, for this transaction, the write locks of these districts, or of the whole city
    when None. Call first thing in a writing transaction."""
    repo.lock_districts(districts)


def record(entity: str, entity_id, *, district: int | None = None, user_id: int | None = None,
           deleted: bool = False, version: int | None = None) -> None:
    """A change to a synced record, written to the feed when the transaction commits (a
    report's with the version it made: WatermelonDB's merge base is a report as of a position)."""
    record_many([{"entity": entity, "entity_id": str(entity_id), "district": district, "user_id": user_id,
                  "deleted": deleted, "at": utcnow(), "version": version}])


def record_many(rows: list[dict]) -> None:
    """Changes as plain rows (entity, entity_id, district, user_id, deleted, at, and version for a report)."""
    repo.add_many(rows)
