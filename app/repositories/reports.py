"""Queries on reports."""

import uuid
from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.hours.rules import DateSpan
from app.models import Report
from app.repositories import cases as case_repo
from app.violations.judge import CLOSED_STATES

# Judging


def list_to_rejudge(spans: list[DateSpan], statuses: Collection[str],
                    closures_within: list[tuple[datetime, datetime]]) -> list[Report]:
    """The live reports of the cases in `statuses` on the spans' days, and the closures in no
    case whose evidence time falls within one of `closures_within` ([first, last] instants)."""
    in_cases = case_repo.ids_on_spans(spans, statuses)
    within = sa.or_(sa.false(), *(Report.evidence_time.between(first, last) for first, last in closures_within))
    return list(db.session.scalars(sa.select(Report).where(Report.deleted_at.is_(None), sa.or_(
        Report.violation_id.in_(in_cases),
        sa.and_(Report.violation_id.is_(None), Report.office_state.in_(CLOSED_STATES), within)))))


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
