"""Queries on office corrections proposed from the field."""

import uuid
from collections.abc import Collection

import sqlalchemy as sa

from app.extensions import db
from app.models import Office, OfficeCorrection


def get_correction(correction_id: uuid.UUID) -> OfficeCorrection | None:
    return db.session.get(OfficeCorrection, correction_id)


def list_page(districts: Collection[int] | None, status: str | None, offset: int, limit: int):
    """Corrections of offices in these districts (None: all), newest first, with the total."""
    query = sa.select(OfficeCorrection).join(Office, Office.id == OfficeCorrection.office_id)
    if districts is not None:
        query = query.where(Office.district.in_(sorted(districts)))
    if status:
        query = query.where(OfficeCorrection.status == status)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(OfficeCorrection.created_at.desc()).offset(offset).limit(limit))
    return list(rows), total


def add(correction: OfficeCorrection) -> OfficeCorrection:
    db.session.add(correction)
    return correction
