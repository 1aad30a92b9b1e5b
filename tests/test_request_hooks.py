"""What every request runs besides its view (issue 18): no cookie session is opened or saved
(app.NoSessions), and the rate limiter's check before each request runs only where some
limit applies to every request (app.extensions.Limiter). A login's own limits are checked
as before: tests/test_security.py, and here that the check still happens."""

import copy

import flask
import pytest

from app import NoSessions, create_app
from app.extensions import limiter
from tests.support import assert_problem


@pytest.mark.parametrize("path", ["/", "/committee", "/map", "/app/", "/healthz", "/api/v1/auth/me"])
def test_no_answer_sets_a_cookie(app, client, path):
    """(Flask's own sessions set none either while nobody writes one: this guards what the
    pages and the API answer, the next test what NoSessions changes.)"""
    assert isinstance(app.session_interface, NoSessions)
    response = client.as_("inspector-6a").get(path)
    assert response.status_code == 200, path
    assert "Set-Cookie" not in response.headers


def test_writing_a_session_fails_loudly(app):
    """A session nothing reads and no cookie carries: code that writes one is told so, rather
    than setting a cookie (Flask's default would, SECRET_KEY being set)."""
    with app.test_request_context("/"):
        assert dict(flask.session) == {}
        with pytest.raises(RuntimeError, match="no cookie session"):
            flask.session["user"] = 1
        with pytest.raises(RuntimeError, match="no cookie session"):
            flask.session.setdefault("user", 1)


@pytest.fixture
def limiter_checks(monkeypatch):
    """Every time Flask-Limiter looks up the limits of a request: whether it was its check
    before the request (in_middleware) or a route's decorator."""
    checks = []
    original = limiter.limit_manager.resolve_limits

    def spy(app, endpoint=None, blueprint=None, callable_name=None, in_middleware=False, marked_for_limiting=False):
        checks.append(in_middleware)
        return original(app, endpoint, blueprint, callable_name, in_middleware, marked_for_limiting)

    monkeypatch.setattr(limiter.limit_manager, "resolve_limits", spy)
    return checks


def test_a_request_no_limit_applies_to_is_not_checked(client, limiter_checks):
    assert client.as_("inspector-6a").get("/api/v1/auth/me").status_code == 200
    assert client.as_("inspector-6a").post("/api/v1/sync/pull", json={
        "protocol": 1, "device_id": "0b7c3a52-5f0e-4c43-9d5e-2f4f3b7e1a10", "cursor": None}).status_code == 200
    assert limiter_checks == []


def test_a_login_is_still_checked_by_its_limits(client, app, limiter_checks):
    response = client.http.post("/api/v1/auth/token", json={
        "username": "inspector-6a", "password": app.config["BAZRES_DEMO_PASSWORD"]})
    assert response.status_code == 201
    assert limiter_checks and not any(limiter_checks)  # by the route's decorator
    assert "X-RateLimit-Limit" in response.headers


@pytest.fixture
def own_app():
    """An app of its own, made with extra settings; the one limiter every app shares (the
    module's, which init_app configures anew) is put back as it was afterwards."""
    def _state(obj) -> dict:
        return {k: copy.copy(v) if isinstance(v, (dict, list, set)) else v for k, v in vars(obj).items()}

    saved, saved_manager = _state(limiter), _state(limiter.limit_manager)
    try:
        yield lambda **settings: create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                                             "RATELIMIT_STORAGE_URI": "memory://", **settings})
    finally:
        vars(limiter).clear()
        vars(limiter).update(saved)
        vars(limiter.limit_manager).clear()
        vars(limiter.limit_manager).update(saved_manager)
        limiter.reset()


def _third_refused(app) -> None:
    http = app.test_client()
    assert [http.get("/api/v1/auth/me").status_code for _ in range(2)] == [401, 401]  # no token
    assert_problem(http.get("/api/v1/auth/me"), 429)


@pytest.mark.parametrize("setting", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"])
def test_a_limit_on_every_request_is_still_kept(own_app, setting):
    """An operator's limit on every request (none is set by Bazres) applies as
    Flask-Limiter applies it: the third request in the minute is refused."""
    _third_refused(own_app(**{setting: "2/minute"}))


def test_a_limit_on_a_blueprint_is_still_kept(own_app):
    app = own_app()
    with app.test_request_context("/api/v1/auth/me"):
        blueprint = app.blueprints[flask.request.blueprint]
    limiter.limit("2/minute")(blueprint)
    _third_refused(app)


def test_an_in_memory_fallback_keeps_the_check(own_app):
    own_app(RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True)
    assert limiter.limits_every_request()


def test_flask_limiter_keeps_what_the_shortcut_looks_at():
    """app.extensions.Limiter reads these of Flask-Limiter's: renamed in an upgrade, it would
    check every request again (safe), but a new place for such limits would go unseen."""
    for name in ("_application_limits", "_default_limits", "_blueprint_limits"):
        assert hasattr(limiter.limit_manager, name), name
    for name in ("_meta_limits", "_in_memory_fallback_enabled"):
        assert hasattr(limiter, name), name
    assert not limiter.limits_every_request()  # Bazres's own settings: the login's limits only
