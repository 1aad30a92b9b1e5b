"""Sync state: reports and their history, the op ledger, conflicts, quarantine, attachments,
office corrections, and the change feed that pulls page through."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db
from sync.report import REPORT_STATES

SRID = 4326
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


class Change(db.Model):
    """One committed change to a synced record, in commit order (see app.services.changefeed)."""

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(sa.String(20))
    entity_id: Mapped[str] = mapped_column(sa.String(36))
    district: Mapped[int | None] = mapped_column(index=True)  # for district-scoped entities
    user_id: Mapped[int | None] = mapped_column(index=True)  # for reports: the author
    deleted: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int | None]  # for reports: the version this change made (a report as of a position)

    __table_args__ = (sa.Index("ix_changes_entity_id_seq", "entity_id", "seq"),)


class WatermelonSync(db.Model):
    """One pull or push of a token in WatermelonDB's protocol (DESIGN §5.8): the feed
    positions it came from (`sent`, None on a first sync) and answered (`answered`), the
    districts it was for, and when. A push's merge base is read from these."""

    __tablename__ = "watermelon_syncs"
    __table_args__ = (sa.Index("ix_watermelon_syncs_token_id", "token_id", "id"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(4))  # pull | push
    sent: Mapped[int | None] = mapped_column(BigInt)
    answered: Mapped[int] = mapped_column(BigInt)
    districts: Mapped[str] = mapped_column(sa.String(200))  # "3,6"; "*" for all
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        sa.CheckConstraint(sa.column("office_state").in_(REPORT_STATES), name="office_state"),
        # An office's latest report in one index seek (the coverage map's last visit).
        sa.Index("ix_reports_office_evidence", "office_id", "evidence_time", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)  # made by the phone
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    district: Mapped[int] = mapped_column(index=True)  # the office's district when reported
    round_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    gps_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)
    accuracy_m: Mapped[float | None]
    office_state: Mapped[str] = mapped_column(sa.String(24))
    staff_present: Mapped[int | None]
    checklist: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Server-owned
    version: Mapped[int] = mapped_column(default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    evidence_time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    evidence_time_source: Mapped[str] = mapped_column(sa.String(20))
    clock_skew_s: Mapped[float] = mapped_column(default=0.0)
    distance_to_office_m: Mapped[float | None]
    locked: Mapped[bool] = mapped_column(default=False)
    flags: Mapped[list] = mapped_column(sa.JSON, default=list)
    violation_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    amendments: Mapped[list] = mapped_column(sa.JSON, default=list)
    field_times: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # field -> ISO instant of last edit
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The report as a pull sends it, but `photos_pending` (which the uploads change): JSON
    # written at each change of the report (app/services/report_form.py), so that a pull
    # sends it as it is; and the key it was written under (its format, the version then),
    # which a pull checks. None on reports written before it was kept.
    wire: Mapped[str | None] = mapped_column(sa.Text)
    wire_key: Mapped[str | None] = mapped_column(sa.String(40))


class ReportVersion(db.Model):
    """Every version of a report's client fields, so a three-way merge can see its base."""

    __tablename__ = "report_versions"

    report_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[dict] = mapped_column(sa.JSON)
    op_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(db.Model):
    """A landed op, written in the same transaction as its effect: the idempotency key."""

    __tablename__ = "op_ledger"

    op_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    entity: Mapped[str] = mapped_column(sa.String(30))
    entity_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    action: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10))  # applied | merged
    # What the op carried (sync.replay.op_digest): a replay must match it. None on ops
    # landed before digests were kept.
    digest: Mapped[str | None] = mapped_column(sa.String(64))
    version: Mapped[int | None]
    base_version: Mapped[int | None]  # the version an update was based on (WatermelonDB's next merge base)
    result: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # conflicts, missing_attachments, flags
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncConflict(db.Model):
    """Every conflict a merge met, kept so that nothing a person typed is silently lost."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    op_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(sa.String(80))
    policy: Mapped[str] = mapped_column(sa.String(30))
    base: Mapped[object | None] = mapped_column(sa.JSON)
    server: Mapped[object | None] = mapped_column(sa.JSON)
    client: Mapped[object | None] = mapped_column(sa.JSON)
    resolved: Mapped[object | None] = mapped_column(sa.JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuarantinedOp(db.Model):
    """An op the server could not apply, with its payload and the reasons, for people to see."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    op_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    entity: Mapped[str | None] = mapped_column(sa.String(30))
    action: Mapped[str | None] = mapped_column(sa.String(10))
    payload: Mapped[object] = mapped_column(sa.JSON)
    errors: Mapped[dict] = mapped_column(sa.JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(db.Model):
    """A photo that has fully arrived and hashes to its name."""

    __tablename__ = "attachments"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInt)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    uploaded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))  # the first
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttachmentSender(db.Model):
    """A user who sent a photo's bytes themself (DESIGN §5.5). A hash is a name, not a proof:
    a report's photo counts as present only once the report's author is among its senders,
    and only they (and those who may see such a report) may read it."""

    __tablename__ = "attachment_senders"

    sha256: Mapped[str] = mapped_column(sa.ForeignKey("attachments.sha256", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttachmentUpload(db.Model):
    """A photo arriving in pieces from one user; the bytes so far are in a file of that user's
    under ATTACHMENTS_DIR. Another user sending the same photo has an upload of their own."""

    __tablename__ = "attachment_uploads"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    total: Mapped[int] = mapped_column(BigInt)
    # The bytes that have arrived, as of the last commit: the file may hold more, appended by
    # a request whose transaction then failed, and those are cut off before the next piece
    # (app.services.attachments). The file alone would let a complete but unstored upload
    # answer Upload-Offset = its whole size, and the phone take the photo for sent.
    received: Mapped[int] = mapped_column(BigInt, default=0, server_default="0")
    content_type: Mapped[str] = mapped_column(sa.String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OfficeCorrection(db.Model):
    """An inspector's proposal that an office moved, changed phone or closed for good."""

    __tablename__ = "office_corrections"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('moved', 'phone', 'closed_permanently')", name="kind"),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)  # made by the phone
    office_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
