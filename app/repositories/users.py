"""Queries on users, their tokens and devices."""

import uuid

import sqlalchemy as sa

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
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash))


def add_token(token: ApiToken) -> ApiToken:
    db.session.add(token)
    return token


def get_device(device_id: uuid.UUID) -> Device | None:
    return db.session.get(Device, device_id)


def add_device(device: Device) -> Device:
    db.session.add(device)
    return device
