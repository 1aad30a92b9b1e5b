"""The sync protocol's wire format (DESIGN §5): envelopes, ops, reports, corrections, results."""

import marshmallow as ma
from marshmallow import validate

from app.models.sync import REPORT_STATES
from schemas.fields import GeoJSONPoint, Instant
from schemas.input import InputSchema

PROTOCOL = 1
MAX_OPS = 500
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="Must be a lower-case hex SHA-256 (64 characters).")


class _Protocol(ma.fields.Integer):
    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        if number != PROTOCOL:
            raise ma.ValidationError(f"This server speaks sync protocol {PROTOCOL}, not {number}.")
        return number


class PullRequestSchema(InputSchema):
    protocol = _Protocol(required=True)
    device_id = ma.fields.UUID(required=True)
    cursor = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))
    limit = ma.fields.Integer(load_default=500, validate=validate.Range(1, 1000))


class ChangesSchema(ma.Schema):
    upserted = ma.fields.List(ma.fields.Dict())
    deleted = ma.fields.List(ma.fields.Raw())


class PullResponseSchema(ma.Schema):
    protocol = ma.fields.Integer()
    cursor = ma.fields.String()
    has_more = ma.fields.Boolean()
    reset = ma.fields.Boolean(metadata={"description": "Drop server-owned records not in the pages that follow "
                                                       "(never unsynced reports)"})
    server_time = Instant()
    changes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ChangesSchema))


class PushRequestSchema(InputSchema):
    protocol = _Protocol(required=True)
    device_id = ma.fields.UUID(required=True)
    sent_at = Instant(required=True, metadata={"description": "The phone's clock when it sent the push"})
    # Any JSON, null too: a bad op is refused alone, in its result (DESIGN §5.2).
    ops = ma.fields.List(ma.fields.Raw(allow_none=True), required=True,
                         metadata={"description": f"At most {MAX_OPS}; each is checked on its own"})


class OpSchema(InputSchema):
    op_id = ma.fields.UUID(required=True)
    entity = ma.fields.String(required=True, validate=validate.OneOf(["reports", "office_corrections"]))
    action = ma.fields.String(required=True, validate=validate.OneOf(["create", "update", "delete"]))
    id = ma.fields.UUID(required=True)
    base_version = ma.fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1))
    changed_at = Instant(required=True)
    data = ma.fields.Dict(load_default=None, allow_none=True)

    @ma.validates_schema
    def _shape(self, op, **kwargs):
        action = op.get("action")
        if op.get("entity") == "office_corrections" and action != "create":
            raise ma.ValidationError("Office corrections can only be created.", "action")
        if action == "create" and op.get("base_version") is not None:
            raise ma.ValidationError("A create has no base_version.", "base_version")
        if action in ("update", "delete") and op.get("base_version") is None:
            raise ma.ValidationError("Give the version this change was based on.", "base_version")
        if action in ("create", "update") and not isinstance(op.get("data"), dict):
            raise ma.ValidationError("Give the report's fields.", "data")
        if action == "delete" and op.get("data"):
            raise ma.ValidationError("A delete carries no data.", "data")


class PhotoSchema(InputSchema):
    sha256 = ma.fields.String(required=True, validate=SHA256)
    taken_at = Instant(allow_none=True, load_default=None)
    caption = ma.fields.String(load_default="", validate=validate.Length(max=500))


class ReportCreateSchema(InputSchema):
    office_id = ma.fields.UUID(required=True)
    round_id = ma.fields.UUID(allow_none=True, load_default=None)
    observed_at = Instant(required=True, metadata={"description": "The phone's clock when the office was seen"})
    gps_fix_at = Instant(allow_none=True, load_default=None)
    location = GeoJSONPoint(allow_none=True, load_default=None)
    accuracy_m = ma.fields.Float(allow_none=True, load_default=None, validate=validate.Range(0, 100_000))
    office_state = ma.fields.String(required=True, validate=validate.OneOf(REPORT_STATES))
    staff_present = ma.fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, 10_000))
    checklist = ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(1, 64)),
                               values=ma.fields.Boolean(allow_none=True), load_default=dict,
                               validate=validate.Length(max=100))
    notes = ma.fields.String(load_default="", validate=validate.Length(max=4000))
    photos = ma.fields.List(ma.fields.Nested(PhotoSchema), load_default=list, validate=validate.Length(max=50))


class ReportUpdateSchema(ReportCreateSchema):
    """The fields a client changed; any subset of the create fields."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class OfficeCorrectionSchema(InputSchema):
    office_id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(["moved", "phone", "closed_permanently"]))
    location = GeoJSONPoint(allow_none=True, load_default=None)
    phone = ma.fields.String(allow_none=True, load_default=None,
                             validate=validate.Regexp(r"^[0-9+()\- ]{3,40}$", error="Digits, spaces, +, - and ()."))
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))

    @ma.validates_schema
    def _needs(self, data, **kwargs):
        if data.get("kind") == "moved" and data.get("location") is None:
            raise ma.ValidationError("A move needs the new location.", "location")
        if data.get("kind") == "phone" and not data.get("phone"):
            raise ma.ValidationError("Give the new phone number.", "phone")


class ReportSchema(ma.Schema):
    """A report with its server-owned fields, as pulls, push results and the API show it."""

    id = ma.fields.UUID()
    office_id = ma.fields.UUID()
    round_id = ma.fields.UUID(allow_none=True)
    observed_at = Instant()
    gps_fix_at = Instant(allow_none=True)
    location = GeoJSONPoint(allow_none=True)
    accuracy_m = ma.fields.Float(allow_none=True)
    office_state = ma.fields.String()
    staff_present = ma.fields.Integer(allow_none=True)
    checklist = ma.fields.Dict()
    notes = ma.fields.String()
    photos = ma.fields.List(ma.fields.Dict())
    version = ma.fields.Integer()
    received_at = Instant()
    evidence_time = Instant()
    evidence_time_source = ma.fields.String()
    clock_skew_s = ma.fields.Float()
    distance_to_office_m = ma.fields.Float(allow_none=True)
    locked = ma.fields.Boolean()
    flags = ma.fields.List(ma.fields.String())
    violation_id = ma.fields.UUID(allow_none=True)
    amendments = ma.fields.List(ma.fields.Dict())
    photos_pending = ma.fields.List(ma.fields.String(), metadata={"description": "sha256s not yet uploaded"})

    @ma.pre_dump
    def _unpack(self, item, **kwargs):
        report, pending = item
        out = {name: getattr(report, name) for name in self.fields if name != "photos_pending"}
        out["photos_pending"] = sorted(pending)
        return out


class ConflictSchema(ma.Schema):
    field = ma.fields.String()
    base = ma.fields.Raw(allow_none=True)
    server = ma.fields.Raw(allow_none=True)
    client = ma.fields.Raw(allow_none=True)
    resolved = ma.fields.Raw(allow_none=True)
    policy = ma.fields.String()


class OpResultSchema(ma.Schema):
    op_id = ma.fields.Raw()
    status = ma.fields.String(metadata={"description": "applied, merged, duplicate or rejected"})
    id = ma.fields.UUID()
    version = ma.fields.Integer()
    record = ma.fields.Dict()
    conflicts = ma.fields.List(ma.fields.Nested(ConflictSchema))
    missing_attachments = ma.fields.List(ma.fields.String())
    flags = ma.fields.List(ma.fields.String())
    errors = ma.fields.Dict()


class PushResponseSchema(ma.Schema):
    protocol = ma.fields.Integer()
    server_time = Instant()
    clock_skew_s = ma.fields.Float()
    results = ma.fields.List(ma.fields.Nested(OpResultSchema))


class QuarantineSchema(ma.Schema):
    id = ma.fields.Integer()
    op_id = ma.fields.String()
    user_id = ma.fields.Integer()
    device_id = ma.fields.UUID(allow_none=True)
    entity = ma.fields.String(allow_none=True)
    action = ma.fields.String(allow_none=True)
    payload = ma.fields.Raw()
    errors = ma.fields.Dict()
    received_at = Instant()
