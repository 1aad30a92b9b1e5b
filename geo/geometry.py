"""The one place that converts between database geometries, shapely and GeoJSON.

Coordinates are always (longitude, latitude) in EPSG:4326, as GeoJSON has them.
"""

import re
import struct
from collections.abc import Mapping

import numpy as np
import shapely
from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

SRID = 4326


class GeometryError(ValueError):
    """A GeoJSON geometry that is malformed, invalid or of the wrong kind."""


def to_shapely(value: WKBElement | BaseGeometry | Mapping) -> BaseGeometry:
    if isinstance(value, Mapping):  # GeoJSON, as the database wrote it (geo.sql.as_geojson)
        return shape(value)
    return value if isinstance(value, BaseGeometry) else to_shape(value)


def to_geojson(value: WKBElement | BaseGeometry | Mapping | None) -> dict | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    coords = _wkb_point(value)
    if coords is not None:
        return {"type": "Point", "coordinates": list(coords)}
    return mapping(to_shapely(value))


_EWKB_SRID_FLAG = 0x20000000


_WKT_POINT = re.compile(r"^\s*(?:SRID=\d+;)?POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.IGNORECASE)


def _wkb_point(value) -> tuple[float, float] | None:
    """The coordinates of a 2-D point in (E)WKB or WKT, read directly: points are most of what
    the API writes (every report and office), and a GEOS round trip per point is the slow part."""
    if isinstance(value, _PointWKT):
        return value.lon_lat
    if isinstance(value, WKTElement):
        match = _WKT_POINT.match(value.data)
        return (float(match[1]), float(match[2])) if match else None
    if not isinstance(value, WKBElement):
        return None
    data = value.data
    if isinstance(data, str):
        data = bytes.fromhex(data)
    data = bytes(data)
    if len(data) < 21:
        return None
    order = "<" if data[0] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", data, 1)
    offset = 5
    if kind & _EWKB_SRID_FLAG:
        kind &= ~_EWKB_SRID_FLAG
        offset += 4
    if kind != 1 or len(data) < offset + 16:
        return None
    return struct.unpack_from(order + "dd", data, offset)


def to_db(geom: BaseGeometry) -> WKBElement | WKTElement:
    """A geometry as a value for a Geometry column. Points go as WKT written here: the
    database parses it, where GeoAlchemy2 would otherwise turn WKB into WKT through GEOS
    for every row (the dearest part of inserting 500 reports)."""
    if isinstance(geom, Point) and not geom.has_z:
        return _PointWKT(geom.x, geom.y)
    return from_shape(geom, srid=SRID)


class _PointWKT(WKTElement):
    """A point `to_db` wrote as WKT, which keeps the coordinates it was written from: a push
    reads every report's point back twice (its version, its answer), and `repr` round-trips,
    so they are exactly what parsing the WKT would give."""

    def __init__(self, lon: float, lat: float):
        super().__init__(f"POINT({lon!r} {lat!r})", srid=SRID)
        self.lon_lat = (lon, lat)


def point(lon: float, lat: float) -> Point:
    return Point(float(lon), float(lat))


def points(lon_lats: list[tuple[float, float]]) -> list[Point]:
    """Many Points at once, made in one vectorised call (ten times quicker than one by one)."""
    if not lon_lats:
        return []
    return list(shapely.points(np.asarray(lon_lats, dtype=float)))


def lon_lat(value: WKBElement | BaseGeometry) -> tuple[float, float]:
    coords = _wkb_point(value)
    if coords is not None:
        return coords
    p = to_shapely(value)
    return p.x, p.y


def parse_point(data: Mapping) -> Point:
    """A GeoJSON Point with a real longitude and latitude."""
    plain = plain_point(data)
    if plain is not None:
        return Point(*plain)
    geom = _parse(data)
    if not isinstance(geom, Point) or geom.is_empty:
        raise GeometryError("must be a GeoJSON Point")
    lon, lat = geom.x, geom.y
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeometryError("coordinates must be [longitude, latitude] within ±180, ±90")
    return Point(lon, lat)


def plain_point(data) -> tuple[float, float] | None:
    """(lon, lat) of the Point every phone sends, `{"type": "Point", "coordinates": [lon, lat]}`
    with both in range, read without a trip through shapely's GeoJSON parser (a push parses
    500 of them); None for any other shape, which `parse_point` then reads the long way."""
    if type(data) is not dict or len(data) != 2 or data.get("type") != "Point":
        return None
    coords = data.get("coordinates")
    if type(coords) is not list or len(coords) != 2:
        return None
    lon, lat = coords
    if type(lon) not in (int, float) or type(lat) not in (int, float):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return float(lon), float(lat)


def parse_area(data: Mapping) -> MultiPolygon:
    """A GeoJSON Polygon or MultiPolygon, repaired if self-intersecting, as a MultiPolygon."""
    geom = _parse(data)
    if not isinstance(geom, (Polygon, MultiPolygon)):
        raise GeometryError("must be a GeoJSON Polygon or MultiPolygon")
    geom = shapely.force_2d(geom)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        polygons = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, (Polygon, MultiPolygon))]
        geom = shapely.union_all(polygons)
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if geom.is_empty:
        raise GeometryError("is empty")
    return geom


def _parse(data: Mapping) -> BaseGeometry:
    if not isinstance(data, Mapping) or "type" not in data or "coordinates" not in data:
        raise GeometryError("must be a GeoJSON geometry object with `type` and `coordinates`")
    try:
        return shape(data)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise GeometryError(f"is not valid GeoJSON: {exc}") from exc
