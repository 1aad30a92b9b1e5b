"""Queries on the change feed: its advisory locks, its rows (written at each commit) and a pull's page.

Why the rows wait for the commit and the locks are taken in this order: app.services.changefeed.
"""

import weakref
from collections.abc import Collection, Iterable
from functools import partial

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db
from app.models import Change
from app.repositories import bulk

FEED_LOCK_KEY = 0x62617a726573  # "bazres"; one bigint key, a space apart from the pairs below
DISTRICT_LOCKS = 0x627a  # the first of two int keys; the second is the district, 0 the city
# Records whose feed rows carry the district they are in, and records every puller sees.
DISTRICT_SCOPED = ("offices", "districts", "rounds")
CITYWIDE = ("hours_rules", "holidays")

_PENDING = "bazres.changefeed.pending"
_MARKS = "bazres.changefeed.marks"


def lock_districts(districts: Iterable[int] | None) -> None:
    """The write locks of these districts, in ascending order after the city's in shared
    mode, or the city's exclusively when None, held to the end of the transaction
    (PostgreSQL; SQLite's write transactions are already serial)."""
    session = db.session
    if session.get_bind().dialect.name != "postgresql":
        return
    if districts is None:
        session.execute(_TAKE, {"space": DISTRICT_LOCKS, "key": 0})
        return
    session.execute(_TAKE_SHARED, {"space": DISTRICT_LOCKS})
    for district in sorted(set(districts)):
        session.execute(_TAKE, {"space": DISTRICT_LOCKS, "key": district})


_TAKE = sa.text("SELECT pg_advisory_xact_lock(:space, :key)")
_TAKE_SHARED = sa.text("SELECT pg_advisory_xact_lock_shared(:space, 0)")


def add_many(rows: list[dict]) -> None:
    """Feed rows (entity, entity_id, district, user_id, deleted, at; version for a report),
    kept with the session and written when its transaction commits (`_write_pending`)."""
    db.session().info.setdefault(_PENDING, []).extend({"version": None} | row for row in rows)


def list_after(after: int, limit: int, districts: Collection[int] | None, author_id: int | None) -> list[sa.Row]:
    """Up to `limit` feed rows after sequence number `after`, in sequence order, of the
    records one may see: all (`districts` None); else the district-scoped records of these
    districts, the citywide ones, and the reports of these districts or, given
    `author_id`, that author's. Plain rows of (seq, entity, entity_id, deleted), read only:
    a pull page is thousands, and an ORM object each cost more than the query. Read on the
    session's connection: pending ORM changes are not flushed first (a pull writes none)."""
    statement = _LIST_AFTER[_scope(districts, author_id)]()
    values = _scope_values(districts, author_id) | {"after": after, "limit": limit}
    return db.session.connection().execute(statement, values).all()


def latest_after(after: int, districts: Collection[int] | None, author_id: int | None) -> list:
    """The latest feed row after `after` of each record one may see (as `list_after`), in
    sequence order: (seq, entity, entity_id, deleted)."""
    statement = _LATEST_AFTER[_scope(districts, author_id)]()
    return list(db.session.connection().execute(statement, _scope_values(districts, author_id) | {"after": after}))


# What one may see of the feed, three ways: everything; a district head's (the reports of
# their districts); an inspector's (their own reports). The statements are built once each
# (bulk.Prebuilt), the districts, author and position bound at each pull.
_SCOPES = ("all", "districts", "author")


def _scope(districts: Collection[int] | None, author_id: int | None) -> str:
    return "all" if districts is None else "author" if author_id is not None else "districts"


def _scope_values(districts: Collection[int] | None, author_id: int | None) -> dict:
    return {} if districts is None else {"districts": sorted(districts), "author_id": author_id}


def _visible(scope: str, dialect: str):
    if scope == "all":
        return sa.true()
    districts = bulk.any_of(Change.district, "districts", dialect)
    reports = Change.user_id == sa.bindparam("author_id") if scope == "author" else districts
    return sa.or_(
        sa.and_(Change.entity.in_(DISTRICT_SCOPED), districts),
        Change.entity.in_(CITYWIDE),
        sa.and_(Change.entity == "reports", reports),
    )


def _list_after(scope: str, dialect: str) -> sa.Select:
    return (sa.select(Change.seq, Change.entity, Change.entity_id, Change.deleted)
            .where(Change.seq > sa.bindparam("after"), _visible(scope, dialect))
            .order_by(Change.seq).limit(sa.bindparam("limit", type_=sa.Integer)))


def _latest_after(scope: str, dialect: str) -> sa.Select:
    latest = (sa.select(sa.func.max(Change.seq).label("seq"))
              .where(Change.seq > sa.bindparam("after"), _visible(scope, dialect))
              .group_by(Change.entity, Change.entity_id).subquery())
    return (sa.select(Change.seq, Change.entity, Change.entity_id, Change.deleted)
            .join(latest, Change.seq == latest.c.seq).order_by(Change.seq))


_LIST_AFTER = {scope: bulk.Prebuilt(partial(_list_after, scope)) for scope in _SCOPES}
_LATEST_AFTER = {scope: bulk.Prebuilt(partial(_latest_after, scope)) for scope in _SCOPES}


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.get(_PENDING)
    if not pending or session.in_nested_transaction():
        return
    session.flush()  # every other write first: once the feed lock is taken, nothing is waited for
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY})
    bulk.insert_many(Change, pending)
    pending.clear()


# A savepoint rolled back takes the rows it kept with it.


@event.listens_for(Session, "after_transaction_create")
def _mark(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        # Weakly held: a savepoint's end is signalled before its rollback is (SQLAlchemy's
        # order), so its mark must outlive the end and go with the transaction object.
        marks = session.info.setdefault(_MARKS, weakref.WeakKeyDictionary())
        marks[transaction] = len(session.info.get(_PENDING, ()))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if previous_transaction.nested:
        mark = session.info.get(_MARKS, {}).get(previous_transaction)
        if mark is not None:  # (unknown, the rows stay: a row too many is harmless, one lost never comes back)
            del pending[mark:]
    elif previous_transaction.parent is None:
        pending.clear()
    # else a flush's own sub-transaction: its savepoint or root is rolled back in turn


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)  # committed, rolled back or closed: nothing carries over
        session.info.pop(_MARKS, None)
