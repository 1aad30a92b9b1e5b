"""Fields the wire format shares: instants with offsets, GeoJSON points, lat,lon pairs."""

from datetime import UTC, datetime

import marshmallow as ma

from app.hours.calendar import TEHRAN, CalendarError, format_date, parse_date, parse_time
from geo.geometry import GeometryError, parse_point, to_geojson
from schemas.normalize import ascii_digits


class Instant(ma.fields.Field):
    """An ISO 8601 instant that must carry its offset; written in Tehran time."""

    # Wide enough for a phone whose clock reset to 1970, narrow enough that correcting one
    # by the push's clock skew (DESIGN §5.3) stays within datetime's years 1–9999.
    EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
    LATEST = datetime(2200, 1, 1, tzinfo=UTC)

    default_error_messages = {
        "invalid": "Not an ISO 8601 date-time.",
        "naive": "Give the UTC offset (for example 2026-03-25T08:15:03+03:30).",
        "range": "Give a time between 1900 and 2200.",
    }

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        return write_instant(value)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(ascii_digits(value.strip()))
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if parsed.tzinfo is None:
            raise self.make_error("naive")
        if not self.EARLIEST <= parsed < self.LATEST:
            raise self.make_error("range")
        return parsed


def write_instant(value: datetime | None) -> str | None:
    """An instant as the wire shows it: Tehran time, to the second, with its offset."""
    if value is None:
        return None
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

    default_error_messages = {"invalid": "Give latitude,longitude in decimal degrees, e.g. 35.7,51.4."}

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[float, float]:
        try:
            lat_text, lon_text = ascii_digits(str(value)).split(",")
            lat, lon = float(lat_text), float(lon_text)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ma.ValidationError("Latitude must be within ±90 and longitude within ±180.")
        return lat, lon


class JalaliDate(ma.fields.Field):
    """A Jalali date on the wire (`1405-01-05`); any digits and `/` accepted on input."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_date(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_date(value)
        except CalendarError as exc:
            raise ma.ValidationError(str(exc)) from exc


class ClockTime(ma.fields.Field):
    """A Tehran wall-clock time (`08:00`); any digits accepted on input."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M" if not value.second else "%H:%M:%S")

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_time(value)
        except CalendarError as exc:
            raise ma.ValidationError(str(exc)) from exc
