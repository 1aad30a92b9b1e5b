"""Rounds: a district's offices for a day split among its inspectors (DESIGN §7)."""

import uuid

from flask.views import MethodView

from app.api.common import expected_version, page_of
from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.errors import answered_as
from app.models import Role
from app.services import rounds
from app.services.visits import Settings
from schemas.rounds import (RoundPatchSchema, RoundQuerySchema, RoundSchema, RoundsInputSchema, SplitSchema,
                            VersionQuerySchema)

blp = Blueprint("rounds", __name__, url_prefix="/api/v1/rounds", description="Rounds of a day")

PLANNERS = (Role.DISTRICT_HEAD, Role.ADMIN)


@blp.route("")
class Rounds(MethodView):
    @requires()
    @blp.arguments(RoundQuerySchema, location="query")
    @blp.response(200, RoundSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, args, pagination_parameters):
        """Rounds you may see: your own (inspectors), your district's (heads), all (committee, admins)."""
        rows, total = rounds.list_rounds(current_user(), args.get("date"), args.get("district"),
                                         page_of(pagination_parameters))
        pagination_parameters.item_count = total
        return rows

    @requires(*PLANNERS)
    @blp.arguments(RoundsInputSchema)
    @blp.response(201, SplitSchema)
    @blp.alt_response(409, description=answered_as(
        "The district already has rounds that day (send replace: true), or an inspector has a round elsewhere "
        "that day", "round-exists", "inspector-busy"))
    def post(self, body):
        """Plan a day's rounds: `inspectors` to split the offices balanced by work, or `assignments` by hand."""
        user, settings = current_user(), Settings.from_config()
        if "inspectors" in body:
            return rounds.plan_rounds(user, body["date"], body.get("district"), body["inspectors"],
                                      body["replace"], settings)
        assignments = [rounds.Assignment(a["inspector"], a["offices"]) for a in body["assignments"]]
        return rounds.assign_rounds(user, body["date"], body.get("district"), assignments, body["replace"], settings)


@blp.route("/<uuid:round_id>")
class RoundById(MethodView):
    @requires()
    @blp.response(200, RoundSchema)
    @blp.alt_response(404, description="No such round, or not yours to see")
    def get(self, round_id: uuid.UUID):
        """One round with its stops in planned order."""
        return rounds.get_round(current_user(), round_id)

    @requires(*PLANNERS)
    @blp.arguments(RoundPatchSchema)
    @blp.response(200, RoundSchema)
    @blp.alt_response(404, description="No such round in your districts")
    @blp.alt_response(409, description=answered_as("The round changed since `version`", "stale-version"))
    def patch(self, body, round_id: uuid.UUID):
        """Edit a round: its offices in driving order (taken out of other rounds of the day) or its inspector."""
        return rounds.update_round(current_user(), round_id, expected_version(body, "round"), body.get("offices"),
                                   body.get("inspector"), Settings.from_config())

    @requires(*PLANNERS)
    @blp.arguments(VersionQuerySchema, location="query")
    @blp.response(204)
    @blp.alt_response(404, description="No such round in your districts")
    @blp.alt_response(409, description=answered_as("The round changed since `version`", "stale-version"))
    def delete(self, args, round_id: uuid.UUID):
        """Delete a round (its offices become unassigned); give `?version=` or If-Match."""
        rounds.delete_round(current_user(), round_id, expected_version(args, "round"))
