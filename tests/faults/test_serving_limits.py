"""`make serve` counts failed logins in the database: with several gunicorn workers, the
sixth wrong password for one user is refused whichever worker answers it."""

import json
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.harness import Server, fresh_database
from tests.conftest import LEG
from tests.support import postgis_url

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.skipif(LEG != "postgis", reason="gunicorn as `make serve` runs it, on PostgreSQL"),
]


def login(base: str, username: str, password: str) -> tuple[int, dict]:
    request = urllib.request.Request(base + "/api/v1/auth/token", method="POST",
                                     data=json.dumps({"username": username, "password": password}).encode(),
                                     headers={"Content-Type": "application/json", "Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_failed_logins_are_counted_by_every_worker_together(tmp_path):
    url = make_url(postgis_url())
    url = url.set(database=f"{url.database}_limits").render_as_string(hide_password=False)
    fresh_database(url)
    server = Server(url, tmp_path / "attachments", workers=3, threads=1)
    server.start()
    try:
        statuses = [login(server.url, "head-9", "not the password")[0] for _ in range(5)]
        refused, headers = login(server.url, "head-9", "not the password either")
    finally:
        server.stop()
    assert statuses == [401] * 5
    assert refused == 429 and int(headers["Retry-After"]) > 0
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counts = dict(connection.execute(sa.text("SELECT key, count FROM rate_limit_counters")).all())
    engine.dispose()
    # The five failures, each counted once, whichever worker took it (the refused sixth is
    # not a failure: it never reached the password check).
    assert counts["LIMITER/address:127.0.0.1 user:head-9/auth.Token/5/1/minute"] == 5, counts
    # The looser per-username count leaves out the address's first failure (its address had
    # not failed yet: app.api.auth._address_clean_for_user).
    assert counts["LIMITER/user:head-9/auth.Token/100/1/hour"] == 4, counts
