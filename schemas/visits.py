"""Wire form of a visit list (DESIGN §7): stops in driving order, what was dropped, and why."""

import marshmallow as ma
from marshmallow import validate

from schemas.fields import ClockTime, Instant, JalaliDate
from schemas.input import USERNAME, InputSchema


class VisitListQuerySchema(InputSchema):
    date = JalaliDate(required=True, metadata={"description": "Jalali date of the round, e.g. 1405-01-05"})
    lat = ma.fields.Float(validate=validate.Range(-90, 90),
                          metadata={"description": "Where the inspector starts (with lon); "
                                                   "default: the centre of their offices"})
    lon = ma.fields.Float(validate=validate.Range(-180, 180))
    start = ClockTime(metadata={"description": "Tehran time to start from (default: now when planning "
                                               "today, else the day's first opening)"})
    inspector = ma.fields.String(validate=USERNAME, metadata={"description": "Username; for district heads and admins"})
    service_min = ma.fields.Integer(validate=validate.Range(1, 240),
                                    metadata={"description": "Minutes spent at each office (default 15)"})
    budget_s = ma.fields.Float(validate=validate.Range(0.05, 10),
                               metadata={"description": "Solver time budget in seconds (default 1)"})

    @ma.validates_schema
    def _both_or_neither(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data):
            missing = "lon" if "lat" in data else "lat"
            raise ma.ValidationError("Give lat and lon together.", missing)


class OfficeBriefSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()
    district = ma.fields.Integer()
    address = ma.fields.String()
    lat = ma.fields.Float()
    lon = ma.fields.Float()


class VisitWindowSchema(ma.Schema):
    start = ma.fields.String(metadata={"description": "HH:MM, Tehran time"})
    end = ma.fields.String(metadata={"description": "HH:MM, exclusive"})


class DroppedSchema(ma.Schema):
    """An office that cannot fit in the day, and why; a stop says the same of its office."""

    office = ma.fields.Nested(OfficeBriefSchema)
    window = ma.fields.Nested(VisitWindowSchema)
    priority = ma.fields.String(metadata={"description": "suspected_closure, not_visited, past_violation "
                                                         "or routine"})
    priority_rank = ma.fields.Integer(metadata={"description": "0 (first) … 3"})
    reason = ma.fields.String()


class StopSchema(DroppedSchema):
    seq = ma.fields.Integer()
    eta = Instant(metadata={"description": "Arrival"})
    visit_at = Instant(metadata={"description": "When the visit starts (after waiting for the window)"})
    wait_min = ma.fields.Integer()
    travel_m = ma.fields.Integer(metadata={"description": "Metres from the previous stop (or the start)"})
    travel_min = ma.fields.Integer()


class DoneSchema(ma.Schema):
    office = ma.fields.Nested(OfficeBriefSchema)
    report_id = ma.fields.UUID()
    at = Instant()
    office_state = ma.fields.String()


class ClosedSchema(ma.Schema):
    office = ma.fields.Nested(OfficeBriefSchema)
    reason = ma.fields.String()


class StartSchema(ma.Schema):
    at = Instant()
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    position_source = ma.fields.String(metadata={"description": "given or offices_centre"})


class TotalsSchema(ma.Schema):
    stops = ma.fields.Integer()
    dropped = ma.fields.Integer()
    done = ma.fields.Integer()
    closed = ma.fields.Integer()
    travel_m = ma.fields.Integer()
    travel_min = ma.fields.Integer()
    service_min = ma.fields.Integer()
    finish_at = Instant(allow_none=True)


class SolverSchema(ma.Schema):
    name = ma.fields.String()
    time_budget_s = ma.fields.Float()
    elapsed_s = ma.fields.Float()
    service_min = ma.fields.Integer()
    travel_model = ma.fields.Dict()


class VisitListSchema(ma.Schema):
    date = JalaliDate()
    inspector = ma.fields.String()
    round_id = ma.fields.UUID(allow_none=True)
    start = ma.fields.Nested(StartSchema)
    stops = ma.fields.List(ma.fields.Nested(StopSchema))
    dropped = ma.fields.List(ma.fields.Nested(DroppedSchema))
    done = ma.fields.List(ma.fields.Nested(DoneSchema))
    closed = ma.fields.List(ma.fields.Nested(ClosedSchema))
    totals = ma.fields.Nested(TotalsSchema)
    solver = ma.fields.Nested(SolverSchema, allow_none=True)
