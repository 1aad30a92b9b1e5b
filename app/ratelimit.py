"""Rate-limit counts in Bazres's own database, so that every gunicorn worker (and every
server behind one address) counts the same failed logins: `BAZRES_RATELIMIT_STORAGE_URI=
database://`, which `make serve` uses. With `memory://` (the default of `make run` and the
tests) each worker counts alone, so with 4 workers a password could be tried 4 times as
often as the limit says.

A storage for the `limits` library (under flask-limiter), fixed windows only (flask-limiter's
default strategy): one row a key, its count and the end of its window, bumped by one
INSERT … ON CONFLICT DO UPDATE … RETURNING, which PostgreSQL and SQLite both run atomically.
It uses an engine of its own (two connections), not the request's session: a count must
stand even when the login's own transaction is rolled back.

Every statement is one on its own, so the engine runs in autocommit: a read is one round
trip (in a transaction it was three: BEGIN, the SELECT, ROLLBACK), and the increment needs
no transaction around it to be atomic. A login asks about each of its keys several times
(flask-limiter tests a limit, `get_window_stats` reads the count and then the window's end,
the exemption and the headers read again), so within one request a key's row is read once,
count and end together, and the later questions are answered from that reading; this
storage's own increments update it. Counts stay exact: only reads are kept, never an
increment, and each request reads afresh.
"""

import random
import time

import sqlalchemy as sa
from flask import has_request_context, request
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite

from app.database import configure_engine, engine_options, is_sqlite
from app.models import RateLimitCounter
from app.repositories import bulk

COUNTERS = RateLimitCounter.__table__
# Now and then an increment also deletes windows long over (keys never seen again).
SWEEP_ONE_IN = 200
# Where a request keeps the rows it read, by key: (count, window's end), or None for no row.
READ_IN_REQUEST = "bazres.ratelimit.rows"


# Every login reads its three keys: the statement is built once.
_READ = sa.select(COUNTERS.c.count, COUNTERS.c.expires_at).where(COUNTERS.c.key == sa.bindparam("key"))


class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, url: str = "", **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if not url:
            raise ValueError("database:// rate limits need the database's URL (RATELIMIT_STORAGE_OPTIONS url)")
        settings = engine_options(url)
        if not is_sqlite(url):
            settings.update(pool_size=2, max_overflow=2)
        self.engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", **settings)
        if not is_sqlite(url):
            configure_engine(self.engine)  # its idle connections pinged, as the app's are
        self._insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        over = COUNTERS.c.expires_at <= now
        statement = self._insert(COUNTERS).values(key=key, count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(index_elements=[COUNTERS.c.key], set_={
            "count": sa.case((over, amount), else_=COUNTERS.c.count + amount),
            "expires_at": sa.case((over, now + expiry), else_=COUNTERS.c.expires_at),
        }).returning(COUNTERS.c.count, COUNTERS.c.expires_at)
        with self.engine.connect() as connection:
            count, expires_at = connection.execute(statement).one()
            if random.randrange(SWEEP_ONE_IN) == 0:
                connection.execute(sa.delete(COUNTERS).where(COUNTERS.c.expires_at < now - 3600))
        rows = self._rows_read()
        if rows is not None:
            rows[key] = (count, expires_at)
        return count

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row is not None and row[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row, now = self._row(key), time.time()
        return row[1] if row is not None and row[1] > now else now

    def _row(self, key: str) -> tuple[int, float] | None:
        """The key's (count, window's end), read once a request."""
        rows = self._rows_read()
        if rows is not None and key in rows:
            return rows[key]
        row = self._read(key)
        if rows is not None:
            rows[key] = row
        return row

    def _read(self, key: str) -> tuple[int, float] | None:
        # On PostgreSQL through psycopg itself, as the token's read (`bulk.read_alone`): a
        # login reads three keys, and SQLAlchemy's execution around each cost more than it.
        if self.engine.dialect.name == "postgresql" and self.engine.dialect.driver == "psycopg":
            rows = bulk.alone(_READ, self.engine, {"key": key})
            if rows is not None:
                return rows[0] if rows else None
        with self.engine.connect() as connection:  # (also when psycopg could not: see `alone`)
            row = connection.execute(_READ, {"key": key}).first()
        return tuple(row) if row is not None else None

    def _rows_read(self) -> dict | None:
        # Kept in the request's WSGI environ: one request's, never another's (an app context,
        # and so `g`, may outlive a request), and this storage's. Outside a request, none.
        if not has_request_context():
            return None
        return request.environ.setdefault(f"{READ_IN_REQUEST}.{id(self)}", {})

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        self._forget(None)
        with self.engine.connect() as connection:
            return connection.execute(sa.delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        self._forget(key)
        with self.engine.connect() as connection:
            connection.execute(sa.delete(COUNTERS).where(COUNTERS.c.key == key))

    def _forget(self, key: str | None) -> None:
        rows = self._rows_read()
        if rows is not None and key is None:
            rows.clear()
        elif rows is not None:
            rows.pop(key, None)
