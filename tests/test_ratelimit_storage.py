"""Failed logins counted in the database (app.ratelimit), so that every worker counts the
same ones: on both databases, as two workers would, each with a storage of its own."""

import time

import pytest
import sqlalchemy as sa
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from app.ratelimit import COUNTERS, DatabaseStorage
from tests.conftest import LEG
from tests.support import postgis_url


@pytest.fixture
def url(tmp_path):
    if LEG == "postgis":
        return postgis_url()  # migrated by the session's app; the counters are committed for real
    url = f"sqlite:///{tmp_path / 'counts.sqlite'}"
    engine = sa.create_engine(url)
    COUNTERS.create(engine)
    engine.dispose()
    return url


@pytest.fixture
def workers(url):
    """Two storages on one database, as two gunicorn workers hold them."""
    pair = [DatabaseStorage("database://", url=url) for _ in range(2)]
    yield pair
    pair[0].reset()
    for storage in pair:
        storage.engine.dispose()


def test_two_workers_count_the_same_failed_logins(workers):
    first, second = workers
    limiter_1, limiter_2 = FixedWindowRateLimiter(first), FixedWindowRateLimiter(second)
    five = parse("5/minute")
    for attempt in range(5):
        assert (limiter_1 if attempt % 2 else limiter_2).hit(five, "user:head-9")
    assert not limiter_1.hit(five, "user:head-9") and not limiter_2.hit(five, "user:head-9")
    assert limiter_1.hit(five, "user:head-10")  # another key counts on its own
    # Both see every attempt: the five let through and the two refused.
    assert first.get("LIMITER/user:head-9/5/1/minute") == second.get("LIMITER/user:head-9/5/1/minute") == 7
    reset_at = limiter_2.get_window_stats(five, "user:head-9").reset_time
    assert time.time() < reset_at <= time.time() + 60


def test_a_window_that_is_over_starts_again_and_a_cleared_key_is_gone(workers):
    first, second = workers
    assert [first.incr("k", 1), second.incr("k", 1), first.incr("k", 1)] == [1, 2, 3]
    time.sleep(1.1)
    assert first.get("k") == 0 and second.incr("k", 60) == 1
    assert 59 < second.get_expiry("k") - time.time() <= 60
    first.clear("k")
    assert second.get("k") == 0 and first.check()


def test_without_the_databases_url_the_storage_says_what_it_needs():
    with pytest.raises(ValueError, match="URL"):
        DatabaseStorage("database://")


def test_counts_from_two_workers_at_once_stay_exact(workers):
    """Every increment, from either worker's threads at once, gets its own count: none is
    lost or counted twice (one atomic upsert each, in autocommit)."""
    from concurrent.futures import ThreadPoolExecutor

    per_thread, threads = 25, 4
    with ThreadPoolExecutor(2 * threads) as pool:
        counts = list(pool.map(lambda storage: [storage.incr("busy", 60) for _ in range(per_thread)],
                               [storage for storage in workers for _ in range(threads)]))
    total = 2 * threads * per_thread
    assert sorted(count for each in counts for count in each) == list(range(1, total + 1))
    assert workers[0].get("busy") == workers[1].get("busy") == total


def test_a_request_reads_a_key_once_and_sees_its_own_increments(app, workers, monkeypatch):
    """flask-limiter asks about a login's keys several times a request: each key's row is
    read once, count and window together, in one round trip (no transaction around it);
    the storage's own increments update what the request read; the next request reads afresh."""
    # One increment in SWEEP_ONE_IN also deletes long-expired rows: not what is counted here.
    monkeypatch.setattr("app.ratelimit.SWEEP_ONE_IN", 1 << 62)
    first, second = workers
    reads, writes, selects = [], [], []
    read = first._read
    monkeypatch.setattr(first, "_read", lambda key: reads.append(key) or read(key))
    # The statements SQLAlchemy runs: the writes, and on SQLite the reads; on PostgreSQL the
    # reads go to psycopg itself, past SQLAlchemy's events (none through its fallback).
    sa.event.listen(first.engine, "before_cursor_execute", lambda *args: (
        selects if args[2].lstrip().startswith("SELECT") else writes).append(args[2]))
    with first.engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        # The driver opens no transaction: psycopg sends no BEGIN, sqlite3 none either.
        assert driver.autocommit if LEG == "postgis" else driver.isolation_level is None
    writes.clear()
    with app.test_request_context("/api/v1/auth/token", method="POST"):
        assert first.get("k") == 0 and first.get_expiry("k") <= time.time() and first.get("k") == 0
        assert (len(reads), len(writes)) == (1, 0)
        assert second.incr("k", 60) == 1  # another worker, meanwhile
        assert first.get("k") == 0, "read once a request"
        assert first.incr("k", 60) == 2  # the increment itself is never kept: exact
        assert first.get("k") == 2 and 59 < first.get_expiry("k") - time.time() <= 60
        assert (len(reads), len(writes)) == (1, 1)
    with app.test_request_context("/api/v1/auth/token", method="POST"):
        assert first.get("k") == 2 and (len(reads), len(writes)) == (2, 1)
        first.clear("k")  # a DELETE, and the key read again
        assert first.get("k") == 0 and (len(reads), len(writes)) == (3, 2)
    assert first.get("k") == 0 and first.get("k") == 0 and len(reads) == 5, "outside a request, nothing kept"
    assert len(selects) == (0 if LEG == "postgis" else len(reads)), "PostgreSQL's reads on psycopg itself"
