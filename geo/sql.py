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


def _args(compiler, element, **kw):
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(distance_m, "postgresql")
def _distance_pg(element, compiler, **kw):
    a, b = _args(compiler, element, **kw)
    return f"ST_Distance(CAST({a} AS geography), CAST({b} AS geography))"


@compiles(distance_m, "sqlite")
def _distance_sqlite(element, compiler, **kw):
    a, b = _args(compiler, element, **kw)
    return f"ST_Distance({a}, {b}, 1)"


@compiles(within_m, "postgresql")
def _within_pg(element, compiler, **kw):
    # Written on the geography cast so that the expression index on offices uses it.
    a, b, metres = _args(compiler, element, **kw)
    return f"ST_DWithin(CAST({a} AS geography), CAST({b} AS geography), {metres})"


@compiles(within_m, "sqlite")
def _within_sqlite(element, compiler, **kw):
    # PtDistWithin needs a point on one side; offices are points.
    a, b, metres = _args(compiler, element, **kw)
    return f"PtDistWithin({a}, {b}, {metres}, 1)"


@compiles(as_geojson, "postgresql")
def _as_geojson_pg(element, compiler, **kw):
    geom, digits = _args(compiler, element, **kw)
    return f"ST_AsGeoJSON({geom}, {digits})"


@compiles(as_geojson, "sqlite")
def _as_geojson_sqlite(element, compiler, **kw):
    geom, digits = _args(compiler, element, **kw)
    return f"AsGeoJSON({geom}, {digits})"
