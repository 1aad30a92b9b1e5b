"""People, their roles and districts, their devices and their API tokens."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import db


class Role(StrEnum):
    INSPECTOR = "inspector"
    DISTRICT_HEAD = "district_head"
    COMMITTEE = "committee"
    ADMIN = "admin"
    FEED = "feed"  # a machine account of the e-services platform: posts activity, sees nothing (DESIGN §10b)


# Roles that see every district; people of the others see only the districts assigned to them.
CITYWIDE_ROLES = frozenset({Role.COMMITTEE, Role.ADMIN})
# The people; an endpoint that names no role is theirs, never a machine account's.
PEOPLE = frozenset({Role.INSPECTOR, Role.DISTRICT_HEAD, Role.COMMITTEE, Role.ADMIN})


@dataclass(frozen=True)
class Account:
    """A user as a request's caller, and as a login answers it: plain values, read in one
    statement with no ORM object (every request reads its caller's)."""
    id: int
    username: str
    full_name: str
    role: str
    districts: list[int]

    @property
    def citywide(self) -> bool:
        return self.role in CITYWIDE_ROLES


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(sa.column("role").in_([r.value for r in Role]), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district_links: Mapped[list["UserDistrict"]] = relationship(
        cascade="all, delete-orphan", order_by="UserDistrict.district", lazy="selectin"
    )

    @property
    def districts(self) -> list[int]:
        return [link.district for link in self.district_links]

    @property
    def citywide(self) -> bool:
        return self.role in CITYWIDE_ROLES


class UserDistrict(db.Model):
    """A district an inspector is assigned to, or the one district a head runs."""

    __tablename__ = "user_districts"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    district: Mapped[int] = mapped_column(sa.ForeignKey("districts.number"), primary_key=True, index=True)


class Device(db.Model):
    """A phone (or browser) that has logged in; the sync protocol keys its state by it."""

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):
    """A bearer token. Only its SHA-256 is stored, so a database leak yields no tokens."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
    device: Mapped[Device | None] = relationship()


class RateLimitCounter(db.Model):
    """A fixed-window counter of app.ratelimit (failed logins by user and by address), shared
    by every worker when BAZRES_RATELIMIT_STORAGE_URI is `database://`."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int]
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)  # Unix seconds: the window's end
