"""Mandated hours: the question for an office or a district, and the admin's rules and holidays."""

import uuid

from flask.views import MethodView

from app.api.common import page_of
from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.errors import answered_as
from app.hours import calendar
from app.models import Role
from app.services import hours
from schemas.hours import (ChangeQuerySchema, DistrictHoursQuerySchema, HolidayInputSchema, HolidayQuerySchema,
                           HolidaySchema, HoursChangeSchema, HoursQuerySchema, HoursRuleInputSchema,
                           HoursRulePatchSchema, HoursRuleSchema, OfficeHoursSchema, RuleQuerySchema,
                           VersionSchema)

blp = Blueprint("hours", __name__, url_prefix="/api/v1", description="Mandated hours, rules and holidays")


def _decided(rule) -> dict:
    return {"kind": "rule", "id": rule.id, "name": rule.name, "scope": str(rule.scope),
            "published_at": rule.published_at}


def _wire(result: hours.OfficeHours) -> dict:
    """The wire form of an office's hours (documented by OfficeHoursSchema)."""
    day_hours = result.hours
    window = lambda w: {"start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}"}  # noqa: E731
    if day_hours.rule is not None:
        decided_by = _decided(day_hours.rule)
    elif day_hours.holidays:
        decided_by = {"kind": "holiday", "titles": list(day_hours.holidays)}
    else:
        decided_by = None
    out = {
        "office_id": result.office.id, "office_code": result.office.code, "district": result.office.district,
        "date": calendar.format_date(day_hours.day), "weekday": calendar.weekday(day_hours.day),
        "must_open": bool(day_hours.windows), "windows": [window(w) for w in day_hours.windows],
        "decided_by": decided_by, "overruled": [_decided(r) for r in day_hours.overruled],
        "holidays": list(day_hours.holidays), "reason": day_hours.reason,
    }
    if result.answer is not None:
        out |= {"at": result.answer.instant, "must_be_open_at": result.answer.must_be_open,
                "window_at": window(result.answer.window) if result.answer.window else None}
    return out


@blp.route("/offices/<uuid:office_id>/mandated-hours")
class OfficeMandatedHours(MethodView):
    @requires()
    @blp.arguments(HoursQuerySchema, location="query")
    @blp.response(200, OfficeHoursSchema)
    @blp.alt_response(404, description="No such office")
    def get(self, args, office_id: uuid.UUID):
        """Must this office be open on a Jalali `date` (or at an instant `at`), and which rule says so."""
        return _wire(hours.office_hours(current_user(), office_id, args.get("date"), args.get("at")))


@blp.route("/mandated-hours")
class DistrictMandatedHours(MethodView):
    @requires()
    @blp.arguments(DistrictHoursQuerySchema, location="query")
    @blp.response(200, OfficeHoursSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, args, pagination_parameters):
        """Every office of a district (or all you may see) on a day."""
        results, total = hours.district_hours(current_user(), args.get("district"), args.get("date"),
                                              args.get("at"), page_of(pagination_parameters))
        pagination_parameters.item_count = total
        return [_wire(r) for r in results]


@blp.route("/hours-rules")
class HoursRules(MethodView):
    @requires()
    @blp.arguments(RuleQuerySchema, location="query")
    @blp.response(200, HoursRuleSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, args, pagination_parameters):
        """The published rules, oldest publication first."""
        rules, total = hours.list_rules(args["include_withdrawn"], page_of(pagination_parameters))
        pagination_parameters.item_count = total
        return rules

    @requires(Role.ADMIN)
    @blp.arguments(HoursRuleInputSchema)
    @blp.response(201, HoursRuleSchema)
    def post(self, body):
        """Publish a rule (it takes precedence, at its scope, over rules published before it)."""
        return hours.create_rule(current_user(), body)


@blp.route("/hours-rules/<uuid:rule_id>")
class HoursRuleById(MethodView):
    @requires()
    @blp.response(200, HoursRuleSchema)
    @blp.alt_response(404, description="No such rule")
    def get(self, rule_id: uuid.UUID):
        """One rule (withdrawn ones too)."""
        return hours.get_rule(rule_id)

    @requires(Role.ADMIN)
    @blp.arguments(HoursRulePatchSchema)
    @blp.response(200, HoursRuleSchema)
    @blp.alt_response(404, description="No such rule")
    @blp.alt_response(409, description=answered_as("The rule changed since `version`, or was withdrawn; the body "
                                                    "has `current`", "stale-version", "rule-withdrawn"))
    def patch(self, body, rule_id: uuid.UUID):
        """Change a rule; give the `version` you read. The change is a new publication."""
        return hours.update_rule(current_user(), rule_id, body)

    @requires(Role.ADMIN)
    @blp.arguments(VersionSchema, location="query")
    @blp.response(200, HoursRuleSchema)
    @blp.alt_response(404, description="No such rule")
    @blp.alt_response(409, description=answered_as("The rule changed since `version`", "stale-version"))
    def delete(self, args, rule_id: uuid.UUID):
        """Withdraw a rule (kept, marked withdrawn, for the record). `?version=` as read."""
        return hours.withdraw_rule(current_user(), rule_id, args["version"])


@blp.route("/holidays")
class Holidays(MethodView):
    @requires()
    @blp.arguments(HolidayQuerySchema, location="query")
    @blp.response(200, HolidaySchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, args, pagination_parameters):
        """Official holidays, by Jalali year."""
        rows, total = hours.list_holidays(args.get("year"), args["include_cancelled"], page_of(pagination_parameters))
        pagination_parameters.item_count = total
        return rows

    @requires(Role.ADMIN)
    @blp.arguments(HolidayInputSchema)
    @blp.response(201, HolidaySchema)
    def post(self, body):
        """Add a holiday (a day off announced at short notice, say)."""
        return hours.add_holiday(current_user(), body["date"], body["title"])


@blp.route("/holidays/<uuid:holiday_id>")
class HolidayById(MethodView):
    @requires(Role.ADMIN)
    @blp.response(200, HolidaySchema)
    @blp.alt_response(404, description="No such holiday")
    def delete(self, holiday_id: uuid.UUID):
        """Cancel a holiday: the day is a working day again (kept, marked cancelled)."""
        return hours.cancel_holiday(current_user(), holiday_id)


@blp.route("/hours-changes")
class HoursChanges(MethodView):
    @requires(Role.ADMIN, Role.COMMITTEE)
    @blp.arguments(ChangeQuerySchema, location="query")
    @blp.response(200, HoursChangeSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, args, pagination_parameters):
        """Every change to rules and holidays, newest first: who, when, before and after."""
        rows, total = hours.list_changes(args.get("entity_id"), page_of(pagination_parameters))
        pagination_parameters.item_count = total
        return rows
