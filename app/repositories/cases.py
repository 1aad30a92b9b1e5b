"""Queries on violation cases."""

import uuid
from collections.abc import Collection

import sqlalchemy as sa

from app.extensions import db
from app.models import ViolationCase

# Visit lists


def statuses_up_to(office_ids: Collection[uuid.UUID], jalali_date: str,
                   statuses: Collection[str]) -> list[tuple[uuid.UUID, str, str]]:
    """(office, status, day) of these offices' cases in these statuses up to the day, oldest first."""
    if not office_ids:
        return []
    return [tuple(row) for row in db.session.execute(
        sa.select(ViolationCase.office_id, ViolationCase.status, ViolationCase.jalali_date)
        .where(ViolationCase.office_id.in_(office_ids), ViolationCase.jalali_date <= jalali_date,
               ViolationCase.status.in_(statuses))
        .order_by(ViolationCase.jalali_date))]
