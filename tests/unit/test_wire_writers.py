"""The hand-written writers give exactly what the schemas dump: reports, push answers."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
from geoalchemy2.shape import from_shape
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point

from app.models import Report
from geo.geometry import to_db
from schemas.sync import (PullResponseSchema, PushResponseSchema, ReportSchema, write_pull_response,
                          write_push_response, write_report)

SCHEMA = ReportSchema()
SHA = st.text("0123456789abcdef", min_size=64, max_size=64)
INSTANTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),
                        timezones=st.sampled_from([UTC, timezone(timedelta(hours=3, minutes=30)),
                                                   timezone(timedelta(hours=-5))]))
POINTS = st.builds(Point, st.floats(-180, 180), st.floats(-90, 90))
# Locations as they reach a dump: WKT from a landing push, WKB read back from either database.
LOCATIONS = st.one_of(st.none(), POINTS.map(to_db), POINTS.map(lambda p: from_shape(p, srid=4326)))
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=20))
PHOTOS = st.lists(st.fixed_dictionaries({"sha256": SHA, "taken_at": st.one_of(st.none(), INSTANTS.map(str)),
                                         "caption": st.text(max_size=20)}), max_size=3)
AMENDMENTS = st.lists(st.fixed_dictionaries({"field": st.sampled_from(["notes", "office_state"]),
                                             "value": JSON_VALUES, "by": st.integers(1, 50),
                                             "at": INSTANTS.map(str), "op_id": st.uuids().map(str)}), max_size=3)


@st.composite
def reports(draw):
    photos = draw(PHOTOS)
    report = Report(
        id=draw(st.uuids()), author_id=1, office_id=draw(st.uuids()), district=draw(st.integers(1, 22)),
        round_id=draw(st.one_of(st.none(), st.uuids())), observed_at=draw(INSTANTS),
        gps_fix_at=draw(st.one_of(st.none(), INSTANTS)), location=draw(LOCATIONS),
        accuracy_m=draw(st.one_of(st.none(), st.floats(0, 100_000), st.integers(0, 1000))),
        office_state=draw(st.sampled_from(["open", "closed", "open_not_serving", "inaccessible"])),
        staff_present=draw(st.one_of(st.none(), st.integers(0, 10_000))),
        checklist=draw(st.dictionaries(st.text(min_size=1, max_size=8), st.one_of(st.none(), st.booleans()),
                                       max_size=4)),
        notes=draw(st.text(max_size=40)), photos=photos, version=draw(st.integers(1, 40)),
        received_at=draw(INSTANTS), updated_at=draw(INSTANTS), evidence_time=draw(INSTANTS),
        evidence_time_source=draw(st.sampled_from(["gps", "corrected_device", "device"])),
        clock_skew_s=draw(st.one_of(st.floats(-1e6, 1e6), st.integers(-100, 100))),
        distance_to_office_m=draw(st.one_of(st.none(), st.floats(0, 1e6))), locked=draw(st.booleans()),
        flags=draw(st.lists(st.sampled_from(["closed_during_mandated_hours", "needs_verification"]), max_size=2)),
        violation_id=draw(st.one_of(st.none(), st.uuids())), amendments=draw(AMENDMENTS), field_times={})
    pending = draw(st.sets(st.sampled_from([p["sha256"] for p in photos]))) if photos else set()
    return report, pending


@given(reports())
def test_the_written_report_equals_the_schemas_dump_key_for_key(item):
    report, pending = item
    assert _json(write_report(report, pending)) == _json(SCHEMA.dump((report, pending)))


def test_a_report_with_every_optional_field_empty_is_written_as_the_schema_does():
    now = datetime(2026, 3, 25, 5, 0, tzinfo=UTC)
    report = Report(id=uuid.uuid4(), office_id=uuid.uuid4(), round_id=None, observed_at=now, gps_fix_at=None,
                    location=None, accuracy_m=None, office_state="closed", staff_present=None, checklist={},
                    notes="", photos=[], version=1, received_at=now, evidence_time=now,
                    evidence_time_source="device", clock_skew_s=0.0, distance_to_office_m=None, locked=False,
                    flags=[], violation_id=None, amendments=[])
    written = write_report(report, set())
    assert _json(written) == _json(SCHEMA.dump((report, set())))
    assert written["observed_at"] == "2026-03-25T08:30:00+03:30" and written["location"] is None


NOW = datetime(2026, 3, 25, 5, 0, tzinfo=UTC)
RECORD = {"id": str(uuid.UUID(int=1)), "notes": "seen", "photos_pending": []}
CONFLICT = {"field": "notes", "base": "a", "server": "a b", "client": "a c", "resolved": "a b\n\na c",
            "policy": "merge_text"}
# Every shape of result the push service answers with, and a few it never does.
RESULTS = [
    {"op_id": uuid.UUID(int=2), "status": "applied", "id": uuid.UUID(int=1), "version": 1, "record": RECORD,
     "conflicts": [], "missing_attachments": ["ab" * 32], "flags": ["closed_during_mandated_hours"]},
    {"op_id": uuid.UUID(int=3), "status": "merged", "id": uuid.UUID(int=1), "version": 3, "record": RECORD,
     "conflicts": [CONFLICT, {"field": "_deleted", "base": False, "server": False, "client": True,
                              "resolved": False, "policy": "update_beats_delete"}],
     "missing_attachments": [], "flags": [], "reason": "Not deleted: it changed since you saw it."},
    {"op_id": uuid.UUID(int=4), "status": "duplicate", "id": uuid.UUID(int=1), "conflicts": [CONFLICT],
     "missing_attachments": [], "flags": [], "version": 3, "record": RECORD},
    {"op_id": uuid.UUID(int=5), "status": "duplicate", "id": uuid.UUID(int=9)},
    {"op_id": uuid.UUID(int=6), "status": "applied", "id": uuid.UUID(int=1), "version": 4, "record": {},
     "conflicts": []},
    {"op_id": "not-a-uuid", "status": "rejected", "errors": {"data.office_state": ["Must be one of: open."]}},
    {"op_id": None, "status": "rejected", "errors": {"op": ["Each op must be a JSON object."]}},
    {"op_id": 17, "status": "rejected", "errors": {}},
    {"op_id": uuid.UUID(int=7), "status": "applied", "id": None, "version": None, "record": None,
     "conflicts": None, "missing_attachments": None, "flags": None, "errors": None},
    {"op_id": uuid.UUID(int=8), "status": "merged", "conflicts": [{"field": "notes", "policy": "merge_text"}]},
    {},
]


def test_the_written_push_answer_equals_the_schemas_dump_for_every_kind_of_result():
    answer = {"protocol": 1, "server_time": NOW, "clock_skew_s": -3.2, "results": RESULTS}
    assert _json(write_push_response(answer)) == _json(PushResponseSchema().dump(answer))
    # The reason a delete was refused reaches the phone (it was dropped: issue 13, item 12).
    assert write_push_response(answer)["results"][1]["reason"] == "Not deleted: it changed since you saw it."


def test_the_written_pull_answer_equals_the_schemas_dump():
    report = {"id": str(uuid.UUID(int=3)), "notes": "یادداشت", "version": 2, "accuracy_m": 5.0, "photos": [{"sha256": "a"}]}
    answer = {"protocol": 1, "cursor": "c1", "has_more": True, "reset": False, "server_time": NOW,
              "changes": {"reports": {"upserted": [report], "deleted": [str(uuid.UUID(int=4))]},
                          "districts": {"upserted": [{"id": 7, "name": "۷"}], "deleted": [8]},
                          "offices": {"upserted": [], "deleted": []}}}
    assert _json(write_pull_response(answer)) == _json(PullResponseSchema().dump(answer))


def _json(record: dict) -> bytes:
    # Compared as the bytes sent, so that 5 and 5.0, or the order of keys, count as different.
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS)


def test_a_record_stored_as_json_is_sent_as_it_is_and_as_the_same_bytes_as_the_record():
    """A report landed in bulk is answered with the record it was stored with (an
    orjson.Fragment): the answer is the bytes the record as a dict would be written as."""
    fragment = orjson.Fragment(orjson.dumps(RECORD))
    answer = {"protocol": 1, "server_time": NOW, "clock_skew_s": -3.2,
              "results": [RESULTS[0] | {"record": fragment}]}
    as_dict = {"protocol": 1, "server_time": NOW, "clock_skew_s": -3.2, "results": [RESULTS[0]]}
    assert write_push_response(answer)["results"][0]["record"] is fragment
    assert _json(write_push_response(answer)) == _json(write_push_response(as_dict))
    assert _json(PushResponseSchema().dump(answer)) == _json(PushResponseSchema().dump(as_dict))
