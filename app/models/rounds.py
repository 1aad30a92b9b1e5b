"""Rounds: a district head's split of a district's offices for one day among its inspectors."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import db

ROUND_METHODS = ("balanced", "manual")


class Round(db.Model):
    __tablename__ = "rounds"
    __table_args__ = (
        sa.UniqueConstraint("jalali_date", "inspector_id", name="uq_rounds_inspector_day"),
        sa.CheckConstraint(sa.column("method").in_(ROUND_METHODS), name="method"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    district: Mapped[int] = mapped_column(sa.ForeignKey("districts.number"), index=True)
    jalali_date: Mapped[str] = mapped_column(sa.String(10), index=True)
    inspector_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    method: Mapped[str] = mapped_column(sa.String(10))
    planned_minutes: Mapped[int] = mapped_column(default=0)  # estimated work: travel + service
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stops: Mapped[list["RoundStop"]] = relationship(order_by="RoundStop.seq", lazy="selectin",
                                                    cascade="all, delete-orphan", passive_deletes=True)
    inspector = relationship("User", foreign_keys=[inspector_id], lazy="selectin")  # selectin: FOR UPDATE-safe


class RoundStop(db.Model):
    """One office of a round, in planned order. An office is in at most one round a day:
    the unique key on (day, office) is what guarantees it, whatever the code above does."""

    __tablename__ = "round_stops"
    __table_args__ = (sa.UniqueConstraint("jalali_date", "office_id", name="uq_round_stops_office_day"),)

    round_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    jalali_date: Mapped[str] = mapped_column(sa.String(10))
    eta_minute: Mapped[int | None] = mapped_column()  # planned arrival, minutes after Tehran midnight
