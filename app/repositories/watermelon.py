"""Queries of WatermelonDB's protocol (DESIGN §5.8): a token's syncs, and what the change
feed and the ledger say of the records a pull or push names."""

import uuid
from collections.abc import Collection

import sqlalchemy as sa

from app.extensions import db
from app.models import (ApiToken, Change, District, Holiday, HoursRule, LedgerEntry, Office, Report, ReportVersion,
                        Round, WatermelonSync)
from app.repositories import bulk

KEPT_SYNCS = 32  # per token: a push's base is read from these
# The tables the server owns: each one's key, and its district (None: citywide).
OWNED = {"offices": (Office.id, Office.district), "districts": (District.number, District.number),
         "rounds": (Round.id, Round.district), "hours_rules": (HoursRule.id, None), "holidays": (Holiday.id, None)}


def add_sync(row: dict) -> None:
    """A token's pull or push; its oldest syncs beyond KEPT_SYNCS are dropped."""
    db.session.add(WatermelonSync(**row))
    db.session.flush()
    cutoff = db.session.scalar(
        sa.select(WatermelonSync.id).where(WatermelonSync.token_id == row["token_id"])
        .order_by(WatermelonSync.id.desc()).offset(KEPT_SYNCS).limit(1))
    if cutoff is not None:
        db.session.execute(sa.delete(WatermelonSync).where(WatermelonSync.token_id == row["token_id"],
                                                           WatermelonSync.id <= cutoff))


def syncs(token_id: int) -> list[WatermelonSync]:
    """The token's kept syncs, oldest first."""
    return list(db.session.scalars(
        sa.select(WatermelonSync).where(WatermelonSync.token_id == token_id).order_by(WatermelonSync.id)))


def pull_answered(token_id: int, user_id: int, position: int) -> WatermelonSync | None:
    """The latest pull that answered `position`: of this token, else of another of the
    user's (a phone that logged in again goes on from where it was)."""
    return db.session.scalar(
        sa.select(WatermelonSync).join(ApiToken, ApiToken.id == WatermelonSync.token_id)
        .where(ApiToken.user_id == user_id, WatermelonSync.kind == "pull", WatermelonSync.answered == position)
        .order_by((WatermelonSync.token_id == token_id).desc(), WatermelonSync.id.desc()).limit(1))


def seen_by(entity: str, ids: Collection[str], position: int) -> set[str]:
    """Of these records, those with a change on the feed at or before `position`."""
    if not ids or position <= 0:
        return set()
    return set(db.session.scalars(
        sa.select(Change.entity_id).where(bulk.one_of(Change.entity_id, ids), Change.entity == entity,
                                          Change.seq <= position).distinct()))


def report_versions_at(ids: Collection[uuid.UUID], position: int) -> dict[uuid.UUID, int]:
    """Each report's version as of a feed position (reports not on the feed by then: absent)."""
    if not ids or position <= 0:
        return {}
    rows = db.session.execute(
        sa.select(Change.entity_id, sa.func.max(Change.version))
        .where(Change.entity == "reports", bulk.one_of(Change.entity_id, [str(i) for i in ids]), Change.seq <= position,
               Change.version.is_not(None))
        .group_by(Change.entity_id))
    return {uuid.UUID(entity_id): version for entity_id, version in rows if version is not None}


def last_landed(user_id: int, device_id: uuid.UUID, report_ids: Collection[uuid.UUID]) -> dict:
    """Each report's latest landed op from this device: report id -> (action, the report's
    version after it, the version it was based on, whether the op made that version)."""
    if not report_ids:
        return {}
    made = sa.and_(ReportVersion.report_id == LedgerEntry.entity_id, ReportVersion.version == LedgerEntry.version)
    rows = db.session.execute(
        sa.select(LedgerEntry.entity_id, LedgerEntry.action, LedgerEntry.version, LedgerEntry.base_version,
                  ReportVersion.op_id == LedgerEntry.op_id)
        .outerjoin(ReportVersion, made)
        .where(LedgerEntry.user_id == user_id, LedgerEntry.device_id == device_id, LedgerEntry.entity == "reports",
               bulk.one_of(LedgerEntry.entity_id, report_ids), LedgerEntry.status != "duplicate")
        .order_by(LedgerEntry.at, LedgerEntry.version))
    return {entity_id: (action, version, base, bool(made)) for entity_id, action, version, base, made in rows}


def reports_from_device(ids: Collection[uuid.UUID], device_id: uuid.UUID) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Report.id).where(bulk.one_of(Report.id, ids),
                                                             Report.device_id == device_id)))


def places_in(districts: Collection[int]) -> dict[str, list[str]]:
    """The ids of the offices, districts and rounds of these districts (a scope a phone left)."""
    wanted = sorted(districts)
    if not wanted:
        return {"offices": [], "districts": [], "rounds": []}
    return {"offices": [str(i) for i in db.session.scalars(sa.select(Office.id).where(Office.district.in_(wanted)))],
            "districts": [str(d) for d in wanted],
            "rounds": [str(i) for i in db.session.scalars(sa.select(Round.id).where(Round.district.in_(wanted)))]}


def owned_districts(entity: str, keys: Collection) -> dict:
    """Of these keys of a table the server owns, those it holds: key -> its district (None: citywide)."""
    if not keys:
        return {}
    key, district = OWNED[entity]
    if district is None:
        return dict.fromkeys(db.session.scalars(sa.select(key).where(bulk.one_of(key, keys))))
    return {k: d for k, d in db.session.execute(sa.select(key, district).where(bulk.one_of(key, keys)))}
