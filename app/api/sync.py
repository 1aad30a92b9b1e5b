"""The sync protocol v1 (DESIGN §5): pull, push and the quarantine."""

from flask import Response, jsonify
from flask.views import MethodView

from app.api.common import arrived_at, page_of
from app.auth import current_token, current_user, requires
from app.blueprint import Blueprint
from app.errors import answered_as
from app.models import Role
from app.services import sync_pull, sync_push, sync_watermelon
from schemas.sync import (PullRequestSchema, PullResponseSchema, PushRequestSchema, PushResponseSchema,
                          QuarantineSchema, write_pull_response, write_push_response)
from schemas.watermelon import PullAnswerSchema, PullQuerySchema, PushAnswerSchema, PushBodySchema, PushQuerySchema

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Sync protocol v1")


@blp.route("/pull")
class Pull(MethodView):
    @requires()
    # An instance, here and for the push and the login: given a class, webargs makes a schema
    # of it for each request (a deep copy of its fields); these hold nothing between requests.
    @blp.arguments(PullRequestSchema())
    @blp.response(200, PullResponseSchema)
    def post(self, body):
        """The changes in your scope since `cursor` (null: everything), a page at a time."""
        # Written by write_pull_response (PullResponseSchema's dump, by hand) and returned as
        # a Response, so that flask-smorest does not dump a page of records again.
        return jsonify(write_pull_response(sync_pull.pull(current_user(), body["cursor"], body["limit"])))


@blp.route("/push")
class Push(MethodView):
    @requires(Role.INSPECTOR, Role.DISTRICT_HEAD)
    @blp.arguments(PushRequestSchema())
    @blp.response(200, PushResponseSchema)
    @blp.alt_response(413, description=answered_as("Over 500 ops or 5 MB", "payload-too-large"))
    def post(self, body):
        """Apply ops in order; each lands, merges, is a duplicate, or is rejected alone."""
        # Written once, by write_push_response (PushResponseSchema's dump, by hand), and
        # returned as a Response so that flask-smorest does not dump 500 results again;
        # PushResponseSchema documents it.
        return jsonify(write_push_response(sync_push.push(current_user(), body, arrived_at())))


@blp.route("/quarantine")
class Quarantine(MethodView):
    @requires()
    @blp.response(200, QuarantineSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, pagination_parameters):
        """Ops the server refused, with their payload and reasons: yours (heads: your district's)."""
        rows, total = sync_push.quarantine(
            current_user(), page_of(pagination_parameters))
        pagination_parameters.item_count = total
        return rows


@blp.route("/quarantine/<int:quarantined_id>")
class QuarantinedOne(MethodView):
    @requires()
    @blp.response(200, QuarantineSchema)
    @blp.alt_response(404, description="No such quarantined op, or not yours (heads: your district's) to see")
    def get(self, quarantined_id: int):
        """One op the server refused, its payload whole however large."""
        return sync_push.quarantined(current_user(), quarantined_id)


@blp.route("/watermelon")
class Watermelon(MethodView):
    """The same engine in WatermelonDB's sync protocol (DESIGN §5.8): point `pullChanges`
    and `pushChanges` of `synchronize()` here (examples/watermelon/sync.js)."""

    @requires()
    @blp.arguments(PullQuerySchema, location="query")
    @blp.response(200, PullAnswerSchema)
    def get(self, args):
        """Every change in your scope since `last_pulled_at` (null: all of it, in one answer), as
        WatermelonDB raw records; `timestamp` is the feed position to send next time."""
        # The JSON is written by the service, a chunk of records at a time; PullAnswerSchema documents it.
        answer = sync_watermelon.pull(current_token(), args["last_pulled_at"], args["send_created_as_updated"],
                                      migrated=args["migration"] is not None)
        return Response(answer, mimetype="application/json")

    @requires(Role.INSPECTOR, Role.DISTRICT_HEAD)
    @blp.arguments(PushQuerySchema, location="query")
    @blp.arguments(PushBodySchema)
    @blp.response(200, PushAnswerSchema)
    @blp.alt_response(413, description=answered_as("Over 2,000 records or 5 MB", "payload-too-large"))
    def post(self, args, body):
        """Your phone's changed reports, each through the ledger, the three-way merge and judging
        of `/sync/push`; a record the server refuses goes to the quarantine and the push still
        succeeds. The next pull brings every pushed record as the server holds it."""
        return jsonify(sync_watermelon.push(current_token(), args["last_pulled_at"], body, arrived_at()))
