"""Queries on rounds and their stops."""

import uuid
from collections.abc import Collection, Iterable

import sqlalchemy as sa

from app.extensions import db
from app.models import Office, Round, RoundStop
from app.repositories import bulk


def get(round_id: uuid.UUID) -> Round | None:
    return db.session.get(Round, round_id)


def lock(round_id: uuid.UUID) -> Round | None:
    """The round, row-locked until the transaction ends (PostgreSQL)."""
    return db.session.scalar(sa.select(Round).where(Round.id == round_id).with_for_update())


def list_page(*, inspector_id: int | None = None, districts: Collection[int] | None = None,
              district: int | None = None, jalali_date: str | None = None, offset: int = 0,
              limit: int | None = None) -> tuple[list[Round], int]:
    """One page of rounds, the latest day first, with the total count."""
    query = sa.select(Round)
    if inspector_id is not None:
        query = query.where(Round.inspector_id == inspector_id)
    if districts is not None:
        query = query.where(Round.district.in_(sorted(districts)))
    if district is not None:
        query = query.where(Round.district == district)
    if jalali_date is not None:
        query = query.where(Round.jalali_date == jalali_date)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Round.jalali_date.desc(), Round.district, Round.inspector_id)
                              .offset(offset).limit(limit))
    return list(rows), total


def list_on(jalali_date: str, district: int) -> list[Round]:
    return list(db.session.scalars(sa.select(Round).where(Round.jalali_date == jalali_date,
                                                          Round.district == district)))


def get_for(inspector_id: int, jalali_date: str) -> Round | None:
    """The inspector's round that day (one at most: a unique key)."""
    return db.session.scalar(sa.select(Round).where(Round.inspector_id == inspector_id,
                                                    Round.jalali_date == jalali_date))


def first_of(inspector_ids: Collection[int], jalali_date: str) -> Round | None:
    """A round that day of any of these inspectors."""
    return db.session.scalar(sa.select(Round).where(Round.jalali_date == jalali_date,
                                                    Round.inspector_id.in_(inspector_ids)))


def has_round(inspector_id: int, jalali_date: str) -> bool:
    return db.session.scalar(sa.select(Round.id).where(Round.jalali_date == jalali_date,
                                                       Round.inspector_id == inspector_id)) is not None


def lock_holding(round_: Round, office_ids: Collection[uuid.UUID]) -> list[Round]:
    """The other rounds of the same day that hold any of these offices, row-locked, in id
    order (two changes locking the same rounds take them in one order: no deadlock)."""
    holding = sa.select(RoundStop.round_id).where(RoundStop.jalali_date == round_.jalali_date,
                                                  RoundStop.office_id.in_(office_ids))
    return list(db.session.scalars(sa.select(Round).where(Round.id.in_(holding), Round.id != round_.id)
                                   .order_by(Round.id).with_for_update()))


def create(round_: Round) -> Round:
    db.session.add(round_)
    db.session.flush()
    return round_


def update_stops(round_: Round, stops: list[tuple[Office, int | None]]) -> None:
    """Replace the round's stops by these (office, ETA minute), in order."""
    # Deleted by SQL before the inserts: the ORM would insert first and trip the unique key.
    db.session.execute(sa.delete(RoundStop).where(RoundStop.round_id == round_.id))
    db.session.expire(round_, ["stops"])
    for seq, (office, eta) in enumerate(stops, start=1):
        db.session.add(RoundStop(round_id=round_.id, seq=seq, office_id=office.id, jalali_date=round_.jalali_date,
                                 eta_minute=eta))
    db.session.flush()
    db.session.refresh(round_, ["stops"])


def delete(rounds: Iterable[Round]) -> None:
    """Delete these rounds (their stops go with them), flushed at once: new rounds of the
    same day may take their (day, office) and (day, inspector) keys."""
    for round_ in rounds:
        db.session.delete(round_)
    db.session.flush()


# For the sync engine: a pull's page, a pushed report's round


def get_many(round_ids: Collection[uuid.UUID]) -> list[Round]:
    if not round_ids:
        return []
    return list(db.session.scalars(sa.select(Round).where(bulk.one_of(Round.id, round_ids))))


def round_stops(round_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[tuple[uuid.UUID, str]]]:
    """For each of these rounds that exists, its (office, Jalali day) stops (a pushed
    report's round must have one at its office on its day)."""
    out: dict = {round_id: set() for round_id in round_ids}
    if round_ids:
        query = sa.select(RoundStop.round_id, RoundStop.office_id, RoundStop.jalali_date).where(
            bulk.one_of(RoundStop.round_id, round_ids))
        for round_id, office_id, day in db.session.execute(query):
            out[round_id].add((office_id, day))
    return out
