"""WatermelonDB's raw form of a report (DESIGN §5.8), derived from the declared fields.

A WatermelonDB record is flat: snake_case scalar columns, `id` a string, instants as epoch
milliseconds (a photo's `taken_at` in its JSON too), a point as two columns (`latitude`,
`longitude`), objects and lists as JSON strings. `to_raw` writes a report's wire record (schemas.sync.write_report) that way;
`to_data` reads a pushed raw record back into the op data §5.2's engine takes, keeping only
the columns the phone changed (`_changed`) for an update. Each kind of field in
sync.report.FIELDS has one conversion each way, so a new field needs no line here.

A value that does not convert (a checklist that is not JSON, an instant that is not a
number) is passed on as it came: the wire schema then refuses the op naming the field,
and the engine quarantines it (§5.6) instead of this module guessing.
"""

from datetime import UTC, datetime
from operator import itemgetter

import orjson

from sync.report import BY_NAME, CHECKLIST, FIELDS, INSTANT, PHOTOS, POINT

# The server-owned columns of a report's raw form, by how they are written.
SERVER_INSTANTS = ("received_at", "evidence_time")
SERVER_LISTS = ("flags", "amendments", "photos_pending")
SERVER_SCALARS = ("version", "evidence_time_source", "clock_skew_s", "distance_to_office_m", "locked",
                  "violation_id")
JSON_KINDS = (CHECKLIST, PHOTOS)
# Epoch milliseconds a phone may send: the years 1900-2199, as the wire's instants (schemas.fields).
EARLIEST_MS = -2_208_988_800_000
LATEST_MS = 7_258_118_400_000 - 1


def point_columns(name: str) -> tuple[str, str]:
    """The two raw columns of a point field: `latitude`/`longitude` for the report's
    location (§5.8), `<name>_latitude`/`<name>_longitude` for any other."""
    return ("latitude", "longitude") if name == "location" else (f"{name}_latitude", f"{name}_longitude")


def raw_columns(name: str) -> tuple[str, ...]:
    """The raw columns a declared field is written in."""
    return point_columns(name) if BY_NAME[name].kind == POINT else (name,)


# ---------------------------------------------------------------- the server's record, as a phone stores it


def to_raw(record: dict) -> dict:
    """A report's wire record (write_report) as a WatermelonDB raw record."""
    raw = {"id": record["id"]}
    for f in FIELDS:
        value = record[f.name]
        if f.kind == POINT:
            latitude, longitude = point_columns(f.name)
            lon_lat = value["coordinates"][:2] if value else (None, None)
            raw[latitude], raw[longitude] = lon_lat[1], lon_lat[0]
        elif f.kind == INSTANT:
            raw[f.name] = epoch_ms(value)
        elif f.kind == PHOTOS:
            raw[f.name] = orjson.dumps([{**p, "taken_at": epoch_ms(p["taken_at"])} for p in value]).decode()
        elif f.kind in JSON_KINDS:
            raw[f.name] = orjson.dumps(value).decode()
        else:
            raw[f.name] = value
    for name in SERVER_INSTANTS:
        raw[name] = epoch_ms(record[name])
    for name in SERVER_LISTS:
        raw[name] = orjson.dumps(record[name]).decode()
    for name in SERVER_SCALARS:
        raw[name] = record[name]
    return raw


def epoch_ms(instant: str | None) -> int | None:
    """An instant of the wire (ISO 8601 with its offset) as epoch milliseconds."""
    if instant is None:
        return None
    return round(datetime.fromisoformat(instant).timestamp() * 1000)


# ---------------------------------------------------------------- a pushed record, as the engine takes it


def to_data(raw: dict, changed: set[str] | None = None) -> dict:
    """The op data of a pushed raw record: every declared field for a create (`changed`
    None), only the fields whose columns the phone changed for an update."""
    data = {}
    for name, columns, read in _READERS:
        if changed is not None and changed.isdisjoint(columns):
            continue
        if raw.keys().isdisjoint(columns):
            continue  # left out: the schema's default for a create, untouched for an update
        data[name] = read(raw)
    return data


def _point(latitude, longitude):
    if latitude is None and longitude is None:
        return None
    return {"type": "Point", "coordinates": [longitude, latitude]}  # the schema checks both


def _instant(value):
    if type(value) in (int, float) and EARLIEST_MS <= value <= LATEST_MS:
        return datetime.fromtimestamp(value / 1000, UTC).isoformat()
    return value  # null stays null; anything else is the schema's to refuse


def _json(value):
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)  # (orjson refuses nesting past 1,024; the schema bounds it to 10)
    except orjson.JSONDecodeError:
        return value


def _photos(value):
    """A photo list's JSON, its `taken_at`s in epoch milliseconds as the raw form writes them."""
    photos = _json(value)
    if not isinstance(photos, list):
        return photos
    return [{**p, "taken_at": _instant(p["taken_at"])} if isinstance(p, dict) and "taken_at" in p else p
            for p in photos]


def _reader(f):
    """How a field's value is read from a raw record."""
    if f.kind == POINT:
        latitude, longitude = point_columns(f.name)
        return lambda raw: _point(raw.get(latitude), raw.get(longitude))
    convert = {INSTANT: _instant, PHOTOS: _photos, CHECKLIST: _json}.get(f.kind)
    if convert is None:
        return itemgetter(f.name)
    return lambda raw: convert(raw[f.name])


# Each field's columns and reader, worked out once: a push reads every record it brings
# through these, and working them out per record cost it some 5 µs a record.
_READERS = tuple((f.name, raw_columns(f.name), _reader(f)) for f in FIELDS)
