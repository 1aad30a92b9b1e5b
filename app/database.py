"""Engine set-up for the two supported databases, and column types shared by the models.

SQLite + SpatiaLite is the embedded default and PostgreSQL + PostGIS the production
database; everything above this module is written once for both through GeoAlchemy2.
"""

import json
import os
import time
import uuid
from datetime import UTC, datetime

import orjson
from flask import has_request_context, request
from geoalchemy2.admin.dialects.sqlite import load_spatialite_driver, init_spatialite
from sqlalchemy import DateTime, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.types import TypeDecorator

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# SQLSTATEs that mean "not now" rather than "not this": the connection was lost (08), the
# transaction lost a race (40001 serialization failure, 40P01 deadlock), a lock or statement
# timed out (55P03, 57014), the server is stopping or starting (57P01-03), or it is out of
# connections or resources (53).
_TRANSIENT_SQLSTATES = ("08", "40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53")


def is_transient(error: BaseException) -> bool:
    """True for a database error that the same request, sent again a little later, would
    not meet: the database restarting, a deadlock, a lock timeout, the pool exhausted."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(_TRANSIENT_SQLSTATES)
    # psycopg without a SQLSTATE: the connection broke. SQLite: another writer holds the lock.
    message = str(error.orig).lower()
    return isinstance(error, sa_exc.OperationalError) and any(
        words in message for words in ("database is locked", "database is busy", "connection", "server closed",
                                       "terminat"))


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _json_dumps(value) -> str:
    try:
        return orjson.dumps(value, default=_uuid_text, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        # orjson stops at 64-bit integers; a quarantined op keeps whatever numbers it was sent with.
        return json.dumps(value)


def _uuid_text(value) -> str:
    # A uuid orjson does not take as one: a subclass (schemas.fields.TextUuid), as its text.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json_loads(value):
    # SQLite gives a column declared JSON numeric affinity: a bare number written as JSON
    # text (a quarantined op that was just `5`) is read back as a number, not text.
    return value if isinstance(value, int | float) else orjson.loads(value)


# JSON columns (reports' checklists and photos, versions, the ledger) go through orjson:
# a 500-report push writes some 3,500 JSON values.
JSON_OPTIONS = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}


def engine_options(url: str) -> dict:
    """Options for `create_engine` that suit the database named by `url`."""
    if is_sqlite(url):
        # CPython's sqlite3 on Debian cannot load extensions; pysqlite3 can.
        import pysqlite3.dbapi2

        os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
        return {"module": pysqlite3.dbapi2, "connect_args": {"timeout": 30}, **JSON_OPTIONS}
    return dict(JSON_OPTIONS)  # no pool_pre_ping: a connection idle a while is pinged (configure_engine)


def configure_engine(engine: Engine) -> None:
    """Attach the per-connection set-up an engine needs."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        event.listen(engine, "checkin", _note_idle)
        event.listen(engine, "checkout", _ping_if_idle)


# A pooled connection handed out straight after its last use is not pinged first: the ping
# (a BEGIN, a SELECT 1) was two of a tiny request's four round trips. One idle longer than
# this is, as pool_pre_ping would: the database may have restarted or a firewall dropped it
# meanwhile; a failed ping recycles the whole pool. A database restarted within it costs a
# worker one transient error (503, Retry-After: a phone sends it again), which recycles the
# pool too, besides the requests in flight.
IDLE_PING_S = 10.0


def _note_idle(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
        return  # just connected, or just used
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as error:  # any failure: the pool drops the connection and tries another
        raise sa_exc.InvalidatePoolError(f"a pooled connection idle {time.monotonic() - idle_since:.0f} s "
                                        f"failed its ping: {error}") from error


def _sqlite_connect(dbapi_connection, _record) -> None:
    # Take transaction control away from the driver (it would otherwise BEGIN lazily and
    # break SAVEPOINTs); `_sqlite_begin` issues BEGIN itself.
    dbapi_connection.isolation_level = None
    load_spatialite_driver(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()
    # Only WGS 84 systems: the full EPSG table takes seconds to build and we use 4326.
    init_spatialite(dbapi_connection, transaction=True, init_mode="WGS84")


def _sqlite_begin(connection) -> None:
    # A deferred transaction that reads and then writes can fail at once with "database
    # is locked" when another writer got in between (busy_timeout cannot help there).
    # Writes therefore take the write lock up front; reads stay concurrent under WAL.
    if has_request_context() and request.method in SAFE_METHODS:
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class UTCDateTime(TypeDecorator):
    """An aware datetime, stored in UTC on both databases and read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Indexes that exist on one database only, made by hand in migrations (not in the models).
DIALECT_ONLY_INDEXES = frozenset({"ix_offices_location_geography"})  # PostGIS: geography GiST


def own_tables_only(metadata):
    """An Alembic `include_name` hook that compares only the tables of `metadata`.

    SpatiaLite and PostGIS keep tables of their own (spatial_ref_sys, geometry_columns,
    KNN, SpatialIndex, idx_* R-trees, …) that autogenerate would otherwise propose to drop.
    """

    def include_name(name, type_, parent_names):
        if type_ == "table":
            return name in metadata.tables
        return not (type_ == "index" and name in DIALECT_ONLY_INDEXES)

    return include_name
