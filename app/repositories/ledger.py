"""Queries on the op ledger (every landed op, for replays) and the quarantine of refused ops."""

import uuid
from collections.abc import Collection

import sqlalchemy as sa

from app.extensions import db
from app.jsonprovider import loads_exact
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


# A quarantined op's payload is listed whole up to this many characters of JSON; a larger one
# (a push may hold a single op of 5 MB) is listed by its length, and read alone, whole, by its
# id: a page of 500 such ops would otherwise be 2.5 GB built in memory.
PAYLOAD_LISTED_UP_TO = 64 * 1024

# The payload is read as its JSON text and parsed here (`loads_exact`): an integer past 64 bits
# that an op was sent with comes back exact, which orjson, the JSON columns' reader, would make
# a float.
_PAYLOAD_TEXT = sa.cast(QuarantinedOp.payload, sa.Text)
_PAYLOAD_LENGTH = sa.func.length(_PAYLOAD_TEXT)
_LISTED = (QuarantinedOp.id, QuarantinedOp.op_id, QuarantinedOp.user_id, QuarantinedOp.device_id,
           QuarantinedOp.entity, QuarantinedOp.action, QuarantinedOp.errors, QuarantinedOp.received_at,
           _PAYLOAD_LENGTH.label("payload_length"),
           sa.case((_PAYLOAD_LENGTH <= PAYLOAD_LISTED_UP_TO, _PAYLOAD_TEXT)).label("payload"))


def _visible(query, districts: Collection[int] | None, author_id: int | None):
    """Of one author, or of the authors assigned to some districts, or all."""
    if author_id is not None:
        return query.where(QuarantinedOp.user_id == author_id)
    if districts is not None:
        authors = sa.select(UserDistrict.user_id).where(UserDistrict.district.in_(sorted(districts)))
        return query.where(QuarantinedOp.user_id.in_(authors))
    return query


def quarantine_page(districts: Collection[int] | None, author_id: int | None, offset: int,
                    limit: int) -> tuple[list, int]:
    """Quarantined ops one may see, newest first, as plain rows: each payload over
    PAYLOAD_LISTED_UP_TO characters is left out (None), its length given, never read."""
    total = db.session.scalar(_visible(sa.select(sa.func.count()).select_from(QuarantinedOp), districts, author_id))
    query = _visible(sa.select(*_LISTED), districts, author_id)
    rows = db.session.execute(query.order_by(QuarantinedOp.id.desc()).offset(offset).limit(limit)).mappings()
    return [_parsed(row) for row in rows], total


def quarantined(op_id: int, districts: Collection[int] | None, author_id: int | None) -> dict | None:
    """One quarantined op, its payload whole, if one may see it."""
    if not -(2**31) <= op_id < 2**31:
        return None  # the column is a 32-bit INTEGER: a larger number names none (and would overflow the query)
    columns = (*_LISTED[:-1], _PAYLOAD_TEXT.label("payload"))
    row = db.session.execute(_visible(sa.select(*columns), districts, author_id)
                             .where(QuarantinedOp.id == op_id)).mappings().first()
    return None if row is None else _parsed(row)


def _parsed(row) -> dict:
    payload = row["payload"]
    return dict(row) | {"payload": None if payload is None else loads_exact(payload)}
