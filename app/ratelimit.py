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
"""

import random
import time

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite

from app.database import configure_engine, engine_options, is_sqlite
from app.models import RateLimitCounter

COUNTERS = RateLimitCounter.__table__
# Now and then an increment also deletes windows long over (keys never seen again).
SWEEP_ONE_IN = 200


class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, url: str = "", **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if not url:
            raise ValueError("database:// rate limits need the database's URL (RATELIMIT_STORAGE_OPTIONS url)")
        settings = engine_options(url)
        if not is_sqlite(url):
            settings.update(pool_size=2, max_overflow=2)
        self.engine = sa.create_engine(url, **settings)
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
        }).returning(COUNTERS.c.count)
        with self.engine.begin() as connection:
            count = connection.execute(statement).scalar_one()
            if random.randrange(SWEEP_ONE_IN) == 0:
                connection.execute(sa.delete(COUNTERS).where(COUNTERS.c.expires_at < now - 3600))
        return count

    def get(self, key: str) -> int:
        with self.engine.connect() as connection:
            count = connection.execute(sa.select(COUNTERS.c.count).where(
                COUNTERS.c.key == key, COUNTERS.c.expires_at > time.time())).scalar()
        return count or 0

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as connection:
            expiry = connection.execute(sa.select(COUNTERS.c.expires_at).where(
                COUNTERS.c.key == key, COUNTERS.c.expires_at > time.time())).scalar()
        return expiry or time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(sa.delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.delete(COUNTERS).where(COUNTERS.c.key == key))
