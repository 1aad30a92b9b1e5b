"""Activity the e-services platform reports (DESIGN §10b): transactions counted per office and
minute, and the batches already taken in, so that a batch sent again counts nothing twice."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


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
