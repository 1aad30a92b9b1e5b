"""schemas.fields.TextUuid: an id read from the wire that keeps its canonical text, and is
in every other way the uuid.UUID of the same value."""

import copy
import json
import pickle
import uuid

import orjson
import pytest

from app.database import _json_dumps
from schemas.fields import TextUuid

TEXT = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_a_canonical_id_keeps_its_text_and_is_the_uuid_of_its_value():
    value = TextUuid.of(TEXT)
    plain = uuid.UUID(TEXT)
    assert type(value) is TextUuid and str(value) == TEXT
    assert value == plain and plain == value and hash(value) == hash(plain)
    assert {plain: 1}[value] == 1 and value in {plain}
    assert (value.hex, value.int, value.version, value.urn) == (plain.hex, plain.int, plain.version, plain.urn)
    with pytest.raises(TypeError):
        value.int = 1  # as immutable as a uuid.UUID
    for again in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        assert again == value and str(again) == TEXT


@pytest.mark.parametrize("text", [TEXT.upper(), "{" + TEXT + "}", TEXT.replace("-", ""), "urn:uuid:" + TEXT,
                                  "0f8fad5bd9cb-469f-a165-70867728950e-"])
def test_any_other_spelling_uuid_reads_is_a_plain_uuid_of_the_same_value(text):
    value = TextUuid.of(text)
    assert type(value) is uuid.UUID and value == uuid.UUID(text)


@pytest.mark.parametrize("text", ["", "not an id", TEXT[:-1], TEXT + "0", TEXT[:-1] + "g", "0" * 31 + "_"])
def test_what_uuid_refuses_is_refused(text):
    with pytest.raises(ValueError):
        TextUuid.of(text)


def test_it_is_written_as_its_text_wherever_a_uuid_is_written():
    value = TextUuid.of(TEXT)
    assert _json_dumps({"id": value}) == json.dumps({"id": TEXT}, separators=(",", ":"))
    assert orjson.dumps(value, default=str) == orjson.dumps(uuid.UUID(TEXT))
