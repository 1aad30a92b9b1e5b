"""Bazres: the Flask service behind field inspections of Tehran's e-services offices."""

from inspect import CO_COROUTINE
from types import FunctionType, MethodType

from flask import Flask
from flask.sessions import NullSession, SessionInterface

from app import passwords  # noqa: F401  (first: checks the Argon2 build can run here, app.argon2_guard)
from app import config, errors, security
from app.database import configure_engine, engine_options, is_sqlite
from app.extensions import db, limiter, migrate
from app.gzip_body import RequestBodyLimits
from app.shedding import Shedding
from app.jsonprovider import OrjsonProvider

MIGRATIONS_DIR = str(config.INSTANCE_DIR.parent / "migrations")


class NoSession(NullSession):
    """`flask.session` in Bazres: empty, and refusing any write."""

    def _fail(self, *args, **kwargs):
        raise RuntimeError("Bazres keeps no cookie session (app.NoSessions): its callers are bearer tokens, "
                           "and nothing would read what is written here.")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class NoSessions(SessionInterface):
    """Bazres keeps no cookie session: every caller is a bearer token (DESIGN §5, §10), the web
    pages included (they call the API). Flask's default opens one on every request anyway:
    a signer made from SECRET_KEY and the cookie looked for, some 15 µs a request, and
    nothing ever written to it. Here a request gets an empty session, never saved; code
    that writes one fails loudly (RuntimeError) rather than setting a cookie nothing reads.
    SECRET_KEY stays in the config for Flask and its extensions; Bazres itself signs nothing
    with it."""

    null_session_class = NoSession

    def open_session(self, app, request):
        return None  # Flask then makes the null session

    def save_session(self, app, session, response) -> None:
        pass


class Bazres(Flask):
    session_interface = NoSessions()

    def ensure_sync(self, func):
        """Flask asks several times a request (each hook, the view, the method view's method:
        7 for /healthz, 13 for a login) whether a function is a coroutine, through `inspect`
        (five calls a time): for a plain function or a bound method that is one look at its
        code's flags. Anything else, or a function Python 3.12+ may call a coroutine by other
        marks (inspect.markcoroutinefunction, a partialmethod), goes to Flask's own."""
        function = func.__func__ if type(func) is MethodType else func
        if (type(function) is FunctionType and not function.__code__.co_flags & CO_COROUTINE
                and "_is_coroutine_marker" not in function.__dict__ and "__partialmethod__" not in function.__dict__):
            return func
        return super().ensure_sync(func)


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from the environment, with `overrides` (tests) taking precedence."""
    app = Bazres(__name__, instance_path=str(config.INSTANCE_DIR))
    app.json = OrjsonProvider(app)
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if is_sqlite(url):
        config.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(url))

    from app import models  # noqa: F401  (registers the tables on the metadata)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    from app.services import report_form  # noqa: F401  (keeps each report's stored record: its flush events)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, compare_type=True)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("database:"):
        from app import ratelimit  # noqa: F401  (registers the database:// storage)

        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {}).setdefault("url", url)
    limiter.init_app(app)

    from app import api, cli, pages

    errors.register(app)
    security.register(app)
    api.register(app)
    pages.register(app)
    cli.register(app)
    app.wsgi_app = RequestBodyLimits(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"], _wsgi_problem(app))
    # Outermost: a request shed past capacity costs nothing else (app.shedding).
    app.wsgi_app = Shedding(app.wsgi_app, app.config["SHED_AFTER_MS"] / 1000, _wsgi_problem(app))
    return app


def _wsgi_problem(app: Flask):
    """A problem+json answer from outside Flask's request handling (WSGI middleware)."""

    def answer(environ, start_response, code, detail, headers=None):
        with app.request_context(environ):
            return errors.problem_response(code, detail, headers=headers)(environ, start_response)

    return answer
