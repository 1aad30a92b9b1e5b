"""Queries on rounds and their stops."""

import uuid
from collections.abc import Collection

import sqlalchemy as sa

from app.extensions import db
from app.models import Round, RoundStop

# Pull


def get_many(round_ids: Collection[uuid.UUID]) -> list[Round]:
    if not round_ids:
        return []
    return list(db.session.scalars(sa.select(Round).where(Round.id.in_(list(round_ids)))))


def round_stops(round_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[tuple[uuid.UUID, str]]]:
    """For each of these rounds that exists, its (office, Jalali day) stops (a pushed
    report's round must have one at its office on its day)."""
    out: dict = {round_id: set() for round_id in round_ids}
    if round_ids:
        query = sa.select(RoundStop.round_id, RoundStop.office_id, RoundStop.jalali_date).where(
            RoundStop.round_id.in_(list(round_ids)))
        for round_id, office_id, day in db.session.execute(query):
            out[round_id].add((office_id, day))
    return out
