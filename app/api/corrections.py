"""Office corrections: proposals from the field (pushed by phones), decided by an admin."""

import uuid

import marshmallow as ma
from flask.views import MethodView
from marshmallow import validate

from app.api.common import page_of
from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.errors import answered_as
from app.models import Role
from app.services import corrections
from schemas.fields import GeoJSONPoint, Instant
from schemas.input import InputSchema

blp = Blueprint("corrections", __name__, url_prefix="/api/v1/office-corrections",
                description="Office corrections proposed by inspectors")


class CorrectionSchema(ma.Schema):
    id = ma.fields.UUID()
    office_id = ma.fields.UUID()
    author_id = ma.fields.Integer()
    kind = ma.fields.String()
    location = GeoJSONPoint(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    note = ma.fields.String()
    status = ma.fields.String()
    decided_by = ma.fields.Integer(allow_none=True)
    decided_at = Instant(allow_none=True)
    decision_note = ma.fields.String()
    created_at = Instant()


class CorrectionQuerySchema(InputSchema):
    status = ma.fields.String(validate=validate.OneOf(["pending", "accepted", "rejected"]))


class CorrectionDecisionSchema(InputSchema):
    decision = ma.fields.String(required=True, validate=validate.OneOf(["accept", "reject"]))
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))


@blp.route("")
class Corrections(MethodView):
    @requires(Role.ADMIN, Role.COMMITTEE, Role.DISTRICT_HEAD)
    @blp.arguments(CorrectionQuerySchema, location="query")
    @blp.response(200, CorrectionSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, args, pagination_parameters):
        """Proposed corrections to offices you may see, newest first."""
        rows, total = corrections.list_corrections(
            current_user(), args.get("status"), page_of(pagination_parameters))
        pagination_parameters.item_count = total
        return rows


@blp.route("/<uuid:correction_id>/decision")
class Decision(MethodView):
    @requires(Role.ADMIN)
    @blp.arguments(CorrectionDecisionSchema)
    @blp.response(200, CorrectionSchema)
    @blp.alt_response(404, description="No such correction")
    @blp.alt_response(409, description=answered_as("Already decided", "correction-decided"))
    def post(self, body, correction_id: uuid.UUID):
        """Accept (the office changes, and phones hear of it) or reject a correction."""
        return corrections.decide(current_user(), correction_id, body["decision"], body["note"])
