"""Accounts: creating users, logging in, checking and revoking tokens."""

import hashlib
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from app import passwords
from app.database import utcnow
from app.errors import Problem, invalid
from app.models import Role, User, UserDistrict
from app.models.users import Account
from app.repositories import districts as district_repo
from app.repositories import users as repo
from app.services import end_read, unit_of_work

# Checked against when the username is unknown, so that a wrong username takes as long
# as a wrong password and login timing does not reveal which accounts exist.
_DUMMY_HASH = passwords.hash_password("not a password")


@dataclass(frozen=True)
class Bearer:
    """The live token a request came with, and its account: what the endpoints and services
    ask of the caller, read in one statement with no ORM objects (every request does it)."""
    id: int
    device_id: uuid.UUID | None
    user: Account

    @property
    def user_id(self) -> int:
        return self.user.id


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: datetime
    user: Account


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_districts(role: str, districts: Collection[int]) -> list[int]:
    districts = sorted(set(districts))
    if role == Role.INSPECTOR and not districts:
        raise invalid("districts", "An inspector needs at least one district.")
    if role == Role.DISTRICT_HEAD and len(districts) != 1:
        raise invalid("districts", "A district head runs exactly one district.")
    if role in (Role.COMMITTEE, Role.ADMIN) and districts:
        raise invalid("districts", "Committee members and admins see every district; give none.")
    if role == Role.FEED and districts:
        raise invalid("districts", "A feed account posts activity for every office; give no district.")
    unknown = [n for n in districts if district_repo.get(n) is None]
    if unknown:
        raise invalid("districts", f"Unknown district(s): {', '.join(map(str, unknown))}.")
    return districts


def build_user(username: str, password: str, role: str, districts: Collection[int] = (),
               full_name: str = "") -> User:
    """A new user, checked, added to the session (the caller commits)."""
    username = username.strip()
    if not username or len(username) > 64:
        raise invalid("username", "Give 1 to 64 characters.")
    if role not in set(Role):
        raise invalid("role", f"Must be one of: {', '.join(Role)}.")
    if len(password) < 8:
        raise invalid("password", "Use at least 8 characters.")
    if repo.get_by_username(username) is not None:
        raise invalid("username", f"{username!r} is taken.")
    user = User(username=username, role=role, full_name=full_name,
                password_hash=passwords.hash_password(password))
    user.district_links = [UserDistrict(district=n) for n in _check_districts(role, districts)]
    return repo.create(user)


def create_user(username: str, password: str, role: str, districts: Collection[int] = (),
                full_name: str = "") -> User:
    with unit_of_work():
        user = build_user(username, password, role, districts, full_name)
    return user


def login_name(username: str) -> str:
    """The form of a typed username that login looks up, and that failed logins are counted
    under: exactly as typed. Usernames are stored stripped and compared exactly (case and
    spaces count, on PostgreSQL and SQLite alike), so "HEAD-22 " is not head-22: it cannot
    log in as head-22, and its failures do not lock head-22 out."""
    return username


def login(username: str, password: str, device_id: uuid.UUID | None, user_agent: str = "") -> Login:
    """A token for a right password. The user is read and the reading transaction ended (on
    PostgreSQL none is begun), so the password's check (Argon2id: tens of milliseconds of
    CPU) holds nothing of the database's. The token is then written only for the user as
    checked, still active with the same password hash: a deactivation, deletion or new
    password committed meanwhile wins (401). A change of role, districts or name meanwhile
    does not stop the login; its answer shows the user as read, and every request after it
    reads the user afresh with its token."""
    user = repo.for_login(login_name(username))
    end_read()
    if user is None or not user.active:
        passwords.verify(_DUMMY_HASH, password)
        raise _invalid_credentials()
    if not passwords.verify(user.password_hash, password):
        raise _invalid_credentials()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
    with unit_of_work():
        # A phone handed to another inspector follows its new holder.
        if not repo.add_token(hash_token(token), user, device_id, user_agent[:300], now, expires_at):
            raise _invalid_credentials()
    if passwords.needs_rehash(user.password_hash):
        # A hash of an older scheme or setting (scrypt, pbkdf2, Argon2id at other settings), replaced by
        # today's once the token is committed: in a transaction of its own, which holds no lock
        # on the user's row while it hashes (two logins of one user, each holding the row FOR
        # SHARE, would each wait for the other's UPDATE), and replaces only the hash that was checked.
        # The token is committed by then: a database that fails the replacement leaves the
        # old hash for the next login to replace, and this login still gets its token.
        rehashed = passwords.hash_password(password)
        try:
            with unit_of_work():
                repo.set_password_hash(user.account.id, user.password_hash, rehashed)
        except SQLAlchemyError:
            current_app.logger.warning("user %s: the password hash of an older scheme or setting was not replaced "
                                       "this time", user.account.id, exc_info=True)
    return Login(token=token, expires_at=expires_at, user=user.account)


def _invalid_credentials() -> Problem:
    return Problem("invalid-credentials", "Wrong username or password.")


def authenticate(token: str) -> Bearer:
    """The live token for a bearer token, with its account, or 401."""
    rows = repo.token_by_hash(hash_token(token)) if token else []
    if not rows:
        raise _unauthenticated()
    token_id, device_id, expires_at, revoked_at, user_id, username, full_name, role, active, _ = rows[0]
    if revoked_at is not None or expires_at <= utcnow() or not active:
        raise _unauthenticated()
    districts = [row[-1] for row in rows if row[-1] is not None]
    return Bearer(token_id, device_id, Account(user_id, username, full_name, role, districts))


def _unauthenticated() -> Problem:
    return Problem("unauthenticated", "The token is missing, unknown, expired or revoked.",
                   headers={"WWW-Authenticate": 'Bearer realm="bazres"'})


def revoke(token_id: int) -> None:
    with unit_of_work():
        row = repo.get_token(token_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
