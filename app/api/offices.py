"""Electronic services offices."""

import uuid

from flask.views import MethodView

from app.api.common import geojson_response, page_of, wants_geojson
from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.repositories.offices import Near
from app.services import places
from schemas.geojson import feature_collection
from schemas.places import OfficeCollectionSchema, OfficeHitSchema, OfficeQuerySchema, OfficeSchema

blp = Blueprint("offices", __name__, url_prefix="/api/v1/offices", description="Offices")


@blp.route("")
class Offices(MethodView):
    @requires()
    @blp.arguments(OfficeQuerySchema, location="query")
    @blp.response(200, OfficeHitSchema(many=True))
    @blp.alt_response(200, schema=OfficeCollectionSchema, content_type="application/geo+json",
                      success=True, description="With `format=geojson` or `Accept: application/geo+json`")
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, args, pagination_parameters):
        """Offices in your districts: by district, or nearest first around `near`."""
        near = None
        if "near" in args:
            lat, lon = args["near"]
            near = Near(lat=lat, lon=lon, within_m=args.get("within_m"))
        hits, total = places.list_offices(current_user(), args.get("district"), near, page_of(pagination_parameters))
        pagination_parameters.item_count = total
        if wants_geojson(args):
            items = OfficeHitSchema(many=True).dump(hits)
            return geojson_response(feature_collection(items, geometry="location", id_field="id"))
        return hits


@blp.route("/<uuid:office_id>")
class OfficeById(MethodView):
    @requires()
    @blp.response(200, OfficeSchema)
    @blp.alt_response(404, description="No such office")
    def get(self, office_id: uuid.UUID):
        """One office."""
        return places.get_office(current_user(), office_id)
