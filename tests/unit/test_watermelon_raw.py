"""A report's WatermelonDB raw form (DESIGN §5.8) is flat, and reads back to the same report."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import orjson
import pytest

from geo.geometry import point, to_db
from schemas.sync import ReportCreateSchema, ReportUpdateSchema, write_report
from sync import watermelon
from sync.report import FIELDS

OFFICE, ROUND, SHA = str(uuid.UUID(int=1)), str(uuid.UUID(int=2)), "ab" * 32


def _report(**changes) -> SimpleNamespace:
    at = datetime(2026, 3, 25, 4, 32, 11, tzinfo=UTC)
    row = dict(id=uuid.UUID(int=9), office_id=uuid.UUID(OFFICE), round_id=uuid.UUID(ROUND), observed_at=at,
               gps_fix_at=at, location=to_db(point(51.4, 35.7)), accuracy_m=8.5, office_state="closed",
               staff_present=2, checklist={"sign": True, "queue": None}, notes="shut at 09:10",
               photos=[{"sha256": SHA, "taken_at": "2026-03-25T04:32:00+00:00", "caption": ""}], version=3,
               received_at=at, evidence_time=at, evidence_time_source="gps", clock_skew_s=-1.5,
               distance_to_office_m=12.3, locked=False, flags=["closed_during_mandated_hours"],
               violation_id=None, amendments=[])
    return SimpleNamespace(**row | changes)


def test_the_raw_form_is_flat_with_instants_in_milliseconds_and_the_location_in_two_columns():
    raw = watermelon.to_raw(write_report(_report(), {SHA}))
    assert all(value is None or isinstance(value, (str, int, float, bool)) for value in raw.values())
    assert raw["observed_at"] == raw["received_at"] == 1774413131000
    assert (raw["latitude"], raw["longitude"]) == (35.7, 51.4) and "location" not in raw
    assert orjson.loads(raw["checklist"]) == {"sign": True, "queue": None}
    assert orjson.loads(raw["photos_pending"]) == [SHA]
    assert raw["id"] == str(uuid.UUID(int=9)) and raw["version"] == 3


def test_every_declared_field_has_its_raw_columns():
    raw = watermelon.to_raw(write_report(_report(), set()))
    for f in FIELDS:
        assert all(column in raw for column in watermelon.raw_columns(f.name)), f.name


def test_a_raw_record_pushed_as_a_create_reads_back_to_the_same_fields():
    report = _report()
    raw = watermelon.to_raw(write_report(report, set()))
    loaded = ReportCreateSchema().load(watermelon.to_data(raw))
    assert loaded["observed_at"] == report.observed_at and loaded["office_state"] == "closed"
    assert (loaded["location"].x, loaded["location"].y) == (51.4, 35.7)
    assert loaded["checklist"] == report.checklist and loaded["photos"][0]["sha256"] == SHA


def test_an_update_carries_only_the_fields_the_phone_changed():
    raw = watermelon.to_raw(write_report(_report(), set()))
    assert set(watermelon.to_data(raw, {"notes", "updated_at"})) == {"notes"}
    assert watermelon.to_data(raw, {"latitude"})["location"] == {"type": "Point", "coordinates": [51.4, 35.7]}
    assert watermelon.to_data(raw | {"latitude": None, "longitude": None}, {"longitude"}) == {"location": None}


@pytest.mark.parametrize("column, value, field", [
    ("checklist", "{not json", "checklist"),
    ("observed_at", "yesterday", "observed_at"),
    ("observed_at", 10**16, "observed_at"),
    ("latitude", "north", "location"),
])
def test_a_value_that_does_not_convert_is_refused_by_the_schema_naming_its_field(column, value, field):
    raw = watermelon.to_raw(write_report(_report(), set())) | {column: value}
    errors = ReportUpdateSchema().validate(watermelon.to_data(raw, {column}))
    assert field in errors


def test_every_pulled_table_is_written_flat_from_its_read_schema():
    from schemas.hours import HoursRuleSchema
    from schemas.places import DistrictSchema, OfficeSchema
    from schemas.watermelon import raw_writer

    office = {"id": OFFICE, "code": "E-0601", "name": "دفتر ۱", "district": 6, "category": "pishkhan",
              "location": {"type": "Point", "coordinates": [51.4, 35.7]}, "address": "", "phone": None,
              "status": "active", "version": 2}
    raw = raw_writer(OfficeSchema())(office)
    assert raw == {"id": OFFICE, "code": "E-0601", "name": "دفتر ۱", "district": 6, "category": "pishkhan",
                   "latitude": 35.7, "longitude": 51.4, "address": "", "phone": None, "status": "active",
                   "version": 2}
    district = {"number": 6, "name_fa": "۶", "name_en": "6", "version": 1,
                "geometry": {"type": "MultiPolygon", "coordinates": [[[[51, 35], [52, 35], [52, 36], [51, 35]]]]}}
    raw = raw_writer(DistrictSchema(), id_field="number")(district)
    assert raw["id"] == "6" and orjson.loads(raw["geometry"]) == district["geometry"]
    rule = {name: None for name in HoursRuleSchema().fields} | {
        "id": ROUND, "weekdays": [0, 1], "windows": [{"start": "08:00", "end": "16:30"}],
        "published_at": "2026-03-20T10:00:00+03:30"}
    raw = raw_writer(HoursRuleSchema())(rule)
    assert raw["published_at"] == 1773988200000 and orjson.loads(raw["windows"])[0]["start"] == "08:00"
    assert all(value is None or isinstance(value, (str, int, float, bool)) for value in raw.values())
