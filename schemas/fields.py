"""Fields the wire format shares: instants with offsets, GeoJSON points, lat,lon pairs.

A field that reads typed text declares it in `OPENAPI` (a JSON Schema the OpenAPI document
shows, app.openapi.declared_forms): the pattern of schemas.patterns it checks input against.
"""

import functools
import re
import uuid
from datetime import datetime

import marshmallow as ma

from app.hours.calendar import TEHRAN, CalendarError, format_date, parse_date, parse_time
from geo.geometry import GeometryError, parse_point, to_geojson
from schemas import patterns
from schemas.normalize import ascii_digits


class WholeMatch(ma.validate.Regexp):
    """A Regexp that the whole value must match. marshmallow's Regexp uses `re.match`, and
    `$` also matches before a trailing newline, so `"^[0-9a-f]{64}$"` took `"<sha>\\n"`.
    The pattern stays in `^…$` form: the OpenAPI document declares it, and ECMA 262 (JSON
    Schema's dialect) has no `\\A` or `\\Z`."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class TextUuid(uuid.UUID):
    """A uuid read from the wire in its canonical text (lower-case hex, hyphens), which keeps
    that text: `str()` of a uuid.UUID formats its 128 bits anew every time (1 µs), and a
    pushed report's ids are written out as text some eight times (its row, its record, its
    kept version, its ledger entry, the answer). Equal to, and hashed as, the uuid.UUID of
    the same value."""

    __slots__ = ("_text",)

    def __str__(self) -> str:
        return self._text

    def __reduce__(self):
        return TextUuid.of, (self._text,)

    @staticmethod
    def of(text: str) -> uuid.UUID:
        """The uuid `text` spells (as uuid.UUID reads it): a TextUuid when `text` is in
        canonical form, else a plain uuid.UUID; ValueError if it is none."""
        if _CANONICAL_UUID(text) is None:
            return uuid.UUID(text)
        value = object.__new__(TextUuid)
        _set(value, "int", int(text.replace("-", ""), 16))
        _set(value, "is_safe", _UNKNOWN_SAFETY)
        _set(value, "_text", text)
        return value


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown
_set = object.__setattr__  # (uuid.UUID's own refuses: its values are immutable)


class Instant(ma.fields.Field):
    """An ISO 8601 instant that must carry its offset; written in Tehran time."""

    OPENAPI = {"type": "string", "pattern": patterns.whole(patterns.INSTANT),
               "example": "2026-03-25T08:15:03+03:30"}

    default_error_messages = {
        "invalid": "Not an ISO 8601 date-time such as 2026-03-25T08:15:03+03:30.",
        "naive": "Give the UTC offset (for example 2026-03-25T08:15:03+03:30).",
        "range": "Give a time in the years 1900 to 2199.",
    }

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        return write_instant(value)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        try:
            return read_instant(value)
        except InstantError as exc:
            raise self.make_error(exc.args[0]) from exc


class InstantError(ValueError):
    """Why a value is not an instant: a key of Instant's error messages."""


_INSTANT = re.compile(Instant.OPENAPI["pattern"])


def read_instant(value) -> datetime:
    """An instant from its text, as Instant reads it (and the push's fast path, schemas.sync).

    The years 1900 to 2199: wide enough for a phone whose clock reset to 1970, narrow
    enough that correcting one by the push's clock skew (DESIGN §5.3) stays within
    datetime's years 1–9999."""
    if not isinstance(value, str):
        raise InstantError("invalid")
    try:
        parsed = datetime.fromisoformat(ascii_digits(value.strip(patterns.BLANKS)))
    except ValueError as exc:
        raise InstantError("invalid") from exc
    if parsed.tzinfo is None:
        raise InstantError("naive")
    if not 1900 <= parsed.year <= 2199:
        raise InstantError("range")
    if not _INSTANT.match(value):  # what Python reads beyond ISO 8601's usual form (20260325T0815Z, …)
        raise InstantError("invalid")
    return parsed


def write_instant(value: datetime | None) -> str | None:
    """An instant as the wire shows it: Tehran time, to the second, with its offset."""
    if value is None:
        return None
    return _written_instant(value)


# Remembered: a push writes each report's instants (its answer, its stored record), and the
# instant it was received, its author's observation and evidence times repeat across its
# reports. Equal instants (the same moment in any zone) are written the same.
@functools.lru_cache(maxsize=4096)
def _written_instant(value: datetime) -> str:
    return value.astimezone(TEHRAN).isoformat(timespec="seconds")


class GeoJSONPoint(ma.fields.Field):
    """A GeoJSON Point on the wire; a database geometry (or shapely Point) inside."""

    def _serialize(self, value, attr, obj, **kwargs):
        return to_geojson(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_point(value)
        except GeometryError as exc:
            raise ma.ValidationError(f"Location {exc}.") from exc


class GeoJSONGeometry(ma.fields.Field):
    """Any geometry, written as GeoJSON (read-only)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return to_geojson(value)


class LatLon(ma.fields.Field):
    """`lat,lon` in decimal degrees (any digits), as a (lat, lon) pair."""

    OPENAPI = {"type": "string", "pattern": patterns.whole(patterns.LAT_LON), "example": "35.7,51.4"}
    PATTERN = re.compile(OPENAPI["pattern"])
    # Two decimal numbers, ASCII by now: what the pattern takes, but for their size.
    NUMBERS = re.compile(f"[-+]?[0-9]+(?:\\.[0-9]+)?{patterns.BLANK},{patterns.BLANK}[-+]?[0-9]+(?:\\.[0-9]+)?")

    default_error_messages = {"invalid": "Give latitude,longitude in decimal degrees, e.g. 35.7,51.4.",
                              "range": "Latitude must be within ±90 and longitude within ±180."}

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[float, float]:
        text = ascii_digits(value).strip(patterns.BLANKS) if isinstance(value, str) else ""
        if not self.PATTERN.match(value if isinstance(value, str) else ""):
            raise self.make_error("range" if self.NUMBERS.fullmatch(text) else "invalid")
        lat_text, lon_text = text.split(",")
        return float(lat_text), float(lon_text)


class JSONBoolean(ma.fields.Boolean):
    """`true` or `false` in a JSON body, as the document says (marshmallow's Boolean would
    also take 1, "yes", "on" and the like)."""

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class JalaliDate(ma.fields.Field):
    """A Jalali date on the wire (`1405-01-05`); any digits and `/` accepted on input."""

    OPENAPI = {"type": "string", "pattern": patterns.whole(patterns.JALALI_DATE), "example": "1405-01-05"}

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_date(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_date(value)
        except CalendarError as exc:
            raise ma.ValidationError(str(exc)) from exc


class ClockTime(ma.fields.Field):
    """A Tehran wall-clock time (`08:00`); any digits accepted on input."""

    OPENAPI = {"type": "string", "pattern": patterns.whole(patterns.CLOCK_TIME), "example": "08:00"}

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M" if not value.second else "%H:%M:%S")

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_time(value)
        except CalendarError as exc:
            raise ma.ValidationError(str(exc)) from exc
