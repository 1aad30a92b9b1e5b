"""Queries on reports, their versions, the op ledger, conflicts, quarantine and attachments."""

import uuid
from collections.abc import Collection, Iterable

import sqlalchemy as sa

from app.extensions import db
from app.models import (AttachmentSender, LedgerEntry, OfficeCorrection, QuarantinedOp, Report, ReportVersion,
                        RoundStop, SyncConflict, UserDistrict)


def ledger_entry(op_id: uuid.UUID) -> LedgerEntry | None:
    return db.session.get(LedgerEntry, op_id)


def add(row):
    db.session.add(row)
    return row


def get_report(report_id: uuid.UUID) -> Report | None:
    return db.session.get(Report, report_id)


def lock_report(report_id: uuid.UUID) -> Report | None:
    """The report, row-locked until the transaction ends, so that two pushes to one report
    merge one after the other instead of both from the same base (PostgreSQL; SQLite's
    write transactions are already serial)."""
    return db.session.scalar(
        sa.select(Report).where(Report.id == report_id).with_for_update().execution_options(populate_existing=True)
    )


def report_version_at_most(report_id: uuid.UUID, version: int) -> ReportVersion | None:
    """The latest kept version of a report that is not after `version`."""
    return db.session.scalar(sa.select(ReportVersion).where(ReportVersion.report_id == report_id,
                                                            ReportVersion.version <= version)
                             .order_by(ReportVersion.version.desc()).limit(1))


def round_stops(round_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[tuple[uuid.UUID, str]]]:
    """For each of these rounds that exists, its (office, Jalali day) stops."""
    out: dict = {round_id: set() for round_id in round_ids}
    if round_ids:
        query = sa.select(RoundStop.round_id, RoundStop.office_id, RoundStop.jalali_date).where(
            RoundStop.round_id.in_(list(round_ids)))
        for round_id, office_id, day in db.session.execute(query):
            out[round_id].add((office_id, day))
    return out


def reports_by_ids(ids: Collection[uuid.UUID]) -> list[Report]:
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Report).where(Report.id.in_(list(ids)))))


def missing_attachments(shas: Iterable[str], author_id: int) -> set[str]:
    """Which of these sha256s the author has not sent themself. A hash is a name, not a
    proof (DESIGN §5.5): a photo someone else stored is still missing from this author."""
    return {sha for _, sha in missing_photos((author_id, sha) for sha in shas)}


def missing_photos(photos: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (author_id, sha256) pairs the author has not sent: the reports of many authors
    (a case, a pull page) in one query."""
    photos = set(photos)
    if not photos:
        return set()
    sent = db.session.execute(sa.select(AttachmentSender.user_id, AttachmentSender.sha256).where(
        AttachmentSender.sha256.in_(sorted({sha for _, sha in photos})),
        AttachmentSender.user_id.in_(sorted({author for author, _ in photos}))))
    return photos - {(author, sha) for author, sha in sent}


def existing_op_ids(op_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    if not op_ids:
        return set()
    return set(db.session.scalars(sa.select(LedgerEntry.op_id).where(LedgerEntry.op_id.in_(list(op_ids)))))


def existing_report_ids(report_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    if not report_ids:
        return set()
    return set(db.session.scalars(sa.select(Report.id).where(Report.id.in_(list(report_ids)))))


def flush() -> None:
    """Send the session's pending ORM changes, for Core statements that refer to them."""
    db.session.flush()


def insert_many(model, rows: list[dict]) -> None:
    """Plain rows (every one with the same keys) in one executemany of a Core INSERT on the
    model's table, in the session's transaction. Core, not the ORM's bulk insert: that
    sorts and checks every row against the mapper first, which costs more than the INSERT.
    The column types still bind each value: UTC instants, JSON, and geometries through
    GeoAlchemy2's bind expression (`ST_GeomFromEWKT`)."""
    if rows:
        db.session.execute(model.__table__.insert(), rows)


def get_correction(correction_id: uuid.UUID) -> OfficeCorrection | None:
    return db.session.get(OfficeCorrection, correction_id)


def conflicts_of(report_id: uuid.UUID) -> list[SyncConflict]:
    return list(db.session.scalars(
        sa.select(SyncConflict).where(SyncConflict.report_id == report_id).order_by(SyncConflict.id)))


def quarantine_page(districts: Collection[int] | None, author_id: int | None, offset: int,
                    limit: int):
    """Quarantined ops: of one author, or of the authors assigned to some districts, or all."""
    query = sa.select(QuarantinedOp)
    if author_id is not None:
        query = query.where(QuarantinedOp.user_id == author_id)
    elif districts is not None:
        authors = sa.select(UserDistrict.user_id).where(UserDistrict.district.in_(sorted(districts)))
        query = query.where(QuarantinedOp.user_id.in_(authors))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(QuarantinedOp.id.desc()).offset(offset).limit(limit))
    return list(rows), total
