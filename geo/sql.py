"""Spatial SQL that reads the same in the app and compiles right for each database.

PostGIS measures metres on the ellipsoid through the `geography` type; SpatiaLite does
it with the `use_ellipsoid` argument of its own functions. Both give the same metres
(GeographicLib's geodesics), so callers write `distance_m(a, b)` once.
"""

from geoalchemy2 import Geometry
from geoalchemy2.elements import WKTElement
from sqlalchemy import Float, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, Text


SRID = 4326


def point_param(lon: float, lat: float):
    """A point as a bound value that GeoAlchemy2 turns into a geometry on either database."""
    value = WKTElement(f"POINT({float(lon)!r} {float(lat)!r})", srid=SRID)
    return bindparam(None, value, type_=Geometry("POINT", srid=SRID))


class distance_m(FunctionElement):
    """Ellipsoidal distance in metres between two EPSG:4326 geometries."""

    type = Float()
    inherit_cache = True
    name = "distance_m"


class within_m(FunctionElement):
    """True when two EPSG:4326 geometries are within `metres` of each other."""

    type = Boolean()
    inherit_cache = True
    name = "within_m"


class as_geojson(FunctionElement):
    """A geometry as GeoJSON text made by the database, coordinates to `digits` decimals
    (6 decimals of a degree: 0.1 m). Cheaper than WKB parsed into shapely for large polygons."""

    type = Text()
    inherit_cache = True
    name = "as_geojson"


def _compile_as(function: type[FunctionElement], dialect: str, template: str) -> None:
    """Compile `function` on `dialect` as `template`, its arguments standing at {0}, {1}, …"""

    @compiles(function, dialect)
    def _compile(element, compiler, **kw):
        return template.format(*(compiler.process(arg, **kw) for arg in element.clauses))


_compile_as(distance_m, "postgresql", "ST_Distance(CAST({0} AS geography), CAST({1} AS geography))")
_compile_as(distance_m, "sqlite", "ST_Distance({0}, {1}, 1)")
# Written on the geography cast so that the expression index on offices uses it.
_compile_as(within_m, "postgresql", "ST_DWithin(CAST({0} AS geography), CAST({1} AS geography), {2})")
# PtDistWithin needs a point on one side; offices are points.
_compile_as(within_m, "sqlite", "PtDistWithin({0}, {1}, {2}, 1)")
_compile_as(as_geojson, "postgresql", "ST_AsGeoJSON({0}, {1})")
_compile_as(as_geojson, "sqlite", "AsGeoJSON({0}, {1})")
