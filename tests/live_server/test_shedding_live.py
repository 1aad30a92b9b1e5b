"""`make serve` past capacity (app/shedding.py): gunicorn's worker measures how long each
request waited for a thread, and one that waited past BAZRES_SHED_AFTER_MS is answered 503
`overloaded` with Retry-After the moment a thread takes it, unstarted, while the request
that held the thread finishes. One worker with one thread, held by a photo trickling in."""

import http.client
import json
import threading
import time

import pytest
from sqlalchemy.engine import make_url

from bench.harness import DEMO_PASSWORD, Server, fresh_database
from tests.conftest import LEG
from tests.sync.helpers import jpeg

pytestmark = pytest.mark.skipif(LEG != "postgis", reason="gunicorn's worker serves make serve, on PostGIS")

SHED_AFTER_MS = 300


@pytest.fixture(scope="module")
def busy_server(database_url, tmp_path_factory):
    url = make_url(database_url)
    server_url = url.set(database=f"{url.database}_shed").render_as_string(hide_password=False)
    fresh_database(server_url)
    workdir = tmp_path_factory.mktemp("shed")
    server = Server(server_url, workdir / "attachments", workers=1, threads=1, log_path=workdir / "server.log")
    server.env["BAZRES_SHED_AFTER_MS"] = str(SHED_AFTER_MS)
    (workdir / "attachments").mkdir()
    server.start()
    yield server
    server.stop()


def _request(server, method, path, body=None, token=None, timeout=60):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _log_in(server) -> str:
    status, _, body = _request(server, "POST", "/api/v1/auth/token",
                               {"username": "inspector-6a", "password": DEMO_PASSWORD})
    assert status == 201, body
    return json.loads(body)["token"]


def _hold_the_thread(server, token, seconds: float = 1.5) -> tuple[threading.Thread, dict]:
    """A photo trickling in for `seconds` holds the worker's one thread: its thread, and where
    its answer's status will be (`status`)."""
    photo, sha = jpeg(f"hold-{time.monotonic()}", 60_000)
    holding = threading.Event()
    outcome: dict = {}

    def trickle():
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        connection.putrequest("PUT", f"/api/v1/attachments/{sha}")
        for name, value in {"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg",
                            "Content-Length": str(len(photo))}.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(photo[:1000])
        holding.set()
        step = len(photo) // 15
        for start in range(1000, len(photo), step):
            time.sleep(seconds / 15)
            connection.send(photo[start:start + step])
        outcome["status"] = connection.getresponse().status
        connection.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    holding.wait(10)
    time.sleep(0.2)  # the upload holds the thread now
    return thread, outcome


def test_a_shed_request_with_a_large_body_closes_its_connection_instead_of_reading_the_body(busy_server):
    token = _log_in(busy_server)
    holder, _ = _hold_the_thread(busy_server, token)
    photo, sha = jpeg("shed-large", 100_000)
    status, headers, body = _request_bytes(busy_server, "PUT", f"/api/v1/attachments/{sha}", photo, token)
    holder.join(60)
    assert status == 503 and json.loads(body)["type"] == "/problems/overloaded"
    assert headers.get("Connection", "").lower() == "close"  # no thread reads the 100 KB it did not want
    status, _, _ = _request_bytes(busy_server, "PUT", f"/api/v1/attachments/{sha}", photo, token)
    assert status == 201  # sent again when the server has room, it lands


def _request_bytes(server, method, path, body: bytes, token):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Authorization": f"Bearer {token}",
                                                             "Content-Type": "image/jpeg"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_request_that_waited_past_the_limit_is_shed_while_the_slow_one_finishes(busy_server):
    token = _log_in(busy_server)
    thread, slow = _hold_the_thread(busy_server, token)
    began = time.monotonic()
    status, headers, body = _request(busy_server, "GET", "/api/v1/auth/me", token=token)
    waited = time.monotonic() - began
    thread.join(60)

    assert slow["status"] == 201  # the request that held the thread was never cut short
    assert status == 503, body
    problem = json.loads(body)
    assert problem["type"] == "/problems/overloaded" and headers["Content-Type"] == "application/problem+json"
    assert 2 <= int(headers["Retry-After"]) <= 60  # booked by the worker: 2 s at the soonest
    assert waited > SHED_AFTER_MS / 1000  # it was shed when a thread took it, not before

    # Served at once when the queue is empty.
    status, _, body = _request(busy_server, "GET", "/api/v1/auth/me", token=token)
    assert status == 200 and json.loads(body)["username"] == "inspector-6a"
