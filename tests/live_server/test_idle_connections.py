"""A pooled connection is not pinged before each use (that cost two round trips of every
request), yet a connection the database dropped while it sat idle is found out before a
request uses it (app.database: `_ping_if_idle`), against a real gunicorn on PostGIS."""

import time

import psycopg
import pytest

from app.database import IDLE_PING_S
from bench.harness import libpq
from tests.conftest import LEG

pytestmark = pytest.mark.skipif(LEG != "postgis", reason="SQLite has no server to drop a connection")


def test_connections_the_database_dropped_while_idle_are_replaced_without_an_error(live):
    assert live.request("GET", "/api/v1/auth/me", user="inspector-6a").status == 200
    time.sleep(IDLE_PING_S + 1)
    with psycopg.connect(libpq(live.database_url), autocommit=True) as admin:
        dropped = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                "AND backend_type = 'client backend'").fetchone()[0]
    assert dropped >= 1  # the server's pooled connections
    # Enough requests, each on a connection of its own, for both workers to meet their dropped ones.
    answers = [live.request("GET", "/api/v1/auth/me", user="inspector-6a").status for _ in range(24)]
    assert answers == [200] * 24


def test_connections_the_database_dropped_just_after_use_cost_at_most_a_503_and_are_replaced(live):
    """A connection used less than IDLE_PING_S ago is not pinged: when the database dropped it,
    the token's read (psycopg's own, `bulk.read_alone`) meets the broken connection and goes
    to SQLAlchemy's handling, as any other statement would: the pool recycled, the request
    answered 200 or a 503 the phone sends again, never a 500."""
    for _ in range(4):  # both workers' pools hold connections used just now
        assert live.request("GET", "/api/v1/auth/me", user="inspector-6a").status == 200
    with psycopg.connect(libpq(live.database_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
    answers = [live.request("GET", "/api/v1/auth/me", user="inspector-6a") for _ in range(12)]
    assert {a.status for a in answers} <= {200, 503}
    assert all("Retry-After" in a.headers for a in answers if a.status == 503)
    assert [a.status for a in answers[-4:]] == [200] * 4


def test_health_is_the_databases_not_a_dropped_connections(live):
    """/healthz on a pooled connection the database dropped a moment ago: the pool is
    recycled and the question asked again, so a load balancer does not take a server out for
    a connection it had in its pool (the database answers)."""
    for _ in range(4):  # both workers' pools hold connections used just now
        assert live.request("GET", "/healthz").status == 200
    with psycopg.connect(libpq(live.database_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
    assert [live.request("GET", "/healthz").status for _ in range(8)] == [200] * 8
