"""Wire forms of rounds (a district's offices for a day, split among its inspectors)."""

import marshmallow as ma
from marshmallow import validate

from app.models.rounds import ROUND_METHODS
from schemas.fields import Instant, JalaliDate, JSONBoolean
from schemas.input import USERNAME, InputSchema


class RoundStopSchema(ma.Schema):
    seq = ma.fields.Integer()
    office_id = ma.fields.UUID()
    eta = ma.fields.Method("_eta", metadata={"description": "Planned arrival, Tehran time HH:MM (null: "
                                                            "does not fit the day as ordered)"})

    def _eta(self, stop) -> str | None:
        return None if stop.eta_minute is None else f"{stop.eta_minute // 60:02d}:{stop.eta_minute % 60:02d}"


class RoundSchema(ma.Schema):
    id = ma.fields.UUID()
    version = ma.fields.Integer()
    date = ma.fields.String(attribute="jalali_date", metadata={"description": "Jalali date of the round"})
    district = ma.fields.Integer()
    inspector = ma.fields.String(attribute="inspector.username")
    inspector_id = ma.fields.Integer()
    method = ma.fields.String(metadata={"description": " or ".join(ROUND_METHODS)})
    planned_minutes = ma.fields.Integer(metadata={"description": "Estimated work: travel, waits and service"})
    stops = ma.fields.List(ma.fields.Nested(RoundStopSchema), metadata={"description": "In planned order"})
    updated_at = Instant()


class OfficeReasonSchema(ma.Schema):
    office_id = ma.fields.UUID(attribute="office.id")
    office_code = ma.fields.String(attribute="office.code")
    reason = ma.fields.String()


class SplitSchema(ma.Schema):
    rounds = ma.fields.List(ma.fields.Nested(RoundSchema))
    unassigned = ma.fields.List(ma.fields.Nested(OfficeReasonSchema),
                                metadata={"description": "Offices in no round, and why (closed that day…)"})


class AssignmentSchema(InputSchema):
    inspector = ma.fields.String(required=True, validate=USERNAME)
    offices = ma.fields.List(ma.fields.UUID(), required=True, validate=validate.Length(max=500))


class RoundsInputSchema(InputSchema):
    OPENAPI = {"oneOf": [{"required": ["inspectors"]}, {"required": ["assignments"]}]}

    date = JalaliDate(required=True)
    district = ma.fields.Integer(validate=validate.Range(1, 22),
                                 metadata={"description": "Needed unless you head exactly one district"})
    inspectors = ma.fields.List(ma.fields.String(validate=USERNAME), validate=validate.Length(min=1, max=50),
                                metadata={"description": "Split the offices among these, balanced by work"})
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema), validate=validate.Length(min=1, max=50),
                                 metadata={"description": "Or give each inspector's offices by hand"})
    replace = JSONBoolean(load_default=False,
                                metadata={"description": "Replace the district's rounds of that day"})

    @ma.validates_schema
    def _one_way(self, data, **kwargs):
        if ("inspectors" in data) == ("assignments" in data):
            raise ma.ValidationError("Give either `inspectors` (balanced) or `assignments` (by hand).",
                                     "inspectors")


class RoundPatchSchema(InputSchema):
    OPENAPI = {"required": ["version"]}

    version = ma.fields.Integer(validate=validate.Range(min=1),
                                metadata={"description": "The version you read (or send it as If-Match)"})
    offices = ma.fields.List(ma.fields.UUID(), validate=validate.Length(max=500),
                             metadata={"description": "The round's offices in the order to drive them"})
    inspector = ma.fields.String(validate=USERNAME)


class RoundQuerySchema(InputSchema):
    date = JalaliDate()
    district = ma.fields.Integer(validate=validate.Range(1, 22))


class VersionQuerySchema(InputSchema):
    OPENAPI = {"required": ["version"]}

    version = ma.fields.Integer(validate=validate.Range(min=1),
                                metadata={"description": "The version you read (or send it as If-Match)"})
