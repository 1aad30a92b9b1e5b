"""Violation cases: the committee's queue, the evidence, decisions and the CSV export."""

import csv
import io
import itertools
import uuid

from flask import Response, jsonify, stream_with_context
from flask.views import MethodView

from app.api.common import expected_version, page_of
from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.errors import answered_as
from app.hours import calendar
from app.models import Role
from app.services import violations
from app.services.report_form import dump_reports
from geo.geometry import to_geojson
from schemas.activity import SignalSchema
from schemas.violations import CaseDetailSchema, CaseEventSchema, CaseQuerySchema, CaseSchema, DecisionSchema

blp = Blueprint("violations", __name__, url_prefix="/api/v1/violations", description="Violation cases")

CSV_HEADERS = ["شناسه پرونده", "تاریخ", "منطقه", "کد دفتر", "نام دفتر", "نوع", "وضعیت", "جریمه",
               "تعداد گزارش", "تاریخ تصمیم", "یادداشت تصمیم"]


@blp.route("")
class Cases(MethodView):
    @requires()
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, args, pagination_parameters):
        """Cases you may see, newest day first: all (committee), your district (heads), yours (inspectors)."""
        rows, total = violations.list_cases(current_user(), args, page_of(pagination_parameters))
        pagination_parameters.item_count = total
        return list(rows)


@blp.route("/export.csv")
class Export(MethodView):
    @requires(Role.COMMITTEE, Role.ADMIN, Role.DISTRICT_HEAD)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, description="CSV, UTF-8 with BOM, Persian headers, Jalali dates")
    def get(self, args):
        """The cases as a spreadsheet (streamed; opens right in Excel)."""
        cases = violations.export_rows(current_user(), args)
        # The rows are read as the answer is sent, after this request's session was closed
        # (when the view returned): stream_with_context pushes the app context again for
        # the stream, whose first query opens a session that lasts as long as the stream
        # and is closed when it ends or the client goes away.
        lines = _csv(itertools.chain([CSV_HEADERS], _case_rows(cases)))
        return Response(stream_with_context(lines), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="violations.csv"'})


def _case_rows(cases):
    for case, reports in cases:
        decided = "" if case.decided_at is None else (
            calendar.format_date(calendar.tehran_day(case.decided_at)) + " " +
            case.decided_at.astimezone(calendar.TEHRAN).strftime("%H:%M"))
        yield [case.id, case.jalali_date, case.district, case.office_code, case.office_name, case.kind, case.status,
               case.penalty or "", reports, decided, case.decision_note]


# A spreadsheet takes a cell that begins with one of these for a formula (a note
# `=HYPERLINK(…)` would be a live link in Excel): such a cell gets a leading ' (OWASP's
# advice on CSV injection), which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINES_PER_PIECE = 200


def _cell(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv(rows):
    """CSV text for Excel (UTF-8 with a BOM), LINES_PER_PIECE lines a piece, every text cell made safe."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, 1):
        writer.writerow([_cell(value) for value in row])
        if count % LINES_PER_PIECE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@blp.route("/<uuid:case_id>")
class CaseById(MethodView):
    @requires()
    @blp.response(200, CaseDetailSchema)
    @blp.alt_response(404, description="No such case, or not yours to see")
    def get(self, case_id: uuid.UUID):
        """A case with its evidence: reports, photos, distances, time sources, skew, the rule, the history;
        and beside it, as context only, the systemic-monitoring signals of its office and day
        (`signals`: never evidence, no case comes from one)."""
        return _detail(case_id)


def _detail(case_id: uuid.UUID):
    """The case, dumped piece by piece from the schemas (returned as a Response, so that
    flask-smorest does not dump it a second time; CaseDetailSchema documents it)."""
    detail = violations.case_detail(current_user(), case_id)
    office = detail.office
    out = CaseSchema().dump(detail.case)
    out["office"] = {"id": str(office.id), "code": office.code, "name": office.name, "address": office.address,
                     "district": office.district, "location": to_geojson(office.location)}
    out["reports"] = dump_reports(detail.reports)
    out["events"] = CaseEventSchema(many=True).dump(detail.events)
    out["signals"] = SignalSchema(many=True).dump(detail.signals)
    return jsonify(out)


@blp.route("/<uuid:case_id>/decision")
class Decision(MethodView):
    @requires(Role.COMMITTEE)
    @blp.arguments(DecisionSchema)
    @blp.response(200, CaseDetailSchema)
    @blp.alt_response(404, description="No such case")
    @blp.alt_response(409, description=answered_as("The case changed since `version`, or cannot go to that status",
                                                    "stale-version", "case-transition-forbidden"))
    def post(self, body, case_id: uuid.UUID):
        """Review, confirm (with a penalty) or dismiss a case; give the `version` you read."""
        violations.decide(current_user(), case_id, expected_version(body, "case"), body["status"], body["penalty"],
                          body["note"])
        return _detail(case_id)

