"""Small helpers the API blueprints share."""

from datetime import UTC, datetime

from flask import current_app, json, request

from app.database import utcnow
from app.errors import invalid
from app.gzip_body import ARRIVED_AT
from app.services.places import Page

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


def page_of(pagination_parameters) -> Page:
    """The page flask-smorest's `@paginate` was asked for, as the services take it."""
    return Page(pagination_parameters.first_item, pagination_parameters.page_size)


def expected_version(args: dict, what: str) -> int:
    """The version the client read: `version` in the body or query, or an If-Match header
    (`"3"`, `W/"3"` or `3`). Without one, a 422 naming `version`."""
    value = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    version = args.get("version") or (int(value) if value.isdigit() else None)
    if version is None:
        raise invalid("version", f"Give the {what} version you read (`version` or an If-Match header).")
    return version


def arrived_at() -> datetime:
    """When this request's first bytes were there, before its body was read (a push's
    receive time, DESIGN §5.2: its clock skew must not hold the minutes a body took over
    2G); now, for a request that did not come through the body's middleware, and at most
    now (a clock stepped back meanwhile)."""
    stamp, now = request.environ.get(ARRIVED_AT), utcnow()
    return now if stamp is None else min(datetime.fromtimestamp(stamp, UTC), now)
