"""Coverage maps: visits, closures and open cases by district and office in a period."""

from pathlib import Path

from flask import Response, current_app
from flask.views import MethodView

from app.api.common import GEOJSON, geojson_response
from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.hours import calendar
from app.models import Role
from app.services import coverage
from schemas.coverage import CoverageCollectionSchema, CoverageQuerySchema, coverage_collection

blp = Blueprint("coverage", __name__, url_prefix="/api/v1", description="Coverage maps")

ROLES = (Role.DISTRICT_HEAD, Role.COMMITTEE, Role.ADMIN)


def _period(args) -> coverage.Period:
    return coverage.period_of(args.get("from_"), args.get("to"))


@blp.route("/coverage")
class Coverage(MethodView):
    @requires(*ROLES)
    @blp.arguments(CoverageQuerySchema, location="query")
    @blp.response(200, CoverageCollectionSchema, content_type=GEOJSON)
    def get(self, args):
        """Where inspections happened in a period (Jalali days, Tehran): each district's polygon
        with its totals and each office's point with its last visit; a district head's
        district, or all 22 for the committee and admins."""
        result = coverage.coverage(current_user(), _period(args), args.get("district"))
        return geojson_response(coverage_collection(result))


@blp.route("/coverage.png")
class CoveragePicture(MethodView):
    @requires(*ROLES)
    @blp.arguments(CoverageQuerySchema, location="query")
    @blp.response(200, description="The coverage map as a PNG picture", content_type="image/png")
    def get(self, args):
        """The same map as a picture, with a Persian title, period and legend, to attach to a letter."""
        period = _period(args)
        fonts = Path(current_app.static_folder) / "vendor" / "vazirmatn"
        png = coverage.picture(current_user(), period, args.get("district"), fonts)
        name = (f"coverage-{args.get('district') or 'tehran'}-{calendar.format_date(period.first)}"
                f"-{calendar.format_date(period.last)}.png")
        return Response(png, mimetype="image/png", headers={"Content-Disposition": f'inline; filename="{name}"'})
