"""Queries on users, their tokens and devices."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiToken, Device, User, UserDistrict
from app.repositories import bulk


def get(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def get_by_username(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


_FOR_LOGIN = (sa.select(User).where(User.username == sa.bindparam("username"))
              .options(joinedload(User.district_links)))


def for_login(username: str) -> User | None:
    """The user with their districts, in one query (the login answers them)."""
    return db.session.scalars(_FOR_LOGIN, {"username": username}).unique().one_or_none()


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def create(user: User) -> User:
    db.session.add(user)
    return user


# Built once: the statement every authenticated request runs (its construction and cache
# key cost more Python than the query's round trip, issue 18).
_TOKEN_WITH_USER = (
    sa.select(ApiToken.id, ApiToken.device_id, ApiToken.expires_at, ApiToken.revoked_at, User.id, User.username,
              User.full_name, User.role, User.active, UserDistrict.district)
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(UserDistrict, UserDistrict.user_id == User.id)
    .where(ApiToken.token_hash == sa.bindparam("token_hash"))
    .order_by(UserDistrict.district))


def token_by_hash(token_hash: str) -> list[tuple]:
    """The token with its user, one row per district of the user's (one row with no
    district for a citywide account), in one query; on PostgreSQL in autocommit, before the
    request's transaction (`bulk.read_alone`): a tiny GET makes one round trip."""
    return bulk.read_alone(_TOKEN_WITH_USER, {"token_hash": token_hash})


def get_token(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id)


def add_token(token_hash: str, user_id: int, device_id: uuid.UUID | None, created_at: datetime,
              expires_at: datetime) -> None:
    db.session.connection().execute(_INSERT_TOKEN, {
        "token_hash": token_hash, "user_id": user_id, "device_id": device_id, "created_at": created_at,
        "expires_at": expires_at})


def record_device(device_id: uuid.UUID, user_id: int, user_agent: str, now: datetime) -> None:
    """The phone, seen now in the hands of this user: added, or its holder and user agent
    updated (one upsert: a phone logs in every morning)."""
    db.session.connection().execute(_RECORD_DEVICE(),
                                    {"id": device_id, "user_id": user_id, "user_agent": user_agent, "now": now})


def _record_device(dialect: str):
    statement = bulk.insert(Device, dialect).values(
        id=sa.bindparam("id"), user_id=sa.bindparam("user_id"), user_agent=sa.bindparam("user_agent"),
        first_seen_at=sa.bindparam("now"), last_seen_at=sa.bindparam("now"))
    return statement.on_conflict_do_update(index_elements=[Device.id], set_={
        "user_id": statement.excluded.user_id, "user_agent": statement.excluded.user_agent,
        "last_seen_at": statement.excluded.last_seen_at})


# A login's two writes, built once (a login is the morning's most frequent write).
_RECORD_DEVICE = bulk.Prebuilt(_record_device)
_INSERT_TOKEN = sa.insert(ApiToken).values(
    token_hash=sa.bindparam("token_hash"), user_id=sa.bindparam("user_id"), device_id=sa.bindparam("device_id"),
    created_at=sa.bindparam("created_at"), expires_at=sa.bindparam("expires_at"))
