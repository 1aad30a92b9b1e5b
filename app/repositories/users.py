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


def for_login(username: str) -> User | None:
    """The user with their districts, in one query (the login answers them)."""
    return db.session.scalars(sa.select(User).where(User.username == username)
                              .options(joinedload(User.district_links))).unique().one_or_none()


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


def token_by_hash(token_hash: str) -> list[sa.Row]:
    """The token with its user, one row per district of the user's (one row with no
    district for a citywide account), in one query on the request's connection."""
    return db.session.connection().execute(_TOKEN_WITH_USER, {"token_hash": token_hash}).all()


def get_token(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id)


def add_token(token: ApiToken) -> ApiToken:
    db.session.add(token)
    return token


def record_device(device_id: uuid.UUID, user_id: int, user_agent: str, now: datetime) -> None:
    """The phone, seen now in the hands of this user: added, or its holder and user agent
    updated (one upsert: a phone logs in every morning)."""
    statement = bulk.insert(Device).values(id=device_id, user_id=user_id, user_agent=user_agent,
                                           first_seen_at=now, last_seen_at=now)
    db.session.execute(statement.on_conflict_do_update(index_elements=[Device.id], set_={
        "user_id": statement.excluded.user_id, "user_agent": statement.excluded.user_agent,
        "last_seen_at": statement.excluded.last_seen_at}))
