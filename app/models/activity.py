"""Activity the e-services platform reports (DESIGN §10b): transactions counted per office and
minute, and the batches already taken in, so that a batch sent again counts nothing twice."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import db

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


class ActivityCount(db.Model):
    """How many transactions an office served in one minute (UTC, the minute's start)."""

    __tablename__ = "activity_counts"

    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int]


class ActivityBatch(db.Model):
    """A batch taken in: its key, a digest of what it carried (a batch sent again under its
    key must be the same batch), and what came of it."""

    __tablename__ = "activity_batches"

    source: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    batch_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    digest: Mapped[str] = mapped_column(sa.String(64))
    accepted: Mapped[int]
    rejected: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ActivityHour(db.Model):
    """How many transactions an office served in one hour of Tehran's clock (the hour's start,
    as an instant): the history the detector learns each office's rate from, kept beside the
    minutes so that learning eight weeks reads hundreds of rows, not hundreds of thousands."""

    __tablename__ = "activity_hours"
    __table_args__ = (sa.Index("ix_activity_hours_hour", "hour"),)

    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int]


class ActivitySource(db.Model):
    """How far each source (the platform, a region's gateway) has reported a Tehran day: its
    last minute with a transaction. An office is judged up to its own source's last minute,
    and a source silent all day says nothing of its offices (DESIGN §10b: `no_data`)."""

    __tablename__ = "activity_sources"

    source: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    day: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # Jalali
    last_minute: Mapped[datetime] = mapped_column(UTCDateTime)


class OfficeSource(db.Model):
    """The source that last reported an office's activity: the feed that covers it."""

    __tablename__ = "office_sources"

    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(64))


class SignalDay(db.Model):
    """A Jalali day's signals and what they were worked out from: the day's activity changes
    `activity_seq`; an evaluation records the `activity_seq` it read and digests of the day's
    hours (its year's rules, its holidays) and field reports. Signals whose keys lag are
    worked out again before they are read."""

    __tablename__ = "signal_days"

    day: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # Jalali, 1405-01-07
    activity_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    evaluated_seq: Mapped[int | None] = mapped_column(sa.BigInteger)
    hours_key: Mapped[str | None] = mapped_column(sa.String(64))  # the day's rules and holidays, digested
    reports_key: Mapped[str | None] = mapped_column(sa.String(64))  # the field reports of the day, digested
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Signal(db.Model):
    """The detector's verdict on one office and mandated window of a day (DESIGN §10b), and
    what a field report of that office and day made of it."""

    __tablename__ = "signals"
    __table_args__ = (
        sa.UniqueConstraint("office_id", "day", "window_start", name="uq_signals_office_day_window"),
        sa.Index("ix_signals_day_district", "day", "district"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id", ondelete="CASCADE"))
    district: Mapped[int]
    day: Mapped[str] = mapped_column(sa.String(10))
    window_start: Mapped[str] = mapped_column(sa.String(5))  # 08:00, Tehran
    window_end: Mapped[str] = mapped_column(sa.String(5))
    state: Mapped[str] = mapped_column(sa.String(20))  # suspected_closure | normal | no_data | outage
    reason_code: Mapped[str] = mapped_column(sa.String(40))
    silent_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    silent_to: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last silent minute's end
    expected: Mapped[float]
    observed: Mapped[int]
    confidence: Mapped[float | None]
    judged_until: Mapped[datetime] = mapped_column(UTCDateTime)  # the window judged up to here
    suspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first found suspicious
    field_status: Mapped[str | None] = mapped_column(sa.String(10))  # confirmed | cleared
    field_report_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    field_state: Mapped[str | None] = mapped_column(sa.String(24))  # what the report found
    field_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the report's evidence time
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office: Mapped["Office"] = relationship(lazy="joined")  # noqa: F821 (app.models.places)


class SignalEvent(db.Model):
    """A signal's history, never rewritten: each change of its state, and each field report
    that confirmed or cleared it. Kept by office, day and window, so that it outlives a
    window the hours withdrew."""

    __tablename__ = "signal_events"
    __table_args__ = (sa.Index("ix_signal_events_office_day", "office_id", "day"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(sa.String(10))
    window_start: Mapped[str] = mapped_column(sa.String(5))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(20))  # a state, confirmed, cleared, withdrawn
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
