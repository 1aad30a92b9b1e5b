"""The ORM models. Import from here so that every table is registered on the metadata."""

from app.models.activity import (ActivityBatch, ActivityCount, ActivityHour, ActivitySource, OfficeSource, Signal,
                                 SignalDay, SignalEvent)
from app.models.hours import Holiday, HoursChange, HoursRule
from app.models.places import District, Office
from app.models.rounds import Round, RoundStop
from app.models.sync import (Attachment, AttachmentSender, AttachmentUpload, Change, LedgerEntry, OfficeCorrection,
                             QuarantinedOp, Report, ReportVersion, SyncConflict, WatermelonSync)
from app.models.violations import CaseEvent, ViolationCase
from app.models.users import ApiToken, Device, RateLimitCounter, Role, User, UserDistrict

__all__ = ["ActivityBatch", "ActivityCount", "ActivityHour", "ActivitySource", "OfficeSource", "Signal", "SignalDay", "SignalEvent", "CaseEvent", "ViolationCase",
           "Attachment", "AttachmentSender", "AttachmentUpload", "Change", "LedgerEntry", "OfficeCorrection",
           "QuarantinedOp", "Report", "ReportVersion", "SyncConflict", "WatermelonSync", "Round", "RoundStop",
           "ApiToken", "Device", "District", "Holiday", "HoursChange", "HoursRule", "Office", "RateLimitCounter",
           "Role", "User", "UserDistrict"]
