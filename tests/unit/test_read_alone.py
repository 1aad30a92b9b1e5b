"""`bulk.read_alone` on PostgreSQL: the statement on psycopg itself (`bulk._Alone`), its rows
the same as SQLAlchemy's, a connection that broke dropped from the pool, and the database's
failures answered as SQLAlchemy's are."""

import psycopg
import pytest
import sqlalchemy as sa

from app.database import is_transient
from app.extensions import db
from app.repositories import attachments, bulk, users
from app.services.accounts import hash_token
from bench.harness import libpq
from tests.conftest import LEG

pytestmark = [pytest.mark.skipif(LEG != "postgis", reason="SQLite reads on the session's connection"),
              pytest.mark.concurrency]


def sqlalchemys(statement, values):
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return [tuple(row) for row in connection.execute(statement, values)]


def psycopgs(statement, values):
    rows = bulk._Alone.of(statement, db.engine.dialect).read(db.engine, values)
    assert rows is not None, "read on psycopg, not through the fallback"
    return rows


def test_the_rows_are_sqlalchemys_value_for_value(app_context, tokens):
    def same(statement, values):
        rows = psycopgs(statement, values)
        expected = sqlalchemys(statement, values)
        assert rows == expected
        assert [[type(v) for v in row] for row in rows] == [[type(v) for v in row] for row in expected]
        return rows

    for username in ("inspector-6a", "head-6", "admin"):
        rows = same(users._TOKEN_WITH_USER, {"token_hash": hash_token(tokens[username])})
        assert rows and rows[0][5] == username
        assert rows[0][2].utcoffset().total_seconds() == 0  # UTC, as the column's type reads it
    assert same(users._TOKEN_WITH_USER, {"token_hash": "0" * 64}) == []
    user_id = psycopgs(users._TOKEN_WITH_USER, {"token_hash": hash_token(tokens["inspector-6a"])})[0][4]
    (state,) = same(attachments._PIECE_STATE, {"user_id": user_id, "sha": "a" * 64})  # a literal bound in it
    assert state == (None, 0, None, None, None, None, None)
    # The login's read of its user: a row per district, one with none for a citywide account.
    assert [(row[1], row[-1]) for row in same(users._FOR_LOGIN, {"username": "inspector-6a"})] == [
        ("inspector-6a", 6)]
    assert [(row[1], row[-1]) for row in same(users._FOR_LOGIN, {"username": "admin"})] == [("admin", None)]
    assert same(users._FOR_LOGIN, {"username": "nobody"}) == []


def test_a_rate_limits_count_and_window_are_read_as_sqlalchemy_reads_them(app_context):
    from app.ratelimit import _READ, DatabaseStorage

    storage = DatabaseStorage("database://", url=db.engine.url.render_as_string(hide_password=False))
    try:
        storage.incr("LIMITER/read-alone/1/1/minute", 60)
        values = {"key": "LIMITER/read-alone/1/1/minute"}
        rows = bulk.alone(_READ, storage.engine, values)  # a float column: no processor, psycopg's float
        assert rows == sqlalchemys(_READ, values) and [type(v) for v in rows[0]] == [int, float]
        through_sqlalchemy = []
        sa.event.listen(storage.engine, "before_cursor_execute", lambda *args: through_sqlalchemy.append(args[2]))
        assert storage._read(values["key"]) == rows[0]
        assert through_sqlalchemy == [], "the storage's read on psycopg itself, not through the fallback"
    finally:
        storage.clear("LIMITER/read-alone/1/1/minute")
        storage.engine.dispose()


def test_a_connection_that_broke_is_dropped_from_the_pool_and_the_read_made_again(app, database_url):
    # No rollback when a connection goes back to the pool: only the read itself drops a broken one.
    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0, pool_reset_on_return=None)
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


def test_no_connection_to_be_had_is_left_to_sqlalchemy_and_a_failed_statement_raised_as_its(app, database_url):
    refused = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing")  # nothing listens there
    statement = sa.select(sa.literal(1).label("one"))
    assert bulk._Alone.of(statement, refused.dialect).read(refused, {}) is None
    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0,
                              connect_args={"options": "-c statement_timeout=50"})
    try:
        slow = sa.select(sa.func.pg_sleep(1))
        with pytest.raises(sa.exc.OperationalError) as caught:  # SQLAlchemy's error, as its own path raises
            bulk._Alone.of(slow, engine.dialect).read(engine, {})
        assert is_transient(caught.value)  # a timeout: answered 503 with Retry-After
        ((one,),) = bulk._Alone.of(statement, engine.dialect).read(engine, {})  # the connection is fine after it
        assert one == 1
    finally:
        refused.dispose()
        engine.dispose()


def test_a_statement_with_a_list_expanded_when_run_is_refused():
    from sqlalchemy.dialects import postgresql

    expanding = sa.select(sa.literal(1)).where(sa.literal(1).in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanded"):
        bulk._Alone(expanding, postgresql.psycopg.dialect())
