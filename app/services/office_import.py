"""Importing offices from a CSV or GeoJSON file: every row checked first, then all or nothing."""

import csv
import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import marshmallow as ma

from app.database import utcnow
from app.errors import flatten_messages
from app.models import Office
from app.repositories import districts as district_repo
from app.repositories import offices as repo
from app.services import changefeed, unit_of_work
from geo.geometry import lon_lat, point, to_db
from schemas.places import OfficeImportRowSchema

# Offices get an id derived from their code, so that the same office has the same id in
# every database it is imported into (and again after a delete and re-import).
OFFICE_ID_NAMESPACE = uuid.UUID("6c1d3f0e-1f0a-4d5e-9a43-6d1c2b7e5a10")
COORDINATE_TOLERANCE = 1e-7  # degrees, about a centimetre


@dataclass(frozen=True)
class RowError:
    where: str  # "line 7" (CSV) or "feature 3" (GeoJSON)
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}"


class ImportRejected(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = errors


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def read_rows(path: Path) -> list[tuple[str, dict]]:
    """(where, raw row) pairs from a .csv or .geojson/.json file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected([RowError("file", "encoding", f"Not UTF-8 text (bad byte at offset {exc.start}); "
                                       "save the file as UTF-8.")]) from exc
    if path.suffix.lower() == ".csv":
        return _csv_rows(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected([RowError(f"line {exc.lineno}", "file", f"Not valid JSON: {exc.msg}.")]) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ImportRejected([RowError("file", "type", "A GeoJSON file must be a FeatureCollection.")])
    return [(f"feature {i}", _feature_row(feature)) for i, feature in enumerate(data.get("features") or [], 1)]


def _csv_rows(text: str) -> list[tuple[str, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    while True:
        # A row starts on the line after the last one read (a quoted field may span lines).
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            raise ImportRejected([RowError(f"line {start}", "file", f"Not valid CSV: {exc}.")]) from exc
        rows.append((f"line {start}", row))


def _feature_row(feature) -> dict:
    if not isinstance(feature, dict):
        return {}
    row = dict(feature.get("properties") or {})
    geometry = feature.get("geometry") or {}
    coords = geometry.get("coordinates") if geometry.get("type") == "Point" else None
    if isinstance(coords, list) and len(coords) >= 2:
        row["longitude"], row["latitude"] = coords[0], coords[1]
    return row


def import_offices(path: Path) -> ImportResult:
    """Import or update offices by code; the district of each comes from its location."""
    rows = read_rows(path)
    with unit_of_work():
        changefeed.lock(None)
        return import_rows(rows)


def import_rows(rows: list[tuple[str, dict]]) -> ImportResult:
    """Check every row, then write them all; raises ImportRejected and writes nothing
    if any row is bad. Runs inside the caller's transaction."""
    schema = OfficeImportRowSchema()
    errors: list[RowError] = []
    valid: list[tuple[str, dict, int]] = []
    seen: dict[str, str] = {}
    for where, raw in rows:
        try:
            row = schema.load(raw)
        except ma.ValidationError as exc:
            errors += [RowError(where, f, "; ".join(m)) for f, m in flatten_messages(exc.messages).items()]
            continue
        if row["code"] in seen:
            errors.append(RowError(where, "code", f"{row['code']} is already at {seen[row['code']]}."))
            continue
        seen[row["code"]] = where
        district = district_repo.number_at(row["longitude"], row["latitude"])
        if district is None:
            errors.append(RowError(where, "latitude/longitude", "The point is outside Tehran's 22 districts."))
            continue
        valid.append((where, row, district))
    if errors:
        raise ImportRejected(errors)
    return _apply(valid)


def _apply(rows: list[tuple[str, dict, int]]) -> ImportResult:
    result = ImportResult()
    existing = repo.by_codes([row["code"] for _, row, _ in rows])
    for _, row, district in rows:
        values = {k: row[k] for k in ("name", "category", "address", "phone", "status")}
        values["district"] = district
        office = existing.get(row["code"])
        if office is None:
            office = repo.create(Office(id=uuid.uuid5(OFFICE_ID_NAMESPACE, row["code"]), code=row["code"],
                                        location=to_db(point(row["longitude"], row["latitude"])), **values))
            changefeed.record("offices", office.id, district=district)
            result.created.append(row["code"])
        elif _changed(office, values, row):
            move(office, point(row["longitude"], row["latitude"]), district, values)
            result.updated.append(row["code"])
        else:
            result.unchanged.append(row["code"])
    return result


def move(office: Office, location, district: int, values: dict | None = None) -> None:
    """Change an office (its place, district and other fields) and tell the change feed.

    An office that changes district leaves the old district's phones as a deletion."""
    if office.district != district:
        changefeed.record("offices", office.id, district=office.district, deleted=True)
    for key, value in (values or {}).items():
        setattr(office, key, value)
    office.district = district
    office.location = to_db(location)
    office.version += 1
    office.updated_at = utcnow()
    changefeed.record("offices", office.id, district=district)


def _changed(office: Office, values: dict, row: dict) -> bool:
    lon, lat = lon_lat(office.location)
    moved = abs(lon - row["longitude"]) > COORDINATE_TOLERANCE or abs(lat - row["latitude"]) > COORDINATE_TOLERANCE
    return moved or any(getattr(office, key) != value for key, value in values.items())
