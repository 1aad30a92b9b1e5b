"""Small helpers the API blueprints share."""

from flask import current_app, json, request

GEOJSON = "application/geo+json"


def wants_geojson(args: dict) -> bool:
    """A `format=geojson` argument, or an Accept header preferring GeoJSON."""
    if "format" in args:
        return args["format"] == "geojson"
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON], default="application/json")
    return best == GEOJSON


def geojson_response(collection: dict):
    # Returned as a Response so flask-smorest passes it through (pagination headers kept).
    return current_app.response_class(json.dumps(collection, ensure_ascii=False), mimetype=GEOJSON)
