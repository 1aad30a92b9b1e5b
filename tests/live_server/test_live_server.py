"""The real-server harness itself (tests/live.py): a separate process, logged in over HTTP."""

import re
import time

import pytest

from tests.conftest import LEG


def test_the_live_server_answers_health_and_logs_a_user_in(live):
    assert live.request("GET", "/healthz").status == 200
    me = live.request("GET", "/api/v1/auth/me", user="inspector-6a")
    assert me.status == 200 and me.json()["username"] == "inspector-6a"


def test_make_serve_logs_each_request_without_its_query_string(live):
    """gunicorn's access line as gunicorn.conf.py's format has it (serving.AccessLogger writes
    it; tests/unit/test_access_log.py checks it is gunicorn's own line): address, method, path
    without the query, protocol, status, bytes, milliseconds."""
    if LEG != "postgis":
        pytest.skip("flask run serves the SpatiaLite leg: its log is werkzeug's")
    answer = live.request("GET", "/api/v1/auth/me?secret=never-logged", user="inspector-6a")
    assert answer.status == 200
    size = len(answer.body)
    pattern = re.compile(r'^127\.0\.0\.1 "GET /api/v1/auth/me HTTP/1\.1" 200 ' + str(size) + r" \d+ms$", re.M)
    deadline = time.monotonic() + 10
    while not pattern.search(live.log_path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    text = live.log_path.read_text()
    assert pattern.search(text), text[-2000:]
    assert "never-logged" not in text
