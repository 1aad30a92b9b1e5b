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
