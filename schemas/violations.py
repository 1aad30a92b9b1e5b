"""Wire forms of violation cases, their evidence and the committee's decisions."""

import marshmallow as ma
from marshmallow import validate

from app.models.violations import CASE_STATUSES, PENALTIES
from app.violations.judge import SOUND, WEAK
from schemas.fields import Instant, JalaliDate
from schemas.input import InputSchema
from schemas.sync import ReportSchema


class CaseSchema(ma.Schema):
    id = ma.fields.UUID()
    office_id = ma.fields.UUID()
    office_code = ma.fields.String(attribute="office.code")
    district = ma.fields.Integer()
    date = ma.fields.String(attribute="jalali_date", metadata={"description": "Jalali date of the finding"})
    kind = ma.fields.String(metadata={"description": f"{SOUND} or {WEAK}"})
    status = ma.fields.String()
    reasons = ma.fields.List(ma.fields.String())
    rule = ma.fields.Dict(allow_none=True, metadata={"description": "What mandated the hours"})
    penalty = ma.fields.String(allow_none=True)
    decision_note = ma.fields.String()
    decided_by = ma.fields.Integer(allow_none=True)
    decided_at = Instant(allow_none=True)
    version = ma.fields.Integer()
    opened_at = Instant()
    updated_at = Instant()


class CaseEventSchema(ma.Schema):
    action = ma.fields.String()
    user_id = ma.fields.Integer(allow_none=True)
    detail = ma.fields.Dict()
    at = Instant()


class CaseDetailSchema(CaseSchema):
    office = ma.fields.Dict()
    reports = ma.fields.List(ma.fields.Nested(ReportSchema))
    events = ma.fields.List(ma.fields.Nested(CaseEventSchema))


class CaseQuerySchema(InputSchema):
    status = ma.fields.String(validate=validate.OneOf(CASE_STATUSES))
    kind = ma.fields.String(validate=validate.OneOf([SOUND, WEAK]))
    district = ma.fields.Integer(validate=validate.Range(1, 22))
    date_from = JalaliDate()
    date_to = JalaliDate()


class DecisionSchema(InputSchema):
    # A confirmed case carries a penalty (`none` too); a case under review or dismissed none
    # (app.services.violations.decide).
    OPENAPI = {
        "required": ["version"],
        "oneOf": [
            {"properties": {"status": {"enum": ["confirmed"]}, "penalty": {"type": "string", "enum": list(PENALTIES)}},
             "required": ["penalty"]},
            {"properties": {"status": {"enum": ["under_review", "dismissed"]},
                            "penalty": {"type": "string", "enum": ["none", None], "nullable": True}}},
        ],
    }

    version = ma.fields.Integer(validate=validate.Range(min=1),
                                metadata={"description": "The case version you read (or send it as If-Match)"})
    status = ma.fields.String(required=True, validate=validate.OneOf(["under_review", "confirmed", "dismissed"]))
    penalty = ma.fields.String(allow_none=True, load_default=None, validate=validate.OneOf(PENALTIES))
    note = ma.fields.String(load_default="", validate=validate.Length(max=4000))
