"""Queries on the platform's activity (DESIGN §10b): counts per office and minute, the
batches taken in."""

import time
import uuid
from collections.abc import Collection
from datetime import datetime
from itertools import groupby
from operator import itemgetter

import sqlalchemy as sa

from app.extensions import db
from app.repositories import bulk
from app.models import ActivityBatch, ActivityCount, ActivityHour, ActivitySource, Office, OfficeSource, SignalDay

COUNTS = ActivityCount.__table__
CAPS = {"activity_counts": 100_000, "activity_hours": 60 * 100_000}  # a minute's and an hour's most
HOURS = ActivityHour.__table__


def office_ids_by_code() -> dict[str, uuid.UUID]:
    return dict(db.session.execute(sa.select(Office.code, Office.id)).all())


def get_batch(source: str, batch_id: str) -> ActivityBatch | None:
    return db.session.get(ActivityBatch, (source, batch_id))


def insert_batch(row: dict) -> None:
    """The batch's key first: a second transaction taking in the same batch waits here for
    the first, then fails on the key (its counts are never added)."""
    db.session.execute(ActivityBatch.__table__.insert(), [row])


def add_counts(counted: dict[tuple[uuid.UUID, int], int], table: str = "activity_counts", column: str = "minute",
               replace: bool = False) -> None:
    """Add {(office_id, minute as seconds since the epoch): count} to what is counted (per
    minute, or per hour with `table="activity_hours", column="hour"`), in one statement; with
    `replace`, the counts are written as given instead of added. A batch of thousands of rows
    bound row by row through the column types cost more than the upsert itself, so the values
    go in the form each database reads fastest."""
    if table not in CAPS:  # the table's and column's names are written into the SQL
        raise ValueError(f"not a table of counts: {table!r}")
    if not counted:
        return
    postgres = db.session.get_bind().dialect.name == "postgresql"
    # A total is held to what an office can serve (and a 32-bit column can keep): the feed
    # adding to one minute batch after batch must never overflow it.
    least = "LEAST" if postgres else "min"
    kept = "EXCLUDED.count" if replace else f"{least}({table}.count + EXCLUDED.count, {CAPS[table]})"
    if postgres:
        # psycopg dumps a list parameter element by element in Python (a UUID, an aware
        # datetime: a third of a batch's time); numbers joined into one text PostgreSQL splits
        # in C, and each office's id sent once, cost a fraction of it. The rows go in key
        # order, sorted by PostgreSQL: two batches adding to the same rows take their locks
        # in one order (no deadlock).
        offices: dict[uuid.UUID, int] = {}
        places, seconds, numbers = [], [], []
        for (office, at), count in counted.items():
            places.append(offices.setdefault(office, len(offices) + 1))
            seconds.append(at)
            numbers.append(count)
        db.session.execute(sa.text(
            f"INSERT INTO {table} (office_id, {column}, count) "
            "SELECT (CAST(:offices AS uuid[]))[place], to_timestamp(second), number "
            "FROM unnest(CAST(string_to_array(:places, ',') AS int[]), "
            "CAST(string_to_array(:seconds, ',') AS bigint[]), "
            "CAST(string_to_array(:numbers, ',') AS int[])) AS given (place, second, number) ORDER BY 1, 2 "
            f"ON CONFLICT (office_id, {column}) DO UPDATE SET count = {kept}"),
            {"offices": list(offices), "places": _joined(places), "seconds": _joined(seconds),
             "numbers": _joined(numbers)})
        return
    # SQLite keeps a Uuid as 32 hex digits and an instant as UTC text (app.database.UTCDateTime);
    # its writers take turns on the whole database, so the rows' order cannot deadlock.
    db.session.connection().exec_driver_sql(
        f"INSERT INTO {table} (office_id, {column}, count) VALUES (?, ?, ?) "
        f"ON CONFLICT (office_id, {column}) DO UPDATE SET count = {kept}",
        [(office.hex, time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime(at)), count)
         for (office, at), count in counted.items()])


def _joined(numbers: list[int]) -> str:
    return ",".join(map(str, numbers))


def add_hours(counted: dict[tuple[uuid.UUID, int], int]) -> None:
    add_counts(counted, "activity_hours", "hour")


def put_hours(counted: dict[tuple[uuid.UUID, int], int]) -> None:
    """Write {(office_id, Tehran hour's start as seconds since the epoch): count} as given,
    over what an hour held: the demo's history (app/services/seed.py), which writing again
    must not count twice."""
    add_counts(counted, "activity_hours", "hour", replace=True)


def touch_days(days: Collection[str]) -> None:
    """The activity of these Jalali days changed: their signals are to be worked out again.
    Taken first in an intake's transaction, so batches of one day follow each other."""
    for day in sorted(days):
        updated = db.session.execute(sa.update(SignalDay).where(SignalDay.day == day)
                                     .values(activity_seq=SignalDay.activity_seq + 1)).rowcount
        if not updated:
            db.session.execute(_insert_day_or_bump(day))


def _insert_day_or_bump(day: str):
    table = SignalDay.__table__
    statement = bulk.insert(table).values(day=day, activity_seq=1)
    return statement.on_conflict_do_update(index_elements=[table.c.day],
                                           set_={"activity_seq": table.c.activity_seq + 1})


def _upsert(table, rows: list[dict], keys: list[str], column: str, where) -> None:
    """Insert the rows, or set `column` of those already there where `where(old, new)` holds
    (a row that would not change is not rewritten: no new row version; PostgreSQL still
    locks it, so the rows go in key order).
    One statement sent for every row (psycopg pipelines them): a statement of many VALUES
    would be compiled anew for each number of rows."""
    statement = bulk.insert(table)
    new = statement.excluded
    db.session.execute(statement.on_conflict_do_update(index_elements=keys, set_={column: new[column]},
                                                       where=where(table.c[column], new[column])), rows)


def note_sources(source: str, last_minutes: dict[str, datetime], offices: Collection[uuid.UUID]) -> None:
    """The source has reported these Jalali days up to these minutes, and covers these offices."""
    if last_minutes:
        _upsert(ActivitySource.__table__,
                [{"source": source, "day": day, "last_minute": at} for day, at in sorted(last_minutes.items())],
                ["source", "day"], "last_minute", lambda old, new: old < new)
    if not offices:
        return
    if db.session.get_bind().dialect.name == "postgresql":  # the ids as one array: a third of the time
        db.session.execute(sa.text(
            "INSERT INTO office_sources (office_id, source) SELECT unnest(CAST(:offices AS uuid[])), :source "
            "ORDER BY 1 ON CONFLICT (office_id) DO UPDATE SET source = EXCLUDED.source "
            "WHERE office_sources.source <> EXCLUDED.source"), {"offices": list(offices), "source": source})
    else:
        _upsert(OfficeSource.__table__, [{"office_id": o, "source": source} for o in sorted(offices)],
                ["office_id"], "source", lambda old, new: old != new)


def sources_of_day(day: str) -> dict[str, datetime]:
    """{source: its last reported minute} of a Jalali day."""
    return dict(db.session.execute(sa.select(ActivitySource.source, ActivitySource.last_minute)
                                   .where(ActivitySource.day == day)).all())


def office_sources() -> dict[uuid.UUID, str]:
    return dict(db.session.execute(sa.select(OfficeSource.office_id, OfficeSource.source)).all())


def hour_totals(office_ids: Collection[uuid.UUID] | None, spans: list[tuple[datetime, datetime]]) -> list[tuple]:
    """(office_id, hour as seconds since the epoch, count) in any of these [start, end) spans,
    of these offices (or all). A nationwide history is hundreds of thousands of rows: the hour
    comes as a number, not an aware datetime, and each office's id is made a UUID once."""
    if not spans:
        return []
    seconds = sa.cast(sa.extract("epoch", HOURS.c.hour), sa.BigInteger)
    query = sa.select(_as_text(HOURS.c.office_id), seconds, HOURS.c["count"]).where(
        sa.or_(*(sa.and_(HOURS.c.hour >= start, HOURS.c.hour < end) for start, end in spans)))
    if office_ids is not None:
        query = query.where(HOURS.c.office_id.in_(list(office_ids)))
    ids: dict = {}
    return [(ids.get(office_id) or ids.setdefault(office_id, uuid.UUID(office_id)), hour, count)
            for office_id, hour, count in db.session.execute(query)]


def counts_by_office(office_ids: Collection[uuid.UUID], start: datetime, end: datetime, chunk: int = 2_000):
    """(office_id, [(minute as seconds since the epoch, count), …] in order) for each of these
    offices with any count in [start, end), one office at a time, read as a stream (a
    nationwide day is millions of rows).

    Read through the primary key, office by office: counts are kept a year, and a day's range
    on `minute` alone would read them all. The minute comes as a number, not an aware
    datetime, and the id as text made a UUID once per office: both made for every row cost
    more than reading it."""
    seconds = sa.cast(sa.extract("epoch", COUNTS.c.minute), sa.BigInteger)
    ids = sorted(office_ids)
    for at in range(0, len(ids), chunk):  # a bounded IN list (SQLite's limit on parameters)
        rows = db.session.execute(
            sa.select(_as_text(COUNTS.c.office_id), seconds, COUNTS.c["count"])
            .where(COUNTS.c.office_id.in_(ids[at:at + chunk]), COUNTS.c.minute >= start, COUNTS.c.minute < end)
            .order_by(COUNTS.c.office_id, COUNTS.c.minute).execution_options(yield_per=20_000))
        for office_id, group in groupby(rows, key=itemgetter(0)):
            yield uuid.UUID(office_id), [(minute, count) for _, minute, count in group]


def _as_text(column):
    """An id column read as text (SQLite: its 32 hex digits; PostgreSQL: the canonical form),
    to be made a UUID once per office: psycopg and the Uuid type make one for every row, in
    Python, three times the cost of reading the row."""
    return sa.cast(column, sa.String)


def served_hours(office_id: uuid.UUID, days: list[tuple[datetime, datetime]]) -> list[datetime]:
    """The hours (their start) in these [start, end) spans in which the office served at all."""
    if not days:
        return []
    return list(db.session.scalars(sa.select(HOURS.c.hour).where(
        HOURS.c.office_id == office_id, HOURS.c["count"] > 0,
        sa.or_(*(sa.and_(HOURS.c.hour >= start, HOURS.c.hour < end) for start, end in days)))))


def office_span_totals(office_id: uuid.UUID, spans: list[tuple[datetime, datetime, datetime, datetime]]) -> list:
    """For each (hours start, hours end, span start, span end): (the office's transactions in
    the span, whether any of its minutes in those hours are kept), in order; in one read."""
    if not spans:
        return []
    rows = db.session.execute(sa.select(COUNTS.c.minute, COUNTS.c["count"]).where(
        COUNTS.c.office_id == office_id,
        sa.or_(*(sa.and_(COUNTS.c.minute >= start, COUNTS.c.minute < end) for start, end, _, _ in spans))))
    answers = [[0, False] for _ in spans]
    for minute, count in rows:
        for answer, (start, end, in_from, in_to) in zip(answers, spans):
            if start <= minute < end:
                answer[1] = True
                answer[0] += count if in_from <= minute < in_to else 0
                break
    return [tuple(answer) for answer in answers]


def delete_before(counts_before: datetime, batches_before: datetime) -> tuple[int, int]:
    """Drop counts and batch keys older than the retention (rows deleted of each)."""
    gone_counts = db.session.execute(sa.delete(ActivityCount).where(ActivityCount.minute < counts_before)).rowcount
    db.session.execute(sa.delete(ActivityHour).where(ActivityHour.hour < counts_before))
    gone_batches = db.session.execute(
        sa.delete(ActivityBatch).where(ActivityBatch.received_at < batches_before)).rowcount
    return gone_counts, gone_batches
