"""Violation cases: the reports about one office on one Jalali day, and the committee's decision."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import db

# Undecided: in the committee's queue (the open cases of the coverage map and the visit lists).
OPEN_STATUSES = ("open", "under_review")
CASE_STATUSES = (*OPEN_STATUSES, "confirmed", "dismissed", "withdrawn")
PENALTIES = ("none", "warning", "fine", "suspension")


class ViolationCase(db.Model):
    __tablename__ = "violation_cases"
    __table_args__ = (
        sa.UniqueConstraint("office_id", "jalali_date", name="uq_violation_cases_office_day"),
        sa.CheckConstraint(sa.column("status").in_(CASE_STATUSES), name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    district: Mapped[int] = mapped_column(index=True)
    jalali_date: Mapped[str] = mapped_column(sa.String(10), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))  # the strongest flag among its reports
    status: Mapped[str] = mapped_column(sa.String(20), default="open", index=True)
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)  # in English words, as findings' texts
    # The verdict's findings: [{code, params, text}] (app.violations.judge.Finding).
    findings: Mapped[list] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    rule: Mapped[dict | None] = mapped_column(sa.JSON)  # what mandated the hours, when judged
    penalty: Mapped[str | None] = mapped_column(sa.String(20))
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office: Mapped["Office"] = relationship(lazy="selectin")  # noqa: F821  (not joined: cases are locked FOR UPDATE)


class CaseEvent(db.Model):
    """The audit log of a case: opened, joined, re-judged, reviewed, decided, withdrawn."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("violation_cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(sa.String(30))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # None: the system
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Lets the unit of work insert a new case before its first event.
    case: Mapped[ViolationCase] = relationship()
