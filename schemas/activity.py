"""The activity feed's wire format (DESIGN §10b)."""

import marshmallow as ma
from marshmallow import validate

from schemas.fields import Instant, JalaliDate
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


# ---------------------------------------------------------------- signals

SIGNAL_STATES = ("suspected_closure", "normal", "no_data", "outage")
SIGNAL_REASONS = ("silent_beyond_expectation", "serving", "habitual_silence", "platform_outage", "no_history",
                  "feed_silent", "source_silent", "awaiting_feed", "not_started")


class SignalsQuerySchema(InputSchema):
    date = JalaliDate(metadata={"description": "The Jalali day (Tehran); default: today"})
    district = ma.fields.Integer(validate=validate.Range(1, 22),
                                 metadata={"description": "One district (default: all of yours)"})


class SignalFieldSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "confirmed (a report made during the silence found the "
                                                       "office closed, not serving or closed for good) or cleared "
                                                       "(found it open, from within 200 m)"})
    office_state = ma.fields.String(metadata={"description": "What the report found"})
    evidence_time = Instant()
    report_id = ma.fields.UUID(allow_none=True, metadata={"description": "The report (null for an inspector, "
                                                                         "but for their own report beside a case)"})


class SignalEventSchema(ma.Schema):
    at = Instant()
    kind = ma.fields.String(metadata={"description": "A state the signal took, confirmed, cleared, field_withdrawn "
                                                     "(the report was deleted), withdrawn (the hours no longer "
                                                     "mandate the window)"})
    detail = ma.fields.Dict()


class SignalSchema(ma.Schema):
    office_id = ma.fields.UUID()
    office_code = ma.fields.String()
    office_name = ma.fields.String()
    district = ma.fields.Integer()
    date = JalaliDate()
    window = ma.fields.String(metadata={"description": "The mandated window, Tehran, 08:00–16:30"})
    state = ma.fields.String(metadata={"enum": list(SIGNAL_STATES)})
    silent_from = Instant(allow_none=True, metadata={"description": "The silence's first minute"})
    silent_to = Instant(allow_none=True, metadata={"description": "The end of its last minute"})
    expected = ma.fields.Float(metadata={"description": "Transactions expected in the window up to judged_until"})
    observed = ma.fields.Integer(metadata={"description": "Transactions counted in it"})
    confidence = ma.fields.Float(allow_none=True, metadata={
        "description": "For a suspicion: 1 − the chance of a silence this long at an open office (≥ 0.999)"})
    reason = ma.fields.String(metadata={"description": "In Persian, for people"})
    reason_code = ma.fields.String(metadata={"enum": list(SIGNAL_REASONS)})
    judged_until = Instant(metadata={"description": "The window is judged up to here (now, while it runs)"})
    field = ma.fields.Nested(SignalFieldSchema, allow_none=True,
                             metadata={"description": "What a field report of that office and day made of it"})
    history = ma.fields.List(ma.fields.Nested(SignalEventSchema), metadata={
        "description": "Every change of state and every field report's word, in order, never rewritten"})


class SignalListSchema(ma.Schema):
    date = JalaliDate()
    items = ma.fields.List(ma.fields.Nested(SignalSchema))
