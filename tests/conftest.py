"""Test set-up: the real database of this leg, migrated and seeded once, and every test
in a transaction that is rolled back, so tests never see each other's writes.

`make test` runs the suite twice: BAZRES_TEST_DB=spatialite (a fresh SQLite file) and
BAZRES_TEST_DB=postgis (the database named by BAZRES_TEST_POSTGIS_URL, emptied first).
Tests marked `concurrency` opt out of the rolled-back transaction: they commit for real
from several connections and must clean up after themselves.
"""

import os
import secrets
from datetime import timedelta

import flask_migrate
import pytest
from flask_sqlalchemy.session import Session as FlaskSession

from app import create_app
from app.database import utcnow
from app.extensions import db, limiter
from app.models import ApiToken, User
from app.services import seed
from tests.support import CHROMIUM, CHROMIUM_ARGS, Client, postgis_url, reset_postgis_database

DEMO_PASSWORD = "test-demo-password"
LEG = os.environ.get("BAZRES_TEST_DB", "spatialite")
# Servers the tests start (tests/live.py, bench/harness.py) check every pull's stored report
# records too (app/services/sync_pull.py), as the in-process app does.
os.environ["BAZRES_CHECK_STORED_RECORDS"] = "1"


def pytest_report_header(config):
    from tests.fuzz.support import EXAMPLES, SEED

    return [f"database leg: {LEG}", f"fuzz: {EXAMPLES} examples per test, seed {SEED}"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if LEG == "postgis":
        url = postgis_url()
        reset_postgis_database(url)
        return url
    if LEG != "spatialite":
        raise pytest.UsageError(f"BAZRES_TEST_DB must be spatialite or postgis, not {LEG!r}")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'bazres-test.sqlite'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ATTACHMENTS_DIR": str(tmp_path_factory.mktemp("attachments")),
        "BAZRES_DEMO_PASSWORD": DEMO_PASSWORD,
        "SECRET_KEY": "test",
        # Every pull checks each stored record against the report's columns written afresh:
        # a path that changed a report without rewriting its record fails the test it is in.
        "BAZRES_CHECK_STORED_RECORDS": True,
    })
    with app.app_context():
        flask_migrate.upgrade()
        seed.seed(DEMO_PASSWORD)
    return app


@pytest.fixture(scope="session")
def tokens(app) -> dict[str, str]:
    """A live bearer token for every demo user, made once (logging in is tested on its own)."""
    book = {}
    with app.app_context():
        for user in db.session.scalars(db.select(User)):
            token = secrets.token_urlsafe(32)
            db.session.add(ApiToken(token_hash=_hash(token), user_id=user.id,
                                    expires_at=utcnow() + timedelta(days=1)))
            book[user.username] = token
        db.session.commit()
    return book


def _hash(token: str) -> str:
    from app.services.accounts import hash_token

    return hash_token(token)


class _BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks engines itself; in tests it must use our connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(autouse=True)
def _rolled_back(request, app):
    if request.node.get_closest_marker("concurrency"):
        yield
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _BoundSession}
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_written_records():
    """Each test starts with no kept records (app.services.written_records): a test's rolled-back
    feed entries may take the same sequence numbers again on SQLite."""
    from app.services.written_records import WRITTEN

    WRITTEN.clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """Each test starts with no failed logins counted (the limiter's storage is in memory)."""
    limiter.reset()


@pytest.fixture
def client(app, tokens) -> Client:
    return Client(app.test_client(), tokens)


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield


@pytest.fixture(scope="session")
def live(database_url, tmp_path_factory):
    """Bazres in a process of its own on this leg's kind of database (tests/live.py): for
    streamed answers, slow bodies and anything else the test client's app context hides."""
    from tests import live as live_server

    server, stop = live_server.start(LEG, database_url, tmp_path_factory.mktemp("live"))
    yield server
    stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium for the whole session: Playwright's sync API runs one instance per
    process, so the page tests (tests/browser/) and the app's phones (tests/app/) share it."""
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
