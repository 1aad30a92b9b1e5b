"""Queries on users, their tokens and devices."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken, Device, User, UserDistrict
from app.models.users import Account
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
    """A user as a login checks them: who they are, whether they may log in, and the hash
    their password is checked against (and that the token's write checks is still theirs)."""
    account: Account
    active: bool
    password_hash: str


def for_login(username: str) -> LoginUser | None:
    """The user with their districts, in one query (the login answers them); on PostgreSQL
    in autocommit, before any transaction (`bulk.read_alone`): the password's check that
    follows takes tens of milliseconds, and holds nothing of the database's meanwhile."""
    rows = bulk.read_alone(_FOR_LOGIN, {"username": username})
    if not rows:
        return None
    user_id, name, full_name, role, active, password_hash, _ = rows[0]
    districts = [row[-1] for row in rows if row[-1] is not None]
    return LoginUser(Account(user_id, name, full_name, role, districts), active, password_hash)


_SET_PASSWORD_HASH = (
    sa.update(User)
    .where(User.id == sa.bindparam("user_id"), User.password_hash == sa.bindparam("old_hash"))
    .values(password_hash=sa.bindparam("new_hash")))


def set_password_hash(user_id: int, old_hash: str, new_hash: str) -> None:
    """The user's password hash replaced by `new_hash` (the same password, hashed anew), only
    if it is still `old_hash`: a password changed meanwhile is never undone."""
    values = {"user_id": user_id, "old_hash": old_hash, "new_hash": new_hash}
    db.session.connection().execute(_SET_PASSWORD_HASH, values)


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


def add_token(token_hash: str, user: LoginUser, device_id: uuid.UUID | None, user_agent: str,
              created_at: datetime, expires_at: datetime) -> bool:
    """A login's token; with a device id, the phone too, seen now in the hands of this user:
    added, or its holder and user agent updated (a phone logs in every morning). Both are
    written only if the user is still there, active, with the password hash the login
    checked (the check holds nothing of the database's: the user may be deactivated,
    deleted or given a new password meanwhile): whether they were.

    On PostgreSQL the writes are one statement, the user's row locked FOR SHARE as it is
    checked (a change committed since is seen, one under way is waited for) and the phone's
    upsert a CTE of the token's insert (whose foreign key to it is checked at the
    statement's end); on SQLite, whose writes hold the database's write lock, two."""
    values = {"token_hash": token_hash, "user_id": user.account.id, "password_hash": user.password_hash,
              "device_id": device_id, "created_at": created_at, "expires_at": expires_at}
    connection = db.session.connection()
    if device_id is None:
        return connection.execute(_INSERT_TOKEN(), values).rowcount == 1
    values["user_agent"] = user_agent
    if connection.dialect.name == "postgresql":
        return connection.execute(_TOKEN_WITH_DEVICE, values).rowcount == 1
    return (connection.execute(_RECORD_DEVICE(), values).rowcount == 1
            and connection.execute(_INSERT_TOKEN(), values).rowcount == 1)


_GUARD = (User.id == sa.bindparam("user_id"), User.active, User.password_hash == sa.bindparam("password_hash"))


def _rows_for(guard_cte, *columns):
    """`columns` as one row, with the logging-in user's id, only if they are still active
    with the hash the login checked (`_GUARD`): read from `guard_cte`, a CTE of that check
    (PostgreSQL, one statement), or, with none, checked here (on PostgreSQL the user's row
    read FOR SHARE; SQLite renders no lock, its writes hold the database's write lock). The
    WHERE is also what SQLite's INSERT … SELECT … ON CONFLICT needs to parse."""
    if guard_cte is not None:
        return sa.select(*columns, guard_cte.c.id)
    return sa.select(*columns, User.id).where(*_GUARD).with_for_update(read=True)


def _record_device(dialect: str, guard_cte=None):
    rows = _rows_for(guard_cte, sa.bindparam("device_id", type_=Device.id.type),
                     sa.bindparam("user_agent", type_=Device.user_agent.type),
                     sa.bindparam("created_at", type_=Device.first_seen_at.type),
                     sa.bindparam("created_at", type_=Device.last_seen_at.type))
    statement = bulk.insert(Device, dialect).from_select(
        [Device.id, Device.user_agent, Device.first_seen_at, Device.last_seen_at, Device.user_id], rows)
    return statement.on_conflict_do_update(index_elements=[Device.id], set_={
        "user_id": statement.excluded.user_id, "user_agent": statement.excluded.user_agent,
        "last_seen_at": statement.excluded.last_seen_at}).execution_options(preserve_rowcount=True)


def _insert_token(_dialect: str, guard_cte=None):
    rows = _rows_for(guard_cte, sa.bindparam("token_hash", type_=ApiToken.token_hash.type),
                     sa.bindparam("device_id", type_=ApiToken.device_id.type),
                     sa.bindparam("created_at", type_=ApiToken.created_at.type),
                     sa.bindparam("expires_at", type_=ApiToken.expires_at.type))
    return sa.insert(ApiToken).from_select(
        [ApiToken.token_hash, ApiToken.device_id, ApiToken.created_at, ApiToken.expires_at, ApiToken.user_id],
        rows).execution_options(preserve_rowcount=True)  # an INSERT's count, kept as its cursor closes


def _token_with_device():
    guard_cte = sa.select(User.id).where(*_GUARD).with_for_update(read=True).cte("login_user")
    device = _record_device("postgresql", guard_cte).cte("device")
    return _insert_token("postgresql", guard_cte).add_cte(device)


# A login's writes, built once (a login is the morning's most frequent write).
_RECORD_DEVICE = bulk.Prebuilt(_record_device)
_INSERT_TOKEN = bulk.Prebuilt(_insert_token)
_TOKEN_WITH_DEVICE = _token_with_device()
