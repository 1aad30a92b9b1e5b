"""A column written for COPY at once (`bulk._copy_column`) is the column written value by
value (`bulk._as_copy_text`): the shortcuts (one writer a column, texts escaped only when
one of them needs it) change the work, never the text."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from app.repositories import bulk
from schemas.fields import TextUuid

NOW = datetime(2026, 3, 25, 8, 0, tzinfo=timezone.utc)
AN_ID = uuid.UUID("0b6f1c8e-5a4d-4f3e-9c2b-1a0d9e8f7a6b")

COLUMNS = {
    "plain texts": ["open", "closed", "بسته بود", ""],
    "one text to escape": ["open", "tab\there", "closed"],
    "each escape": ["back\\slash", "line\nbreak", "carriage\rreturn", "tab\t", "\\N"],
    "texts and nulls": [None, "open", None],
    "texts to escape and nulls": [None, "a\nb", None],
    "only nulls": [None, None],
    "uuids": [AN_ID, uuid.uuid4()],
    "text uuids": [TextUuid.of(str(AN_ID)), TextUuid.of(str(uuid.uuid4()))],
    "uuids of both kinds": [AN_ID, TextUuid.of(str(uuid.uuid4())), None],
    "instants": [NOW, NOW + timedelta(microseconds=1), None],
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
