"""Queries on reports, their kept versions and the conflicts stored with them."""

import uuid
from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.hours.rules import DateSpan
from app.models import Report, ReportVersion, SyncConflict
from app.repositories import bulk
from app.repositories import cases as case_repo
from app.violations.judge import CLOSED_STATES


def get_report(report_id: uuid.UUID) -> Report | None:
    return db.session.get(Report, report_id)


def lock_report(report_id: uuid.UUID) -> Report | None:
    """The report, row-locked until the transaction ends, so that two pushes to one report
    merge one after the other instead of both from the same base (PostgreSQL; SQLite's
    write transactions are already serial)."""
    return db.session.scalar(
        sa.select(Report).where(Report.id == report_id).with_for_update().execution_options(populate_existing=True)
    )


def reports_by_ids(ids: Collection[uuid.UUID]) -> list[Report]:
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Report).where(bulk.one_of(Report.id, ids))))


def report_rows(ids: Collection[uuid.UUID], columns: Collection[str]) -> list[sa.Row]:
    """These reports' `columns` as plain rows, each column an attribute as on a Report, for
    reading only (a pull page): a pull sends thousands, and building an ORM object for each
    (its state, its identity in the session), or converting columns no one reads, cost more
    than reading them."""
    if not ids:
        return []
    columns = tuple(columns)
    statement = _REPORT_ROWS.get(columns)
    if statement is None:
        table = Report.__table__
        statement = _REPORT_ROWS[columns] = bulk.Prebuilt(lambda dialect: sa.select(
            *(table.c[name] for name in columns)).where(bulk.any_of(table.c.id, "ids", dialect)))
    return db.session.connection().execute(statement(), {"ids": list(ids)}).all()


# report_rows' statements, by the columns asked for (a handful of fixed sets).
_REPORT_ROWS: dict[tuple, bulk.Prebuilt] = {}


_EXISTING_REPORT_IDS = bulk.Prebuilt(lambda dialect: sa.select(Report.id).where(
    bulk.any_of(Report.id, "ids", dialect)))


def existing_report_ids(report_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    if not report_ids:
        return set()
    return set(db.session.scalars(_EXISTING_REPORT_IDS(), {"ids": list(report_ids)}))


def add(row):
    """A new report, one of its versions or a conflict stored with it."""
    db.session.add(row)
    return row


def report_version_at_most(report_id: uuid.UUID, version: int) -> ReportVersion | None:
    """The latest kept version of a report that is not after `version`."""
    return db.session.scalar(sa.select(ReportVersion).where(ReportVersion.report_id == report_id,
                                                            ReportVersion.version <= version)
                             .order_by(ReportVersion.version.desc()).limit(1))


def conflicts_of(report_id: uuid.UUID) -> list[SyncConflict]:
    return list(db.session.scalars(
        sa.select(SyncConflict).where(SyncConflict.report_id == report_id).order_by(SyncConflict.id)))


# Judging


def list_to_rejudge(spans: list[DateSpan], statuses: Collection[str],
                    closures_within: list[tuple[datetime, datetime]]) -> list[Report]:
    """The live reports of the cases in `statuses` on the spans' days, and the closures in no
    case whose evidence time falls within one of `closures_within` ([first, last] instants);
    earliest evidence first (a case withdrawn is withdrawn with its first report's finding,
    whatever order the rows lie in on disk)."""
    in_cases = case_repo.ids_on_spans(spans, statuses)
    within = sa.or_(sa.false(), *(Report.evidence_time.between(first, last) for first, last in closures_within))
    return list(db.session.scalars(sa.select(Report).where(Report.deleted_at.is_(None), sa.or_(
        Report.violation_id.in_(in_cases),
        sa.and_(Report.violation_id.is_(None), Report.office_state.in_(CLOSED_STATES), within)))
        .order_by(Report.evidence_time, Report.id)))


def earliest_closure_time() -> datetime | None:
    """The evidence time of the earliest report that found an office closed (None: there is none)."""
    return db.session.scalar(sa.select(sa.func.min(Report.evidence_time)).where(Report.office_state.in_(CLOSED_STATES)))


def list_of_case(case_id: uuid.UUID, author_id: int | None = None) -> list[Report]:
    """A case's reports, earliest evidence first; with `author_id`, only that author's."""
    query = sa.select(Report).where(Report.violation_id == case_id).order_by(Report.evidence_time)
    if author_id is not None:
        query = query.where(Report.author_id == author_id)
    return list(db.session.scalars(query))


def count_by_case(case_ids: Collection[uuid.UUID]) -> dict:
    """How many reports each of these cases has (a case with none is left out)."""
    if not case_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Report.violation_id, sa.func.count()).where(Report.violation_id.in_(list(case_ids)))
        .group_by(Report.violation_id)).all())


# Visit lists


def latest_by_office(office_ids: Collection[uuid.UUID], since: datetime,
                     until: datetime) -> dict[uuid.UUID, tuple[uuid.UUID, datetime, str]]:
    """The latest live report per office in [since, until): (report id, evidence time, state)."""
    if not office_ids:
        return {}
    rows = db.session.execute(
        sa.select(Report.office_id, Report.id, Report.evidence_time, Report.office_state)
        .where(Report.office_id.in_(office_ids), Report.deleted_at.is_(None),
               Report.evidence_time >= since, Report.evidence_time < until)
        .order_by(Report.office_id, Report.evidence_time))
    return {office_id: (report_id, at, state) for office_id, report_id, at, state in rows}
