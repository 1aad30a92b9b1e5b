"""Queries on users, their tokens and devices."""

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiToken, Device, User


def get(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def get_by_username(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


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


def get_device(device_id: uuid.UUID) -> Device | None:
    return db.session.get(Device, device_id)


def add_device(device: Device) -> Device:
    db.session.add(device)
    return device
