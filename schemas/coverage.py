"""Wire forms of coverage maps (DESIGN §8): district polygons with their totals and office
points with their last visit and any suspicion of closure (§10b), in one GeoJSON
FeatureCollection."""

import marshmallow as ma
from marshmallow import validate

from schemas.activity import SignalSchema
from schemas.fields import GeoJSONGeometry, GeoJSONPoint, Instant, JalaliDate
from schemas.geojson import feature_collection
from schemas.input import InputSchema
from sync.report import REPORT_STATES

# How an office is drawn, strongest first: an undecided case of the period, a visit in the
# period that found it closed, one that found it open, one that found something else
# (relocated, inaccessible), or no visit in the period at all (app.services.coverage).
MARKS = ("case_open", "closed", "open", "other", "not_visited")
# A suspicion of closure from systemic monitoring is not one of them: it is drawn as a ring
# around whichever mark the visits give (`signal`), since it is a lead for a visit, not a
# finding, and an office can be both (found open last week, silent on the platform today).

_SIGNAL = SignalSchema._declared_fields  # its fields declared once, with the signals' list
CoverageSignalSchema = ma.Schema.from_dict({
    "day": JalaliDate(metadata={"description": "The Jalali day of the suspicion (the latest in the period)"}),
    **{name: _SIGNAL[name] for name in ("window", "silent_from", "silent_to", "expected", "observed",
                                        "confidence", "reason")},
    "field_status": ma.fields.String(allow_none=True, validate=validate.OneOf(("confirmed",)), metadata={
        "description": "confirmed: a field report of that office and day found it closed or not serving; "
                       "null: no report yet (a report that found it open clears the suspicion, and `signal` "
                       "is then null)"}),
}, name="CoverageSignal")


class CoverageQuerySchema(InputSchema):
    from_ = JalaliDate(data_key="from", metadata={"description": "First Jalali day of the period (Tehran); "
                                                                "default: 29 days before `to`"})
    to = JalaliDate(metadata={"description": "Last Jalali day of the period, included; default: today"})
    district = ma.fields.Integer(validate=validate.Range(1, 22),
                                 metadata={"description": "One district (default: all of yours)"})



class _Totals(ma.Schema):
    offices = ma.fields.Integer(metadata={"description": "Offices in service (not closed for good)"})
    offices_visited = ma.fields.Integer(metadata={"description": "Of those, the ones visited in the period"})
    visits = ma.fields.Integer(metadata={"description": "Reports whose evidence time falls in the period"})
    closures_found = ma.fields.Integer(metadata={"description": "Visits that found the office closed or "
                                                               "open but not serving"})
    open_cases = ma.fields.Integer(metadata={"description": "Cases of the period's days still open or under "
                                                           "review"})
    coverage_pct = ma.fields.Float(allow_none=True, metadata={"description": "100 × offices_visited / offices, "
                                                                             "one decimal; null with no offices"})


class DistrictCoverageSchema(_Totals):
    kind = ma.fields.Constant("district")
    number = ma.fields.Integer()
    name_fa = ma.fields.String()
    name_en = ma.fields.String()
    geometry = GeoJSONGeometry(metadata={"description": "GeoJSON MultiPolygon"})


class OfficeCoverageSchema(ma.Schema):
    kind = ma.fields.Constant("office")
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()
    district = ma.fields.Integer()
    category = ma.fields.String()
    status = ma.fields.String(metadata={"description": "active, suspended or closed_permanently"})
    address = ma.fields.String()
    location = GeoJSONPoint()
    visits = ma.fields.Integer(metadata={"description": "Visits in the period"})
    closures_found = ma.fields.Integer(metadata={"description": "Visits in the period that found it closed"})
    open_cases = ma.fields.Integer(metadata={"description": "Its cases of the period still undecided"})
    open_case = ma.fields.Boolean()
    last_visit_at = Instant(allow_none=True, metadata={"description": "Evidence time of its last visit up to the "
                                                                      "period's end (may be before the period)"})
    last_visit_date = JalaliDate(allow_none=True, metadata={"description": "The Jalali day of that visit"})
    last_state = ma.fields.String(allow_none=True, validate=validate.OneOf(REPORT_STATES),
                                  metadata={"description": "What that visit found"})
    days_since_last_visit = ma.fields.Integer(allow_none=True, metadata={
        "description": "Days from the last visit to `as_of`; null if never visited"})
    mark = ma.fields.String(validate=validate.OneOf(MARKS), metadata={
        "description": "How the map draws it, from visits and cases: " + ", ".join(MARKS)})
    signal = ma.fields.Nested(CoverageSignalSchema, allow_none=True, metadata={
        "description": "Systemic monitoring (DESIGN §10b): the office's latest open suspicion of closure on a "
                       "day of the period (the platform saw it serve nobody for far longer than its own history "
                       "makes plausible in a mandated window, and no field report of that day found it open); "
                       "null if none. Not a violation: the map draws it as its own mark, a ring around `mark`, "
                       "and a visit settles it"})


class PeriodSchema(ma.Schema):
    from_ = JalaliDate(data_key="from", attribute="first")
    to = JalaliDate(attribute="last")


def coverage_collection(result) -> dict:
    """A CoverageMap as its GeoJSON FeatureCollection: the districts first, then the offices."""
    districts = feature_collection(DistrictCoverageSchema(many=True).dump(result.districts), "geometry", "number")
    offices = feature_collection(OfficeCoverageSchema(many=True).dump(result.offices), "location", "id")
    return {"type": "FeatureCollection",
            "period": PeriodSchema().dump(result.period),
            "as_of": JalaliDate()._serialize(result.as_of, None, None),
            "latest_report_date": JalaliDate(allow_none=True)._serialize(result.latest_report_date, None, None),
            "totals": _Totals().dump(result.totals),
            "features": districts["features"] + offices["features"]}


# Documentation only: the collection's shape in the OpenAPI document.
_CoverageProperties = ma.Schema.from_dict(
    {**{name: field for name, field in DistrictCoverageSchema._declared_fields.items() if name != "geometry"},
     **{name: field for name, field in OfficeCoverageSchema._declared_fields.items() if name != "location"},
     "kind": ma.fields.String(metadata={"description": "`district` (a polygon with its totals) or `office` "
                                                       "(a point with its last visit)"})},
    name="CoverageProperties")
_CoverageFeature = ma.Schema.from_dict({
    "type": ma.fields.Constant("Feature"),
    "id": ma.fields.Raw(metadata={"description": "District number or office id"}),
    "geometry": ma.fields.Dict(metadata={"description": "A GeoJSON MultiPolygon (district) or Point (office)"}),
    "properties": ma.fields.Nested(_CoverageProperties),
}, name="CoverageFeature")
CoverageCollectionSchema = ma.Schema.from_dict({
    "type": ma.fields.Constant("FeatureCollection"),
    "period": ma.fields.Nested(PeriodSchema),
    "as_of": JalaliDate(metadata={"description": "The day days_since_last_visit counts to: the period's last "
                                                 "day, or today if that is earlier"}),
    "latest_report_date": JalaliDate(allow_none=True, metadata={
        "description": "The Jalali day of the latest report (not deleted) about the offices of the answer's "
                       "districts, up to today, wherever the period lies; null if there is none. A period "
                       "with `totals.visits` 0 can offer the month of this day instead"}),
    "totals": ma.fields.Nested(_Totals),
    "features": ma.fields.List(ma.fields.Nested(_CoverageFeature)),
}, name="CoverageFeatureCollection")
