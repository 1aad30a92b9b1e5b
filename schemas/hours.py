"""Wire forms of mandated-hours rules, holidays, their changes, and the hours of an office.

The read forms of rules and holidays are also what the sync pull sends (entities
`hours_rules` and `holidays`, DESIGN §5.1).
"""

import copy

import marshmallow as ma
from marshmallow import validate

from app.hours.calendar import WEEKDAYS
from app.hours.rules import KINDS
from schemas.fields import ClockTime, Instant, JalaliDate, JSONBoolean
from schemas import patterns
from schemas.input import InputSchema


class WindowSchema(ma.Schema):
    start = ma.fields.String(metadata={"description": "Tehran wall-clock time, HH:MM (inclusive)"})
    end = ma.fields.String(metadata={"description": "HH:MM (exclusive: 16:30 means open until 16:29:59)"})


class WindowInputSchema(InputSchema):
    start = ClockTime(required=True)
    end = ClockTime(required=True)


class HoursRuleSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    scope = ma.fields.String(metadata={"description": "city, district:N, category:NAME or office:ID"})
    date_from = ma.fields.String(metadata={"description": "Jalali 1405-01-05, or 01-05 for every year"})
    date_to = ma.fields.String()
    every_year = ma.fields.Boolean()
    weekdays = ma.fields.List(ma.fields.String(), metadata={"description": "sat … fri; empty: every day"})
    kind = ma.fields.String(metadata={"description": "open (with windows) or closed"})
    windows = ma.fields.List(ma.fields.Nested(WindowSchema))
    exempt_categories = ma.fields.List(ma.fields.String())
    on_holidays = ma.fields.Boolean(metadata={"description": "The rule applies on official holidays too"})
    note = ma.fields.String()
    published_at = Instant()
    version = ma.fields.Integer()
    withdrawn = ma.fields.Boolean()

    @ma.pre_dump
    def _from_model(self, rule, **kwargs):
        def md(month, day):
            return f"{month:02d}-{day:02d}" if rule.year is None else f"{rule.year:04d}-{month:02d}-{day:02d}"

        return {
            "id": rule.id, "name": rule.name, "scope": rule.scope,
            "date_from": md(rule.from_month, rule.from_day), "date_to": md(rule.to_month, rule.to_day),
            "every_year": rule.year is None, "weekdays": rule.weekdays, "kind": rule.kind,
            "windows": rule.windows, "exempt_categories": rule.exempt_categories,
            "on_holidays": rule.on_holidays, "note": rule.note, "published_at": rule.published_at,
            "version": rule.version, "withdrawn": rule.withdrawn_at is not None,
        }


RULE_DATE = {"pattern": patterns.whole(f"(?:{patterns.JALALI_DATE}|{patterns.MONTH_DAY})"),
             "description": "Jalali 1405-01-05, or 01-05 for every year (both dates the same way)"}


class HoursRuleInputSchema(InputSchema):
    """A rule as an admin writes it; checked as a whole by the service (app.services.hours)."""

    # An open rule has windows, a closed one none (app.hours.rules.check_windows).
    OPENAPI = {"oneOf": [
        {"properties": {"kind": {"enum": ["open"]}, "windows": {"minItems": 1}}, "required": ["windows"]},
        {"properties": {"kind": {"enum": ["closed"]}, "windows": {"maxItems": 0}}},
    ]}

    name = ma.fields.String(required=True, validate=validate.Length(1, 200))
    scope = ma.fields.String(required=True, validate=validate.Length(1, 80), metadata={
        "pattern": patterns.whole(patterns.SCOPE), "description": "city, district:N, category:NAME or office:ID"})
    date_from = ma.fields.String(required=True, validate=validate.Length(1, 20), metadata=RULE_DATE)
    date_to = ma.fields.String(required=True, validate=validate.Length(1, 20), metadata=RULE_DATE)
    weekdays = ma.fields.List(ma.fields.String(validate=validate.OneOf(WEEKDAYS)), load_default=list)
    kind = ma.fields.String(required=True, validate=validate.OneOf(KINDS))
    windows = ma.fields.List(ma.fields.Nested(WindowInputSchema), load_default=list)
    exempt_categories = ma.fields.List(ma.fields.String(validate=validate.Length(1, 40)), load_default=list)
    on_holidays = JSONBoolean(load_default=False)
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))


def _optional(field: ma.fields.Field) -> ma.fields.Field:
    field = copy.deepcopy(field)
    field.required, field.load_default = False, ma.missing
    return field


# Any fields of a rule, each as HoursRuleInputSchema takes it, with the version they were
# based on (stale: 409).
HoursRulePatchSchema = InputSchema.from_dict({
    "version": ma.fields.Integer(required=True, validate=validate.Range(min=1)),
    **{name: _optional(field) for name, field in HoursRuleInputSchema._declared_fields.items()},
}, name="HoursRulePatchSchema")


class VersionSchema(InputSchema):
    version = ma.fields.Integer(required=True, validate=validate.Range(min=1))


class HolidaySchema(ma.Schema):
    id = ma.fields.UUID()
    date = ma.fields.String(attribute="jalali_date", metadata={"description": "Jalali date"})
    gregorian_date = ma.fields.Date()
    title = ma.fields.String()
    source = ma.fields.String(metadata={"description": "official (the published calendar) or admin"})
    cancelled = ma.fields.Boolean()
    version = ma.fields.Integer()


class HolidayInputSchema(InputSchema):
    date = JalaliDate(required=True)
    title = ma.fields.String(required=True, validate=validate.Length(1, 300))


class HolidayQuerySchema(InputSchema):
    year = ma.fields.Integer(validate=validate.Range(1300, 1500))
    include_cancelled = ma.fields.Boolean(load_default=False)


class RuleQuerySchema(InputSchema):
    include_withdrawn = ma.fields.Boolean(load_default=False)


class HoursChangeSchema(ma.Schema):
    id = ma.fields.Integer()
    entity = ma.fields.String()
    entity_id = ma.fields.UUID()
    action = ma.fields.String()
    user_id = ma.fields.Integer(allow_none=True)
    at = Instant()
    before = ma.fields.Dict(allow_none=True)
    after = ma.fields.Dict(allow_none=True)
    reevaluated_flags = ma.fields.Integer()


class ChangeQuerySchema(InputSchema):
    entity_id = ma.fields.UUID()


class DecidedBySchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "rule or holiday"})
    id = ma.fields.UUID()
    name = ma.fields.String()
    scope = ma.fields.String()
    published_at = Instant()
    titles = ma.fields.List(ma.fields.String())


class OfficeHoursSchema(ma.Schema):
    office_id = ma.fields.UUID()
    office_code = ma.fields.String()
    district = ma.fields.Integer()
    date = ma.fields.String(metadata={"description": "Jalali date"})
    weekday = ma.fields.String()
    must_open = ma.fields.Boolean(metadata={"description": "Some hours are mandated this day"})
    windows = ma.fields.List(ma.fields.Nested(WindowSchema))
    decided_by = ma.fields.Nested(DecidedBySchema, allow_none=True)
    overruled = ma.fields.List(ma.fields.Nested(DecidedBySchema))
    holidays = ma.fields.List(ma.fields.String())
    reason = ma.fields.String()
    at = Instant(metadata={"description": "When asked with `at`: the instant"})
    must_be_open_at = ma.fields.Boolean(metadata={"description": "When asked with `at`: must it be open then"})
    window_at = ma.fields.Nested(WindowSchema, allow_none=True)


class HoursQuerySchema(InputSchema):
    date = JalaliDate(metadata={"description": "Jalali date (any digits, - or /)"})
    at = Instant(metadata={"description": "An instant with offset; its Tehran day is the date"})

    @ma.validates_schema
    def _date_or_at(self, data, **kwargs):
        if "date" not in data and "at" not in data:
            raise ma.ValidationError("Give a Jalali `date` (or an instant `at`).", "date")


class DistrictHoursQuerySchema(HoursQuerySchema):
    district = ma.fields.Integer(validate=validate.Range(1, 22))
