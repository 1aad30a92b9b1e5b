"""The activity feed's wire format (DESIGN §10b)."""

import marshmallow as ma
from marshmallow import validate

from schemas.input import InputSchema

MAX_EVENTS = 10_000
KEY = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._:-]*\Z", error="Letters, digits and . _ : - only.")


class ActivityBatchSchema(InputSchema):
    source = ma.fields.String(required=True, validate=[validate.Length(1, 64), KEY],
                              metadata={"description": "Which system sends (the platform, a region's gateway)"})
    batch_id = ma.fields.String(required=True, validate=[validate.Length(1, 128), KEY],
                                metadata={"description": "The batch's key within its source: send a batch again "
                                                         "(a lost answer) under the same key, with the same events"})
    # Raw: each event is checked on its own, and a bad one is refused by its index alone.
    events = ma.fields.Raw(required=True, metadata={
        "type": "array", "items": {"type": "object"}, "maxItems": MAX_EVENTS, "description": f"At most {MAX_EVENTS:,} (more: 413). Each "
        '`{"office_code": "TEH-06-01", "at": "<instant with offset>", "count": 1}`: transactions '
        "the office served at that instant (count 1 to 100,000, default 1)"})


    @ma.validates("events")
    def _a_list(self, events, **kwargs):
        if not isinstance(events, list):
            raise ma.ValidationError("Must be a list of events.")


class RejectedEventSchema(ma.Schema):
    index = ma.fields.Integer()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


class ActivityAnswerSchema(ma.Schema):
    source = ma.fields.String()
    batch_id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "applied, or duplicate: taken in before, counted once"})
    accepted = ma.fields.Integer()
    rejected = ma.fields.List(ma.fields.Nested(RejectedEventSchema),
                              metadata={"description": "Each refused event by its index, with the reasons"})
