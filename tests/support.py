"""Helpers for tests: an API client that logs in as a demo user, and database set-up."""

import os
import re

import psycopg
import pytest
from sqlalchemy.engine import make_url


class Client:
    """The Flask test client, with `as_(username)` to send that user's bearer token."""

    def __init__(self, flask_client, tokens: dict[str, str]):
        self.http = flask_client
        self.tokens = tokens
        self._user: str | None = None

    def as_(self, username: str | None) -> "Client":
        other = Client(self.http, self.tokens)
        other._user = username
        return other

    def _headers(self, headers: dict | None) -> dict:
        out = dict(headers or {})
        if self._user:
            out.setdefault("Authorization", f"Bearer {self.tokens[self._user]}")
        return out

    def request(self, method: str, url: str, headers: dict | None = None, **kwargs):
        return self.http.open(url, method=method, headers=self._headers(headers), **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """The response is problem+json with this status (and names `field`, if given)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("/problems/") and body["title"]
    if field is not None:
        assert field in body.get("errors", {}), body
    return body


def postgis_url() -> str:
    url = os.environ.get("BAZRES_TEST_POSTGIS_URL")
    if not url:
        raise pytest.UsageError("BAZRES_TEST_DB=postgis needs BAZRES_TEST_POSTGIS_URL")
    return url


def _libpq(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def reset_postgis_database(url: str) -> None:
    """Create the test database if need be and empty it. Refuses a name without 'test'."""
    name = make_url(url).database or ""
    if not re.search(r"test", name):
        raise pytest.UsageError(f"refusing to empty database {name!r}: its name must contain 'test'")
    with psycopg.connect(_libpq(url, "postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def fresh_database_url(base_url: str, suffix: str, tmp_path) -> str:
    """An empty database of this leg's kind, for tests that build a schema from nothing."""
    if make_url(base_url).get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / f'{suffix}.sqlite'}"
    name = f"{make_url(base_url).database}_{suffix}"
    with psycopg.connect(_libpq(base_url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


# Debian's Chromium, driven by Playwright (DESIGN §12): one browser for the whole session
# (tests/conftest.py `browser`), shared by the page tests and the app's phones.
CHROMIUM = os.environ.get("BAZRES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
