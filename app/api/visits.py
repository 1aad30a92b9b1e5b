"""Visit lists (DESIGN §7): an inspector's stops for a day, in the order to drive them."""

from flask.views import MethodView

from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.models import Role
from app.services import visits
from schemas.visits import VisitListQuerySchema, VisitListSchema

blp = Blueprint("visits", __name__, url_prefix="/api/v1/visit-list", description="Visit lists")


@blp.route("")
class VisitList(MethodView):
    @requires(Role.INSPECTOR, Role.DISTRICT_HEAD, Role.ADMIN)
    @blp.arguments(VisitListQuerySchema, location="query")
    @blp.response(200, VisitListSchema)
    def get(self, args):
        """Your stops for the day in driving order (or, for a head, `inspector=`'s), planned by the routing
        solver: mandated windows respected, suspected closures first, offices already reported skipped."""
        position = (args["lon"], args["lat"]) if "lat" in args else None
        settings = visits.Settings.from_config(args.get("service_min"), args.get("budget_s"))
        result = visits.visit_list(current_user(), args["date"], position, args.get("start"),
                                   args.get("inspector"), settings)
        return visits.describe(result)
