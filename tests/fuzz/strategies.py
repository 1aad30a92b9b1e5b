"""Hypothesis strategies for the sync push (DESIGN §5.2, §5.3): valid values, garbage, and
near-valid mixtures of the two, field by field."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from app.models.sync import REPORT_STATES
from schemas.input import NUL


def text(**kwargs):
    """Text a person could type: anything but U+0000, which no input may hold (schemas.input)."""
    return st.text(st.characters(exclude_characters=NUL), **kwargs)


NUL_TEXT = st.text(max_size=10).map(lambda value: value + NUL)
# Text no database can store: U+0000, or a lone surrogate (sent as its JSON escape).
UNSTORABLE_TEXT = NUL_TEXT | st.tuples(st.text(max_size=10), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))\
    .map("".join)

# Any JSON value (what a broken or hostile phone could send where an object is due).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
NOT_NULL = JSON.filter(lambda value: value is not None)
# Integers beyond any database column, and numbers of the wrong kind.
AWKWARD_NUMBERS = st.sampled_from([0, -1, 2**31, 2**63, 10**30, -(10**30), True, "one"])

OFFSETS = st.sampled_from([timezone.utc, timezone(timedelta(hours=3, minutes=30)), timezone(timedelta(hours=-11))])
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS)
# ISO 8601 instants at the ends of what Python can hold, in far-off zones: valid on the
# wire, but one hour either way leaves datetime's range.
EDGE_INSTANTS = st.sampled_from(["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00",
                                 "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-12:00",
                                 "1970-01-01T00:00:00+03:30"])
INSTANTS = MOMENTS.map(lambda moment: moment.isoformat())
BAD_INSTANTS = st.one_of(
    MOMENTS.map(lambda moment: moment.replace(tzinfo=None).isoformat()),  # no offset
    st.sampled_from(["", "yesterday", "2026-13-45T99:99:99+03:30", "۲۰۲۶-۰۳-۲۵T۰۸:۰۰:۰۰+۰۳:۳۰x", "0000-00-00"]),
    st.text(max_size=30), st.integers(), NOT_NULL,
)
RECENT = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1)).map(
    lambda moment: moment.replace(tzinfo=UTC).isoformat())

UUIDS = st.uuids().map(str)
BAD_UUIDS = st.one_of(st.sampled_from(["", "0", "not-a-uuid", str(uuid.UUID(int=0))[:-1]]), st.text(max_size=40),
                      st.integers(), NOT_NULL)

SHA256 = st.text("0123456789abcdef", min_size=64, max_size=64)
POINTS = st.builds(lambda lon, lat: {"type": "Point", "coordinates": [lon, lat]},
                   st.floats(-180, 180), st.floats(-90, 90))
BAD_POINTS = st.one_of(
    st.builds(lambda lon, lat: {"type": "Point", "coordinates": [lon, lat]},
              st.floats(180.001, 1e6) | st.floats(-1e6, -180.001), st.floats(-90, 90)),
    st.sampled_from([{"type": "Point"}, {"type": "Point", "coordinates": []}, {"type": "Point", "coordinates": [51]},
                     {"type": "LineString", "coordinates": [[51, 35], [51.1, 35.1]]},
                     {"type": "Point", "coordinates": ["51", "35"]}, {"type": "Point", "coordinates": [51, 35, 1, 2]},
                     "POINT(51 35)", [51, 35]]),
    NOT_NULL,
)


def photos(valid: bool):
    photo = st.fixed_dictionaries({"sha256": SHA256}, optional={"taken_at": st.none() | INSTANTS,
                                                                "caption": text(max_size=500)})
    if valid:
        return st.lists(photo, max_size=4, unique_by=lambda p: p["sha256"])
    return st.one_of(st.lists(st.fixed_dictionaries({"sha256": st.text(max_size=70)}), min_size=1, max_size=3),
                     st.lists(photo.map(lambda p: p | {"caption": "x" * 501}), min_size=1, max_size=2),
                     st.lists(photo, min_size=51, max_size=51),
                     NOT_NULL.filter(lambda value: not isinstance(value, list)))


# Each field of a report: (values the server must take, values it must refuse).
REPORT_FIELDS = {
    # A round the report names must be one of its office and day (DESIGN §5.3): a made-up id
    # lands the report without it (merged, tests/fuzz/test_hostile_phone.py), so only none
    # is drawn here as good.
    "round_id": (st.none(), BAD_UUIDS),
    "observed_at": (INSTANTS, BAD_INSTANTS),
    "gps_fix_at": (st.none() | INSTANTS, BAD_INSTANTS),
    "location": (st.none() | POINTS, BAD_POINTS),
    "accuracy_m": (st.none() | st.floats(0, 100_000), st.floats(100_000.01, 1e300) | st.floats(max_value=-0.01)
                   | st.sampled_from(["far", "", "nan", "1e999"])),
    "office_state": (st.sampled_from(REPORT_STATES), st.text(max_size=20).filter(lambda s: s not in REPORT_STATES)),
    # (A float or a numeric string is taken as an integer: marshmallow's Integer is not strict.)
    "staff_present": (st.none() | st.integers(0, 10_000), st.integers(10_001) | st.integers(max_value=-1)
                      | st.sampled_from([True, "three", 10**30])),
    "checklist": (st.dictionaries(text(min_size=1, max_size=64), st.none() | st.booleans(), max_size=5),
                  st.one_of(st.dictionaries(st.text(min_size=65, max_size=70), st.booleans(), min_size=1, max_size=1),
                            st.dictionaries(st.text(min_size=1, max_size=5), st.sampled_from(["maybe", 2, [], {}]),
                                            min_size=1, max_size=2),
                            st.lists(st.booleans(), max_size=2))),
    "notes": (text(max_size=300) | st.just("ن" * 4000), st.just("x" * 4001) | st.integers() | st.none() | UNSTORABLE_TEXT),
    "photos": (photos(valid=True), photos(valid=False)),
}
REQUIRED = ("office_id", "observed_at", "office_state")


@st.composite
def report_data(draw, office_ids: list[str], kind: str = "good"):
    """A report's fields and the one field the answer must name, if any.

    kind: `good` (every field valid: the report must land), `bad` (one field wrong,
    missing or unknown: the op must be refused naming it) or `edge` (one instant at the
    end of datetime's range: taken, or refused naming it)."""
    data = {"office_id": draw(st.sampled_from(office_ids))}
    for name, (good, _) in REPORT_FIELDS.items():
        if name in REQUIRED or draw(st.booleans()):
            data[name] = draw(good)
    if kind == "good":
        return data, None
    if kind == "edge":
        field = draw(st.sampled_from(["observed_at", "gps_fix_at"]))
        data[field] = draw(EDGE_INSTANTS)
        return data, f"data.{field}"
    how = draw(st.sampled_from(["value", "missing", "unknown"]))
    if how == "missing":
        field = draw(st.sampled_from(REQUIRED))
        del data[field]
    elif how == "unknown":
        field = draw(st.sampled_from(["version", "locked", "flags", "violation_id", "evidence_time", "x"]))
        data[field] = draw(JSON)
    else:
        field = draw(st.sampled_from(["office_id", *REPORT_FIELDS]))
        data[field] = draw(BAD_UUIDS if field == "office_id" else REPORT_FIELDS[field][1])
    return data, f"data.{field}"
