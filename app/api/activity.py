"""The platform's activity (DESIGN §10b): what the feed account posts."""

from flask.views import MethodView

from app.auth import requires
from app.blueprint import Blueprint
from app.errors import answered_as
from app.models import Role
from app.services import activity
from schemas.activity import ActivityAnswerSchema, ActivityBatchSchema

blp = Blueprint("activity", __name__, url_prefix="/api/v1/activity", description="Systemic monitoring: activity")


@blp.route("")
class Activity(MethodView):
    @requires(Role.FEED)
    @blp.arguments(ActivityBatchSchema)
    @blp.response(200, ActivityAnswerSchema)
    @blp.alt_response(409, description=answered_as("The batch was taken in with other events", "batch-mismatch"))
    @blp.alt_response(413, description=answered_as("Over 10,000 events or 5 MB", "payload-too-large"))
    def post(self, body):
        """A batch of the transactions offices served, counted per office and minute. Idempotent by
        `(source, batch_id)`; a bad event is refused by its index and the rest are counted."""
        return activity.ingest(body["source"], body["batch_id"], body["events"])
