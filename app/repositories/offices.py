"""Queries on offices."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Office
from app.repositories import bulk
from geo.sql import distance_m, point_param, within_m


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    within_m: float | None = None


def get(office_id: uuid.UUID) -> Office | None:
    return db.session.get(Office, office_id)


_GET_MANY = bulk.Prebuilt(lambda dialect: sa.select(Office).where(bulk.any_of(Office.id, "ids", dialect)))


def get_many(office_ids: Collection[uuid.UUID]) -> list[Office]:
    if not office_ids:
        return []
    return list(db.session.scalars(_GET_MANY(), {"ids": list(office_ids)}))


def get_by_code(code: str) -> Office | None:
    return db.session.scalar(sa.select(Office).where(Office.code == code))


def list_page(districts: Collection[int] | None, near: Near | None, offset: int, limit: int):
    """One page of offices, nearest first when `near` is given, with the total count.

    Distances and the radius are computed by the database on the ellipsoid.
    """
    distance = None
    query = sa.select(Office)
    if districts is not None:
        query = query.where(Office.district.in_(sorted(districts)))
    if near is not None:
        here = point_param(near.lon, near.lat)
        distance = distance_m(Office.location, here).label("distance_m")
        query = query.add_columns(distance)
        if near.within_m is not None:
            query = query.where(within_m(Office.location, here, near.within_m))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    order = [distance, Office.code] if distance is not None else [Office.district, Office.code]
    rows = db.session.execute(query.order_by(*order).offset(offset).limit(limit)).all()
    if distance is None:
        return [(row[0], None) for row in rows], total
    return [(row[0], row[1]) for row in rows], total


def by_codes(codes: Collection[str]) -> dict[str, Office]:
    if not codes:
        return {}
    rows = db.session.scalars(sa.select(Office).where(bulk.one_of(Office.code, codes)))
    return {office.code: office for office in rows}


def create(office: Office) -> Office:
    db.session.add(office)
    return office



def list_in_districts(districts: Collection[int]) -> list[Office]:
    """Every office of these districts, by district and code."""
    return list(db.session.scalars(sa.select(Office).where(Office.district.in_(sorted(districts)))
                                   .order_by(Office.district, Office.code)))
