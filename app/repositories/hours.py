"""Queries on mandated-hours rules, holidays and their change log."""

import uuid
from collections.abc import Collection

import sqlalchemy as sa

from app.extensions import db
from app.models import Holiday, HoursChange, HoursRule, Office
from app.repositories import bulk


def get_rule(rule_id: uuid.UUID) -> HoursRule | None:
    return db.session.get(HoursRule, rule_id)


def get_rules(rule_ids: Collection[uuid.UUID]) -> list[HoursRule]:
    if not rule_ids:
        return []
    return list(db.session.scalars(sa.select(HoursRule).where(bulk.one_of(HoursRule.id, rule_ids))))


def list_rules(include_withdrawn: bool, offset: int = 0, limit: int | None = None):
    query = sa.select(HoursRule)
    if not include_withdrawn:
        query = query.where(HoursRule.withdrawn_at.is_(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(HoursRule.published_at, HoursRule.id).offset(offset).limit(limit))
    return list(rows), total


def rules_in_force_for_year(year: int) -> list[HoursRule]:
    """Rules not withdrawn that can cover a day of `year` (dated that year, or every year)."""
    return list(db.session.scalars(
        sa.select(HoursRule)
        .where(HoursRule.withdrawn_at.is_(None))
        .where(sa.or_(HoursRule.year.is_(None), HoursRule.year == year))
    ))


def create_rule(rule: HoursRule) -> HoursRule:
    db.session.add(rule)
    return rule


def lock_rule(rule_id: uuid.UUID) -> HoursRule | None:
    """The rule, locked against a concurrent change until the transaction ends (PostgreSQL)."""
    return db.session.scalar(sa.select(HoursRule).where(HoursRule.id == rule_id).with_for_update())


def holiday_titles_on(jalali_date: str) -> list[str]:
    return list(db.session.scalars(
        sa.select(Holiday.title)
        .where(Holiday.jalali_date == jalali_date, Holiday.cancelled_at.is_(None))
        .order_by(Holiday.title)
    ))


def list_holidays(year: int | None, include_cancelled: bool, offset: int = 0, limit: int | None = None):
    query = sa.select(Holiday)
    if year is not None:
        query = query.where(Holiday.jalali_date.startswith(f"{year:04d}-"))
    if not include_cancelled:
        query = query.where(Holiday.cancelled_at.is_(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Holiday.jalali_date, Holiday.title).offset(offset).limit(limit))
    return list(rows), total


def get_holiday(holiday_id: uuid.UUID) -> Holiday | None:
    return db.session.get(Holiday, holiday_id)


def get_holidays(holiday_ids: Collection[uuid.UUID]) -> list[Holiday]:
    if not holiday_ids:
        return []
    return list(db.session.scalars(sa.select(Holiday).where(bulk.one_of(Holiday.id, holiday_ids))))


def find_holiday(jalali_date: str, title: str) -> Holiday | None:
    return db.session.scalar(sa.select(Holiday).where(Holiday.jalali_date == jalali_date, Holiday.title == title))


def create_holiday(holiday: Holiday) -> Holiday:
    db.session.add(holiday)
    return holiday


def record_change(change: HoursChange) -> HoursChange:
    db.session.add(change)
    db.session.flush()
    return change


def list_changes(entity_id: uuid.UUID | None, offset: int, limit: int):
    query = sa.select(HoursChange)
    if entity_id is not None:
        query = query.where(HoursChange.entity_id == entity_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(HoursChange.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def office_categories() -> list[str]:
    return list(db.session.scalars(sa.select(Office.category).distinct().order_by(Office.category)))


def latest_publication():
    """When the last rule was published (None: no rule yet)."""
    return db.session.scalar(sa.select(sa.func.max(HoursRule.published_at)))
