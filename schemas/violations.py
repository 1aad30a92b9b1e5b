"""Wire forms of violation cases, their evidence and the committee's decisions."""

import marshmallow as ma
from marshmallow import validate

from app.models.violations import CASE_STATUSES, PENALTIES
from app.violations.judge import CODES, HOURS_DOC, SOUND, WEAK
from schemas.activity import SignalSchema
from schemas.fields import Instant, JalaliDate
from schemas.input import InputSchema
from schemas.sync import ReportSchema


class FindingSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "A stable code; its meaning never changes, new ones may be "
                                                     "added (show `text` for a code you do not know). " +
                                                     "; ".join(f"`{c}`: {doc}" for c, doc in CODES.items()) +
                                                     "; `unrecognised`: a reason recorded before codes existed "
                                                     "that fits none of them"})
    params = ma.fields.Dict(metadata={"description": "The code's parameters (numbers as numbers). " + HOURS_DOC})
    text = ma.fields.String(metadata={"description": "The same in English words (one of `reasons`)"})


class CaseSchema(ma.Schema):
    id = ma.fields.UUID()
    office_id = ma.fields.UUID()
    office_code = ma.fields.String(attribute="office.code")
    district = ma.fields.Integer()
    date = ma.fields.String(attribute="jalali_date", metadata={"description": "Jalali date of the finding"})
    kind = ma.fields.String(metadata={"description": f"{SOUND} or {WEAK}"})
    status = ma.fields.String()
    reasons = ma.fields.List(ma.fields.String(), metadata={"description": "Why, in English words (the texts of "
                                                                          "`findings`)"})
    findings = ma.fields.List(ma.fields.Nested(FindingSchema), metadata={
        "description": "Why, as codes with parameters, for a page to word in its own language"})
    rule = ma.fields.Dict(allow_none=True, metadata={"description": "What mandated the hours"})
    penalty = ma.fields.String(allow_none=True)
    decision_note = ma.fields.String()
    decided_by = ma.fields.Integer(allow_none=True)
    decided_at = Instant(allow_none=True)
    version = ma.fields.Integer()
    opened_at = Instant()
    updated_at = Instant()


class CaseEventSchema(ma.Schema):
    action = ma.fields.String(metadata={"description": "opened, joined, context, rejudged, withdrawn, "
                                                       "under_review or decided"})
    user_id = ma.fields.Integer(allow_none=True)
    detail = ma.fields.Dict()
    findings = ma.fields.List(ma.fields.Nested(FindingSchema), attribute="detail.findings", dump_default=list,
                              metadata={"description": "The findings of the report the event is about (opened, "
                                        "joined, context), of the case as re-judged (rejudged), or why it no longer "
                                        "holds (withdrawn); empty for the others"})
    at = Instant()

    @ma.post_dump
    def _findings_once(self, data: dict, **kwargs) -> dict:
        # Stored in the detail, sent beside it: once is enough.
        data["detail"] = {k: v for k, v in data["detail"].items() if k != "findings"}
        return data


class CaseDetailSchema(CaseSchema):
    office = ma.fields.Dict()
    reports = ma.fields.List(ma.fields.Nested(ReportSchema))
    events = ma.fields.List(ma.fields.Nested(CaseEventSchema))
    signals = ma.fields.List(ma.fields.Nested(SignalSchema), metadata={"description": (
        "Context, not evidence: systemic monitoring's signals (DESIGN §10b) of the case's office on the "
        "case's day, one per mandated window, as `GET /api/v1/signals` gives them, with their history. "
        "A signal is never a violation by itself and no case is opened from one: the case stands on its "
        "field reports alone. `field` says whether a field report of that office and day confirmed the "
        "suspicion (found the office closed) or cleared it. An office the feed never covered, or a day it "
        "sent nothing for, has its windows `no_data`; the list is empty on a day the hours mandate no window, "
        "or for an office outside your districts. For an inspector, a field report that is not one of "
        "their own is not named (`report_id` null, in `field` and in `history`).")})


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
