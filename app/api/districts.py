"""Tehran's 22 districts."""

from flask.views import MethodView

from app.api.common import geojson_response, page_of
from app.auth import current_user, requires
from app.blueprint import Blueprint
from app.services import places
from schemas.geojson import feature_collection
from schemas.places import DistrictCollectionSchema, DistrictSchema, DistrictSummarySchema

blp = Blueprint("districts", __name__, url_prefix="/api/v1/districts", description="Districts")


@blp.route("")
class Districts(MethodView):
    @requires()
    @blp.response(200, DistrictCollectionSchema, content_type="application/geo+json")
    @blp.paginate(page_size=22, max_page_size=100)
    def get(self, pagination_parameters):
        """The districts you may see, as a GeoJSON FeatureCollection with office counts."""
        rows, total = places.list_districts(current_user(), page_of(pagination_parameters))
        pagination_parameters.item_count = total
        items = DistrictSummarySchema(many=True).dump(rows)
        return geojson_response(feature_collection(items, geometry="geometry", id_field="number"))


@blp.route("/<int:number>")
class DistrictByNumber(MethodView):
    @requires()
    @blp.response(200, DistrictSchema)
    @blp.alt_response(404, description="No such district")
    def get(self, number):
        """One district with its boundary."""
        return places.get_district(current_user(), number)
