"""Queries on the platform's activity (DESIGN §10b): counts per office and minute, the
batches taken in."""

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import ActivityBatch, ActivityCount, Office

COUNTS = ActivityCount.__table__


def office_ids_by_code() -> dict[str, uuid.UUID]:
    return dict(db.session.execute(sa.select(Office.code, Office.id)).all())


def get_batch(source: str, batch_id: str) -> ActivityBatch | None:
    return db.session.get(ActivityBatch, (source, batch_id))


def insert_batch(row: dict) -> None:
    """The batch's key first: a second transaction taking in the same batch waits here for
    the first, then fails on the key (its counts are never added)."""
    db.session.execute(ActivityBatch.__table__.insert(), [row])


def add_counts(counted: dict) -> None:
    """Add {(office_id, minute): count} to what is counted, in one statement: a batch of
    thousands of minutes bound row by row through the column types cost more than the
    upsert itself, so the values go in the form each database keeps them."""
    if not counted:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        offices, minutes, numbers = zip(*((office, minute, count) for (office, minute), count in counted.items()))
        db.session.execute(sa.text(
            "INSERT INTO activity_counts (office_id, minute, count) "
            "SELECT * FROM unnest(CAST(:offices AS uuid[]), CAST(:minutes AS timestamptz[]), CAST(:counts AS int[])) "
            "ON CONFLICT (office_id, minute) DO UPDATE SET count = activity_counts.count + EXCLUDED.count"),
            {"offices": list(offices), "minutes": list(minutes), "counts": list(numbers)})
        return
    # SQLite keeps a Uuid as 32 hex digits and an instant as UTC text (app.database.UTCDateTime).
    db.session.connection().exec_driver_sql(
        "INSERT INTO activity_counts (office_id, minute, count) VALUES (?, ?, ?) "
        "ON CONFLICT (office_id, minute) DO UPDATE SET count = activity_counts.count + excluded.count",
        [(office.hex, minute.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.000000"), count)
         for (office, minute), count in counted.items()])


def counts(office_ids: Collection[uuid.UUID], start: datetime, end: datetime) -> list[tuple]:
    """(office_id, minute, count) of these offices in [start, end), in order."""
    if not office_ids:
        return []
    return list(db.session.execute(
        sa.select(COUNTS.c.office_id, COUNTS.c.minute, COUNTS.c["count"])
        .where(COUNTS.c.office_id.in_(list(office_ids)), COUNTS.c.minute >= start, COUNTS.c.minute < end)
        .order_by(COUNTS.c.office_id, COUNTS.c.minute)))


def delete_before(counts_before: datetime, batches_before: datetime) -> tuple[int, int]:
    """Drop counts and batch keys older than the retention (rows deleted of each)."""
    gone_counts = db.session.execute(sa.delete(ActivityCount).where(ActivityCount.minute < counts_before)).rowcount
    gone_batches = db.session.execute(
        sa.delete(ActivityBatch).where(ActivityBatch.received_at < batches_before)).rowcount
    return gone_counts, gone_batches
