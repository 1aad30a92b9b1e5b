"""WatermelonDB's raw form of the records a pull brings (DESIGN §5.8), written from each
table's read schema: the same fields as `/api/v1/sync/pull`, made flat.

Ids become strings (a district's is its number), instants epoch milliseconds, a point two
columns (`latitude`, `longitude`), and anything nested (a district's polygon, a rule's
windows, a round's stops) a JSON string. The conversion of each field is chosen once from
its marshmallow type, so a field added to a read schema reaches the raw form with no line
here; a report's raw form is sync.watermelon's, from its declared fields.
"""

from collections.abc import Callable

import marshmallow as ma
import orjson

from schemas.fields import GeoJSONGeometry, GeoJSONPoint, Instant
from sync.watermelon import epoch_ms, point_columns

NESTED = (ma.fields.List, ma.fields.Dict, ma.fields.Nested, ma.fields.Tuple, GeoJSONGeometry)


def raw_writer(schema: ma.Schema, id_field: str = "id") -> Callable[[dict], dict]:
    """A function from a record as `schema` dumps it to its WatermelonDB raw record."""
    steps = [_step(name, field) for name, field in schema.fields.items() if name != id_field]

    def write(record: dict) -> dict:
        raw = {"id": str(record[id_field])}
        for step in steps:
            step(record, raw)
        return raw
    return write


def _step(name: str, field: ma.fields.Field):
    if isinstance(field, GeoJSONPoint):
        latitude, longitude = point_columns(name)

        def point(record, raw):
            coordinates = (record[name] or {}).get("coordinates") or (None, None)
            raw[latitude], raw[longitude] = coordinates[1], coordinates[0]
        return point
    if isinstance(field, Instant):
        return _copied(name, epoch_ms)
    if isinstance(field, NESTED):
        return _copied(name, _json)
    return _copied(name, None)


def _copied(name: str, convert):
    def copy(record, raw):
        value = record[name]
        raw[name] = value if convert is None else convert(value)
    return copy


def _json(value) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
