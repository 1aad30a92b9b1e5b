"""Systemic monitoring's signals (DESIGN §10b): which offices the platform saw serve nobody in
their mandated windows. Context for people, never a violation by itself."""

from flask.views import MethodView

from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.database import utcnow
from app.hours import calendar
from app.models import Role
from app.services import signals
from schemas.activity import SignalListSchema, SignalsQuerySchema

blp = Blueprint("signals", __name__, url_prefix="/api/v1/signals", description="Systemic monitoring: signals")


@blp.route("")
class Signals(MethodView):
    @requires(Role.INSPECTOR, Role.DISTRICT_HEAD, Role.COMMITTEE, Role.ADMIN)
    @blp.arguments(SignalsQuerySchema, location="query")
    @blp.response(200, SignalListSchema)
    def get(self, args):
        """One item per office and mandated window of the day, in your districts (or one of them):
        suspicions first. Worked out again from the latest activity, hours and field reports."""
        day = args.get("date") or calendar.tehran_day(utcnow())
        return {"date": day, "items": signals.signals_of(current_user(), day, args.get("district"))}
