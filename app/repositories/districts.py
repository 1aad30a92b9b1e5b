"""Queries on districts."""

from collections.abc import Collection

import sqlalchemy as sa

from app.extensions import db
from app.models import District, Office
from geo.sql import distance_m, point_param


def get(number: int) -> District | None:
    # The column is a 32-bit INTEGER: a larger number names no district, and asking for it
    # would overflow the query parameter (a 500 where a 404 is due).
    if not -(2**31) <= number < 2**31:
        return None
    return db.session.get(District, number)


def get_many(numbers: Collection[int]) -> list[District]:
    if not numbers:
        return []
    return list(db.session.scalars(sa.select(District).where(District.number.in_(list(numbers)))))


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(District))


def list_with_office_counts(numbers: Collection[int] | None, offset: int = 0, limit: int | None = None):
    """(District, office count) pairs in district order, with the total before paging."""
    counts = (
        sa.select(Office.district, sa.func.count().label("n"))
        .group_by(Office.district)
        .subquery()
    )
    query = (
        sa.select(District, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.district == District.number)
        .order_by(District.number)
    )
    if numbers is not None:
        query = query.where(District.number.in_(sorted(numbers)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.offset(offset).limit(limit)).all()
    return [(d, n) for d, n in rows], total


def number_at(lon: float, lat: float) -> int | None:
    """The district whose polygon contains the point, asked of the database."""
    return db.session.scalar(
        sa.select(District.number)
        .where(sa.func.ST_Contains(District.geometry, point_param(lon, lat)))
        .order_by(District.number)
        .limit(1)
    )


def create(district: District) -> District:
    db.session.add(district)
    return district


def gap_m(lon: float, lat: float) -> float | None:
    """Metres from the point to the nearest district (0 inside one; None: no districts)."""
    return db.session.scalar(sa.select(sa.func.min(distance_m(District.geometry, point_param(lon, lat)))))
