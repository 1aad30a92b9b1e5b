"""`bulk.read_alone` on PostgreSQL: the statement on psycopg itself, its rows the same as
SQLAlchemy's, and a connection that broke under it dropped from the pool."""

import psycopg
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.repositories import bulk, users
from app.services.accounts import hash_token
from bench.harness import libpq
from tests.conftest import LEG

pytestmark = [pytest.mark.skipif(LEG != "postgis", reason="SQLite reads on the session's connection"),
              pytest.mark.concurrency]


def sqlalchemys(statement, values):
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return [tuple(row) for row in connection.execute(statement, values)]


def test_a_tokens_rows_are_sqlalchemys_value_for_value(app_context, tokens):
    for username in ("inspector-6a", "head-6", "admin"):
        values = {"token_hash": hash_token(tokens[username])}
        rows = bulk.read_alone(users._TOKEN_WITH_USER, values)
        assert rows and rows == sqlalchemys(users._TOKEN_WITH_USER, values)
        assert [[type(v) for v in row] for row in rows] == [[type(v) for v in row]
                                                           for row in sqlalchemys(users._TOKEN_WITH_USER, values)]
        expires_at = rows[0][2]
        assert expires_at.utcoffset().total_seconds() == 0  # UTC, as the column's type reads it
    assert bulk.read_alone(users._TOKEN_WITH_USER, {"token_hash": "0" * 64}) == []


def test_a_connection_broken_under_the_read_is_dropped_and_the_read_answered_again(app, database_url):
    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        statement = sa.select(sa.literal(1).label("one"), sa.func.pg_backend_pid())
        alone = bulk._Alone.of(statement, engine.dialect)
        ((one, pid),) = alone.read(engine, {})
        assert one == 1
        with psycopg.connect(libpq(database_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert alone.read(engine, {}) is None  # psycopg failed: the caller reads through SQLAlchemy
        ((one, new_pid),) = alone.read(engine, {})  # the broken connection was not put back
        assert one == 1 and new_pid != pid
    finally:
        engine.dispose()
