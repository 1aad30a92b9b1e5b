"""Queries on users, their tokens and devices."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiToken, Device, User
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


def token_by_hash(token_hash: str) -> ApiToken | None:
    """The token with its user and the user's districts, in one query: every request asks
    (its user's selectin load would be a second round trip each time)."""
    return db.session.scalars(
        sa.select(ApiToken).where(ApiToken.token_hash == token_hash)
        .options(joinedload(ApiToken.user).joinedload(User.district_links))).unique().one_or_none()


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
