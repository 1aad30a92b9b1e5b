"""`make serve` on PostGIS: a pull ends its read with COMMIT (app.services.commit_read), so the
statements psycopg prepared on the connection stay prepared. With a ROLLBACK, psycopg sends
`DEALLOCATE ALL` after it: that was the last statement of the connection after every pull once
anything on it was prepared. One worker with one thread, so that the pulls share a connection;
PostgreSQL's pg_stat_activity shows each backend's last statement."""

import http.client
import json
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench.harness import DEMO_PASSWORD, Server, fresh_database, libpq
from tests.conftest import LEG

pytestmark = pytest.mark.skipif(LEG != "postgis", reason="psycopg's prepared statements: make serve on PostGIS")


def _request(server, method, path, body, token=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    try:
        connection.request(method, path, body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_pulls_leave_their_connection_committed_not_deallocated(database_url, tmp_path):
    url = make_url(database_url)
    name = f"{url.database}_prepared"
    server_url = url.set(database=name).render_as_string(hide_password=False)
    fresh_database(server_url)
    server = Server(server_url, tmp_path / "attachments", workers=1, threads=1, log_path=tmp_path / "server.log")
    (tmp_path / "attachments").mkdir()
    server.start()
    try:
        status, body = _request(server, "POST", "/api/v1/auth/token",
                                {"username": "inspector-6a", "password": DEMO_PASSWORD})
        assert status == 201, body
        cursor = None
        for _ in range(8):  # past psycopg's prepare_threshold (5) for the token's read and the pull's
            status, page = _request(server, "POST", "/api/v1/sync/pull",
                                    {"protocol": 1, "device_id": str(uuid.uuid4()), "cursor": cursor, "limit": 50},
                                    body["token"])
            assert status == 200, page
            cursor = page["cursor"]
        with psycopg.connect(libpq(server_url, "postgres"), autocommit=True) as watcher:
            last = [row[0] for row in watcher.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'", [name])]
        assert "DEALLOCATE ALL" not in last and "ROLLBACK" not in last, last
        assert "COMMIT" in last, last
    finally:
        server.stop()
