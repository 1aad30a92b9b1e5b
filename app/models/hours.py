"""Mandated-hours rules, official holidays, and the log of every change made to them."""

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class HoursRule(db.Model):
    """A rule as an admin published it. Dates are Jalali: `year` null means every year."""

    __tablename__ = "hours_rules"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('open', 'closed')", name="kind"),
        sa.CheckConstraint("from_month BETWEEN 1 AND 12 AND to_month BETWEEN 1 AND 12", name="months"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(200))
    scope: Mapped[str] = mapped_column(sa.String(80), index=True)  # city, district:N, category:X, office:ID
    year: Mapped[int | None]
    from_month: Mapped[int]
    from_day: Mapped[int]
    to_month: Mapped[int]
    to_day: Mapped[int]
    weekdays: Mapped[list] = mapped_column(sa.JSON, default=list)  # ["sat", …]; empty: every day
    kind: Mapped[str] = mapped_column(sa.String(10))
    windows: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{"start": "08:00", "end": "16:30"}]
    exempt_categories: Mapped[list] = mapped_column(sa.JSON, default=list)
    on_holidays: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Holiday(db.Model):
    """One official holiday (a day can have two, e.g. Nowruz and Eid al-Fitr)."""

    __tablename__ = "holidays"
    __table_args__ = (sa.UniqueConstraint("jalali_date", "title", name="uq_holidays_jalali_date_title"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    jalali_date: Mapped[str] = mapped_column(sa.String(10), index=True)  # 1405-01-01
    gregorian_date: Mapped[date] = mapped_column(sa.Date, index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    source: Mapped[str] = mapped_column(sa.String(20), default="official")  # official | admin
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


class HoursChange(db.Model):
    """Who changed which rule or holiday, when, and from what to what."""

    __tablename__ = "hours_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(sa.String(20))  # hours_rule | holiday
    entity_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    action: Mapped[str] = mapped_column(sa.String(20))  # create | update | withdraw | cancel
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    # How many open flags the change re-judged (app.services.violations.reevaluate_open_flags), in the same transaction.
    reevaluated_flags: Mapped[int] = mapped_column(default=0)
