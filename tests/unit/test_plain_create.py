"""The plain-create loader gives what the schemas give, and leaves them all else."""

import uuid

import marshmallow as ma
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from schemas.sync import OpSchema, ReportCreateSchema, load_plain_creates
from sync import report

OP, CREATE = OpSchema(), ReportCreateSchema()
ABSENT = object()  # the key is left out
ID = str(uuid.UUID(int=7))
SHA = "ab" * 32

# For each key, values a phone might send: plain and valid, valid in a form the plain
# loader leaves to the schema, and invalid.
UUIDS = [ID, ID.upper(), "{" + ID + "}", ID.replace("-", ""), "not-a-uuid", "", 7, None, ABSENT]
INSTANTS = ["2026-03-25T08:02:11+03:30", " 2026-03-25T04:32:11Z ", "2026-03-25T08:02:11.5+03:30",
            "۲۰۲۶-۰۳-۲۵T08:02:11+03:30", "2026-03-25T08:02:11", "2026-03-25 08:02", "yesterday", 17, None, ABSENT]
OP_FIELDS = {
    "op_id": UUIDS, "id": UUIDS, "changed_at": INSTANTS,
    "entity": ["reports", "office_corrections", "Reports", None, ABSENT],
    "action": ["create", "update", "delete", ABSENT],
    "base_version": [ABSENT, None, 1, 0, "1"],
    "extra": [ABSENT, 1],
}
POINTS = [ABSENT, None, {"type": "Point", "coordinates": [51.4, 35.7]},
          {"type": "Point", "coordinates": [51, 35]}, {"type": "Point", "coordinates": [-180, -90]},
          {"type": "point", "coordinates": [51.4, 35.7]}, {"type": "Point", "coordinates": [51.4, 35.7, 1200]},
          {"type": "Point", "coordinates": [51.4, 35.7], "bbox": [51, 35, 52, 36]},
          {"type": "Point", "coordinates": [200, 35.7]}, {"type": "Point", "coordinates": ["51.4", 35.7]},
          {"type": "Point", "coordinates": [True, 35.7]},
          {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, {"type": "Point"}, [51.4, 35.7],
          "POINT(51.4 35.7)"]


def _samples(f: report.Field) -> list:
    """Values a phone might send for a declared field, from its kind and limits: so a new
    field of any kind is held to the schemas here without a line of this test changing."""
    low, high = f.range or (0, 0)
    most = f.most or 0
    return {
        report.UUID: UUIDS,
        report.INSTANT: INSTANTS,
        report.POINT: POINTS,
        report.NUMBER: [ABSENT, None, 12.0, 12, low, high, high + 0.5, low - 1, "12", True, 10**400],
        report.COUNT: [ABSENT, None, low, 3, high, high + 1, low - 1, 3.0, 3.5, "3", False],
        report.CHOICE: [*(f.choices or ()), "ajar", "", None, 3, ABSENT],
        report.CHECKLIST: [ABSENT, {}, {"sign": True, "queue": None, "fee": False}, None, [], {"": True},
                           {"k" * (report.CHECKLIST_ITEM_MAX + 1): True}, {"sign": "yes"}, {"sign": 1},
                           {f"item{i}": True for i in range(most + 1)}],
        report.TEXT: [ABSENT, "", "closed at 09:10", "x" * most, "x" * (most + 1), None, 5],
        report.PHOTOS: [ABSENT, [], [{"sha256": SHA}], [{"sha256": SHA, "taken_at": "2026-03-25T08:00:00+03:30",
                                                         "caption": "front door"}],
                        [{"sha256": SHA, "taken_at": None, "caption": ""}], [{"sha256": SHA.upper()}],
                        [{"sha256": "nope"}], [{"sha256": SHA + "\n"}],
                        [{"sha256": SHA, "taken_at": "2026-03-25T08:00:00"}],
                        [{"sha256": SHA, "caption": "c" * (report.CAPTION_MAX + 1)}], [{"sha256": SHA, "size": 5}],
                        [{}], [SHA], None, [{"sha256": SHA}] * (most + 1)],
    }[f.kind]


REPORT_FIELDS = {f.name: _samples(f) for f in report.FIELDS} | {
    "version": [ABSENT, 3],  # server-owned: not the client's to send
}


BASE_OP = {"op_id": ID, "entity": "reports", "action": "create", "id": ID, "base_version": None,
           "changed_at": "2026-03-25T08:02:11+03:30"}
BASE_DATA = {"office_id": ID, "round_id": None, "observed_at": "2026-03-25T08:02:11+03:30", "gps_fix_at": None,
             "location": {"type": "Point", "coordinates": [51.4, 35.7]}, "accuracy_m": 12.0,
             "office_state": "closed", "staff_present": 2, "checklist": {"sign": True}, "notes": "shut",
             "photos": [{"sha256": SHA, "taken_at": None, "caption": ""}]}
VARIANTS = [("op", key, value) for key, values in OP_FIELDS.items() for value in values] + \
           [("data", key, value) for key, values in REPORT_FIELDS.items() for value in values] + \
           [("op", "data", value) for value in (ABSENT, None, [], "x")]


def _varied(changes) -> dict:
    """The plain op with some keys changed (or dropped, for ABSENT)."""
    op, data = dict(BASE_OP), dict(BASE_DATA)
    op["data"] = data
    for place, key, value in changes:
        target = op if place == "op" else data
        if value is ABSENT:
            target.pop(key, None)
        else:
            target[key] = value
    return op


def _schemas(raw):
    try:
        op = OP.load(raw)
        return op, CREATE.load(op["data"])
    except ma.ValidationError:
        return None


def _check(raw) -> bool:
    """The plain loader gives the schemas' result, or leaves the op to them; True if it loaded it."""
    (plain,) = load_plain_creates([raw])
    if plain is not None:
        schemas = _schemas(raw)
        assert schemas is not None and raw["entity"] == "reports" and raw["action"] == "create"
        assert _typed(plain) == _typed(schemas)
    return plain is not None


def test_each_variant_alone_is_loaded_as_the_schemas_load_it_or_left_to_them():
    loaded = [_check(_varied([variant])) for variant in VARIANTS]
    assert 40 < sum(loaded) < len(VARIANTS)  # both ways are exercised


def test_a_batch_loads_each_op_as_it_would_be_loaded_alone():
    raws = [_varied([variant]) for variant in VARIANTS]
    for i, raw in enumerate(raws):  # each at its own place, so that no Point lands on the wrong report
        if isinstance(raw.get("data"), dict) and raw["data"].get("location") == BASE_DATA["location"]:
            raw["data"]["location"] = {"type": "Point", "coordinates": [51 + i / 1000, 35.7]}
    alone = [load_plain_creates([raw])[0] for raw in raws]
    assert [_typed(x) for x in load_plain_creates(raws)] == [_typed(x) for x in alone]


@settings(max_examples=1000)
@given(st.lists(st.sampled_from(VARIANTS), max_size=5))
def test_any_mix_of_variants_is_loaded_as_the_schemas_load_it_or_left_to_them(changes):
    _check(_varied(changes))


def test_what_phones_send_is_loaded_the_plain_way():
    location = {"type": "Point", "coordinates": [51.4, 35.7]}
    reference_client = {"office_id": ID, "observed_at": "2026-03-25T08:02:11+03:30", "office_state": "closed",
                        "location": location, "accuracy_m": 8.5, "notes": "", "checklist": {"sign": True},
                        "staff_present": None, "photos": [{"sha256": SHA, "taken_at": "2026-03-25T08:02:00+03:30",
                                                           "caption": ""}], "gps_fix_at": None, "round_id": None}
    minimal = {"office_id": ID, "observed_at": "2026-03-25T08:02:11+03:30", "office_state": "open"}
    for data in (reference_client, minimal):
        raw = {"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create", "id": str(uuid.uuid4()),
               "base_version": None, "changed_at": "2026-03-25T08:02:15+03:30", "data": data}
        (plain,) = load_plain_creates([raw])
        assert plain is not None and _typed(plain) == _typed(_schemas(raw))


def _typed(value):
    """A value with the type of every part spelled out, so that 5 and 5.0 (or True and 1) differ;
    a uuid by its value and its text (the plain loader's is a TextUuid, keeping its text)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}, list(value)
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_typed(item) for item in value]
    if isinstance(value, Point):
        return "Point", _typed(value.x), _typed(value.y), value.has_z
    if isinstance(value, uuid.UUID):  # the plain loader's TextUuid is one, and must read as one
        return "UUID", value, str(value), repr(uuid.UUID(str(value)))
    return type(value).__name__, value
