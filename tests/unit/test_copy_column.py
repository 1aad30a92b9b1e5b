"""A column written for COPY at once (`bulk._copy_column`) is the column written value by
value (`bulk._as_copy_text`), and an instant written by `iso_text` is its isoformat(): the
shortcuts (one writer a column, texts escaped only when one of them needs it, instants in
UTC written by orjson) change the work, never the text."""

import enum

import uuid
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from app.repositories import bulk
from schemas.fields import TextUuid
from sync.canonical import iso_text

NOW = datetime(2026, 3, 25, 8, 0, tzinfo=timezone.utc)
TEHRAN = timezone(timedelta(hours=3, minutes=30))
# Instants of every kind a column or a field may hold: UTC, naive, other offsets (one of
# seconds, which orjson would write otherwise), a zone, a subclass; with microseconds or none.
INSTANTS = [NOW, NOW.replace(microsecond=1), NOW.replace(microsecond=999_999), NOW.replace(tzinfo=None),
            NOW.replace(year=999), datetime(1, 1, 1, tzinfo=timezone.utc), datetime.max.replace(tzinfo=timezone.utc),
            NOW.astimezone(TEHRAN), NOW.astimezone(timezone(timedelta(hours=-5))),
            NOW.replace(tzinfo=timezone(timedelta(seconds=3725))), NOW.replace(tzinfo=ZoneInfo("Asia/Tehran")),
            type("Instant", (datetime,), {})(2026, 3, 25, 8, 0, tzinfo=timezone.utc),
            NOW.replace(tzinfo=timezone(timedelta(0))), NOW.replace(tzinfo=ZoneInfo("UTC")),
            datetime(2026, 10, 25, 1, 30, fold=1), datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=timezone.utc)]


class State(enum.StrEnum):
    OPEN = "open"
    ODD = "tab\there"


class Unhashable(tzinfo):
    """A zone equal to UTC that cannot be hashed (as dateutil's tzutc)."""
    __hash__ = None

    def utcoffset(self, dt):
        return timedelta(0)

    def dst(self, dt):
        return timedelta(0)

    def tzname(self, dt):
        return "UTC"
AN_ID = uuid.UUID("0b6f1c8e-5a4d-4f3e-9c2b-1a0d9e8f7a6b")

COLUMNS = {
    "plain texts": ["open", "closed", "بسته بود", ""],
    "one text to escape": ["open", "tab\there", "closed"],
    "each escape": ["back\\slash", "line\nbreak", "carriage\rreturn", "tab\t", "\\N"],
    "texts and nulls": [None, "open", None],
    "texts to escape and nulls": [None, "a\nb", None],
    "only nulls": [None, None],
    "a null": [None],
    "uuids": [AN_ID, uuid.uuid4()],
    "text uuids": [TextUuid.of(str(AN_ID)), TextUuid.of(str(uuid.uuid4()))],
    "uuids of both kinds": [AN_ID, TextUuid.of(str(uuid.uuid4())), None],
    "instants": [NOW, NOW + timedelta(microseconds=1), None],
    "instants in UTC": [NOW, NOW + timedelta(microseconds=1), NOW.replace(year=999)],
    "naive instants": [NOW.replace(tzinfo=None), datetime(2026, 3, 25, 8, 0, 0, 5)],
    "instants of every kind": INSTANTS,
    "instants in UTC by other zones": [NOW.replace(tzinfo=timezone(timedelta(0))), NOW.replace(tzinfo=ZoneInfo("UTC"))],
    "an unhashable zone": [NOW.replace(tzinfo=Unhashable()), NOW],
    "naive and aware": [NOW, NOW.replace(tzinfo=None)],
    "a text enum": [State.OPEN, State.ODD],
    "a text enum and texts": [State.OPEN, "open", None],
    "numbers": [1, 2, None],
    "floats": [0.1 + 0.2, 1e-9, None],
    "ints, floats and bools": [1, 1.0, True, False, None],
    "bools": [True, False],
    "empty": [],
}


@pytest.mark.parametrize("values", COLUMNS.values(), ids=COLUMNS.keys())
def test_a_column_is_written_as_its_values_are_one_by_one(values):
    assert bulk._copy_column(values) == [bulk._as_copy_text(value) for value in values]


def test_a_column_holding_what_copy_cannot_write_is_refused():
    with pytest.raises(TypeError, match="no COPY text for a object"):
        bulk._copy_column(["text", object()])
    with pytest.raises(TypeError, match="no COPY text for a bytes"):
        bulk._copy_column([b"x", b"y"])


@pytest.mark.parametrize("value", INSTANTS, ids=str)
def test_an_instant_is_written_as_isoformat_writes_it(value):
    assert iso_text(value) == value.isoformat()
