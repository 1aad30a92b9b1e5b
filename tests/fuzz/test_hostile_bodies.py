"""Hostile bodies against a real server (werkzeug's and gunicorn's chunked input differ):
large and compressed pushes, chunked, without a token and with one. Bodies are made as
they are sent (bench/bodies.py); the server's memory is its processes' peak (VmHWM)."""

import json

import pytest

from bench.bodies import MB, PeakRss, gzipped, json_bytes, send, zeros
from tests.sync.helpers import envelope, op, report_data

PUSH = "/api/v1/sync/push"
LIMIT = 5 * MB  # DESIGN §5.2: 5 MB a push
HELD = 20 * MB  # the most a hostile body may make one server process grow by (the 5 MB limit read, and some)
JSON = {"Content-Type": "application/json"}
GZIP = JSON | {"Content-Encoding": "gzip"}
LARGE = {
    "plain, 50 MB": (JSON, lambda: json_bytes(50 * MB)),
    "gzip, 50 MB as sent": (GZIP, lambda: gzipped(json_bytes(50 * MB), level=0)),
    "gzip, 200 KB inflating to 200 MB": (GZIP, lambda: gzipped(zeros(200 * MB))),
}


def push(live, body, headers: dict, user: str | None = None):
    """POST a chunked body to /sync/push; (the answer, the server's peak growth meanwhile)."""
    token = {"Authorization": f"Bearer {live.token(user)}"} if user else {}
    with PeakRss(live.pids) as peak:
        answer = send(live.url, "POST", PUSH, body, headers | token)
    return answer, peak.growth


def padded(total: int) -> bytes:
    """A JSON object of exactly `total` bytes (not a push: 422 once read whole)."""
    return b"".join(json_bytes(total - sum(map(len, json_bytes(0)))))


@pytest.mark.parametrize("kind", LARGE)
def test_a_large_anonymous_body_is_refused_401_before_it_is_read(live, kind):
    headers, body = LARGE[kind]
    answer, growth = push(live, body(), headers)
    assert answer.status == 401, answer.body
    assert growth < HELD, f"the server grew by {growth / MB:.0f} MB"


@pytest.mark.parametrize("kind", LARGE)
def test_a_large_body_from_an_inspector_is_cut_off_413_at_the_limit(live, kind):
    headers, body = LARGE[kind]
    answer, growth = push(live, body(), headers, user="inspector-6a")
    assert answer.status == 413, answer.body
    problem = json.loads(answer.body)
    assert problem["type"] == "/problems/payload-too-large" and str(LIMIT) in problem["detail"]
    assert growth < HELD, f"the server grew by {growth / MB:.0f} MB"


@pytest.mark.parametrize("headers, encode", [(JSON, lambda body: [body]), (GZIP, lambda body: gzipped([body]))],
                         ids=["plain", "gzip"])
def test_a_body_of_exactly_the_limit_is_read_whole_and_one_byte_more_is_413(live, headers, encode):
    whole, _ = push(live, encode(padded(LIMIT)), headers, user="inspector-6a")
    over, _ = push(live, encode(padded(LIMIT + 1)), headers, user="inspector-6a")
    assert whole.status == 422 and "pad" in json.loads(whole.body)["errors"], whole.body
    assert over.status == 413, over.body


def test_a_valid_chunked_gzip_push_lands(live):
    office = live.request("GET", "/api/v1/offices?district=6&page_size=1", user="inspector-6a").json()[0]
    body = json.dumps(envelope([op(data=report_data(office))])).encode()
    answer, _ = push(live, gzipped([body[:100], body[100:]]), GZIP, user="inspector-6a")
    assert answer.status == 200, answer.body
    assert json.loads(answer.body)["results"][0]["status"] == "applied"
