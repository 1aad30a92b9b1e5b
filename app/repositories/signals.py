"""Queries on systemic monitoring's signals (DESIGN §10b): a day's signals and the keys they
were worked out from, their history, and what they are worked out from besides activity
(the offices, the day's field reports)."""

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.repositories import bulk
from app.models import Office, Report, Signal, SignalDay, SignalEvent

SIGNALS = Signal.__table__


def get_day(day: str) -> SignalDay | None:
    return db.session.get(SignalDay, day)


def activity_seq(day: str) -> int:
    return db.session.scalar(sa.select(SignalDay.activity_seq).where(SignalDay.day == day)) or 0


def lock_day(day: str) -> SignalDay:
    """The day's row, made if missing, locked until the transaction ends (one evaluation
    writes a day at a time)."""
    db.session.execute(bulk.insert(SignalDay.__table__).values(day=day, activity_seq=0).on_conflict_do_nothing())
    return db.session.scalars(sa.select(SignalDay).where(SignalDay.day == day)
                              .with_for_update().execution_options(populate_existing=True)).one()


def days_between(first: str, last: str) -> list[str]:
    """The days in [first, last] (Jalali text) the feed reported."""
    return list(db.session.scalars(sa.select(SignalDay.day).where(SignalDay.day >= first, SignalDay.day <= last,
                                                                 SignalDay.activity_seq > 0)
                                   .order_by(SignalDay.day)))


def offices() -> list[Office]:
    return list(db.session.scalars(sa.select(Office).order_by(Office.district, Office.code)))


def reports_between(start: datetime, end: datetime) -> list[tuple]:
    """(office_id, report id, evidence time, state, metres from the office) of the live reports
    in [start, end)."""
    return [tuple(row) for row in db.session.execute(
        sa.select(Report.office_id, Report.id, Report.evidence_time, Report.office_state, Report.distance_to_office_m)
        .where(Report.deleted_at.is_(None), Report.evidence_time >= start, Report.evidence_time < end))]


def signals_of_day(day: str, districts: Collection[int] | None, office_id: uuid.UUID | None) -> list[Signal]:
    query = sa.select(Signal).options(joinedload(Signal.office)).where(Signal.day == day)
    if districts is not None:
        query = query.where(Signal.district.in_(sorted(districts)))
    if office_id is not None:
        query = query.where(Signal.office_id == office_id)
    return list(db.session.scalars(query.order_by(Signal.district, Signal.office_id, Signal.window_start)))


def signal_rows(day: str) -> list[SimpleNamespace]:
    """The day's signals as plain rows (a namespace of the table's columns), in the order
    `signals_of_day` gives them, to be worked over and written back by `add_signals`,
    `update_signals` and `delete_signals`: a nationwide day is ten thousand rows, which the
    ORM's unit of work took seconds to load, track and flush."""
    return [SimpleNamespace(**row._mapping) for row in db.session.execute(
        sa.select(SIGNALS).where(SIGNALS.c.day == day)
        .order_by(SIGNALS.c.district, SIGNALS.c.office_id, SIGNALS.c.window_start))]


def new_signal_row(**values) -> SimpleNamespace:
    """A plain row not yet stored: every column of the table, None unless given."""
    return SimpleNamespace(**(dict.fromkeys(SIGNALS.columns.keys()) | values))


def add_signals(rows: list[SimpleNamespace]) -> None:
    if rows:
        db.session.execute(SIGNALS.insert(), [_values(row) for row in rows])


def update_signals(rows: list[SimpleNamespace]) -> None:
    """Every column of these stored rows written back, one executemany by id (the SET clause
    is the parameters' columns)."""
    if rows:
        db.session.execute(SIGNALS.update().where(SIGNALS.c.id == sa.bindparam("row_id")),
                           [{"row_id": row.id, **_values(row)} for row in rows])


def delete_signals(ids: list[int]) -> None:
    if ids:
        db.session.execute(sa.delete(SIGNALS).where(SIGNALS.c.id.in_(ids)))


def _values(row: SimpleNamespace) -> dict:
    return {name: getattr(row, name) for name in SIGNALS.columns.keys() if name != "id"}


def add_events(rows: list[dict]) -> None:
    if rows:
        db.session.execute(SignalEvent.__table__.insert(), rows)


def events_of(day: str, office_ids: Collection[uuid.UUID]) -> dict:
    """{(office_id, window start): [its events, in order]} of these offices on `day`."""
    if not office_ids:
        return {}
    found = defaultdict(list)
    for event in db.session.scalars(sa.select(SignalEvent).where(SignalEvent.day == day,
                                                                 bulk.one_of(SignalEvent.office_id, set(office_ids)))
                                    .order_by(SignalEvent.id)):
        found[(event.office_id, event.window_start)].append(event)
    return found
