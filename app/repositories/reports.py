"""Queries on reports."""

import uuid
from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Report

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
