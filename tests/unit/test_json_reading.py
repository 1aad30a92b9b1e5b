"""Which reader takes a request body (app/jsonprovider.py): orjson, unless the body may hold
an integer orjson would read as a float; then the standard library, which keeps it exact."""

import hashlib
import json
import uuid

import orjson
import pytest

from app.jsonprovider import may_hold_wide_integer


@pytest.mark.parametrize("body", [
    b"1234567890123456789", b"[1234567890123456789]", b'{"a":1234567890123456789}', b'{"a": -1234567890123456789}',
    b'{"a":[1,\n 12345678901234567890123]}', b'{"a":1.5e+1234567890123456789}', b'{"a":0.1234567890123456789}',
    b'{"note":"call 1234567890123456789"}',  # in a text after a space: read by the slower reader, harmlessly
])
def test_a_body_that_may_hold_a_wide_integer_goes_to_the_standard_library(body):
    assert may_hold_wide_integer(body)


@pytest.mark.parametrize("body", [
    b'{"a":123456789012345678}', b'{"sha256":"1234567890123456789012345678901234567890123456789012345678901234"}',
    b'{"sha256":"abcdef12345678901234567890123456789abcdef0123456789abcdef01234"}', b'{"at":"2026-03-25T08:14:59+03:30"}',
])
def test_a_body_without_one_goes_to_orjson(body):
    assert not may_hold_wide_integer(body)


def test_every_integer_the_fast_reader_takes_it_reads_exactly():
    # The guard's promise, checked where it matters: orjson reads exactly what it is given.
    for value in (0, -1, 10**17, -(10**17), 999_999_999_999_999_999, -999_999_999_999_999_999):  # up to 18 digits
        body = json.dumps({"n": value}).encode()
        assert not may_hold_wide_integer(body) and orjson.loads(body) == json.loads(body)
        assert type(orjson.loads(body)["n"]) is int


def test_a_push_of_photos_is_not_sent_to_the_slower_reader_for_its_hashes():
    photos = [{"sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "taken_at": None, "caption": ""}
              for _ in range(2000)]
    assert not may_hold_wide_integer(json.dumps({"ops": [{"data": {"photos": photos}}]}).encode())
