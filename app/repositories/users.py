"""Queries on users, their tokens and devices."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken, Device, User, UserDistrict
from app.repositories import bulk


def get(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def get_by_username(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


# The login's read of its user, one row per district (one with none for a citywide account).
_FOR_LOGIN = (
    sa.select(User.id, User.username, User.full_name, User.role, User.active, User.password_hash,
              UserDistrict.district)
    .outerjoin(UserDistrict, UserDistrict.user_id == User.id)
    .where(User.username == sa.bindparam("username"))
    .order_by(UserDistrict.district))


@dataclass(frozen=True)
class LoginUser:
    """A user as a login checks and answers it (plain values, no ORM object)."""
    id: int
    username: str
    full_name: str
    role: str
    active: bool
    password_hash: str
    districts: list[int]


def for_login(username: str) -> LoginUser | None:
    """The user with their districts, in one query (the login answers them); on PostgreSQL
    in autocommit, before any transaction (`bulk.read_alone`): the password's check that
    follows takes tens of milliseconds, and holds nothing of the database's meanwhile."""
    rows = bulk.read_alone(_FOR_LOGIN, {"username": username})
    if not rows:
        return None
    user_id, name, full_name, role, active, password_hash, _ = rows[0]
    return LoginUser(user_id, name, full_name, role, active, password_hash,
                     [row[-1] for row in rows if row[-1] is not None])


def set_password_hash(user_id: int, password_hash: str) -> None:
    db.session.connection().execute(sa.update(User).where(User.id == user_id).values(password_hash=password_hash))


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


def add_token(token_hash: str, user_id: int, device_id: uuid.UUID | None, user_agent: str, created_at: datetime,
              expires_at: datetime) -> None:
    """A login's token; with a device id, the phone too, seen now in the hands of this user:
    added, or its holder and user agent updated (a phone logs in every morning). On
    PostgreSQL the two writes are one statement (the phone's upsert a CTE of the token's
    insert, whose foreign key to it is checked at the statement's end), on SQLite two."""
    values = {"token_hash": token_hash, "user_id": user_id, "device_id": device_id, "created_at": created_at,
              "expires_at": expires_at}
    connection = db.session.connection()
    if device_id is None:
        connection.execute(_INSERT_TOKEN, values)
        return
    values["user_agent"] = user_agent
    if connection.dialect.name == "postgresql":
        connection.execute(_TOKEN_WITH_DEVICE, values)
    else:
        connection.execute(_RECORD_DEVICE(), values)
        connection.execute(_INSERT_TOKEN, values)


def _record_device(dialect: str):
    statement = bulk.insert(Device, dialect).values(
        id=sa.bindparam("device_id"), user_id=sa.bindparam("user_id"), user_agent=sa.bindparam("user_agent"),
        first_seen_at=sa.bindparam("created_at"), last_seen_at=sa.bindparam("created_at"))
    return statement.on_conflict_do_update(index_elements=[Device.id], set_={
        "user_id": statement.excluded.user_id, "user_agent": statement.excluded.user_agent,
        "last_seen_at": statement.excluded.last_seen_at})


# A login's two writes, built once (a login is the morning's most frequent write).
_RECORD_DEVICE = bulk.Prebuilt(_record_device)
_INSERT_TOKEN = sa.insert(ApiToken).values(
    token_hash=sa.bindparam("token_hash"), user_id=sa.bindparam("user_id"), device_id=sa.bindparam("device_id"),
    created_at=sa.bindparam("created_at"), expires_at=sa.bindparam("expires_at"))
_TOKEN_WITH_DEVICE = _INSERT_TOKEN.add_cte(_record_device("postgresql").cte("device"))
