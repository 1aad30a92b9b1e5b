"""Queries on the op ledger (every landed op, for replays) and the quarantine of refused ops."""

import uuid
from collections.abc import Collection

import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerEntry, QuarantinedOp, UserDistrict
from app.repositories import bulk


def ledger_entry(op_id: uuid.UUID) -> LedgerEntry | None:
    return db.session.get(LedgerEntry, op_id)


_EXISTING_OP_IDS = bulk.Prebuilt(lambda dialect: sa.select(LedgerEntry.op_id).where(
    bulk.any_of(LedgerEntry.op_id, "op_ids", dialect)))


def existing_op_ids(op_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    if not op_ids:
        return set()
    return set(db.session.scalars(_EXISTING_OP_IDS(), {"op_ids": list(op_ids)}))


def add(row):
    """A ledger entry or a quarantined op."""
    db.session.add(row)
    return row


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
