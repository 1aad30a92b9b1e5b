"""Tehran's districts and the electronic services offices in them."""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db

SRID = 4326


class OfficeStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED_PERMANENTLY = "closed_permanently"


class District(db.Model):
    __tablename__ = "districts"
    __table_args__ = (sa.CheckConstraint("number BETWEEN 1 AND 22", name="number_range"),)

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    geometry = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Office(db.Model):
    __tablename__ = "offices"
    __table_args__ = (
        sa.CheckConstraint(sa.column("status").in_([s.value for s in OfficeStatus]), name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Decided by point-in-polygon against the districts, in the database, on every write.
    district: Mapped[int] = mapped_column(sa.ForeignKey("districts.number"), index=True)
    category: Mapped[str] = mapped_column(sa.String(40))
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    address: Mapped[str] = mapped_column(sa.String(400), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    status: Mapped[str] = mapped_column(sa.String(20), default=OfficeStatus.ACTIVE.value)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
