"""The Flask extensions, created unbound so that models and blueprints can import them."""

import flask_limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

from app.openapi import BazresApi

# Stable constraint names, so that Alembic migrations can refer to them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
api = BazresApi()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter's, without its check before every request where no limit applies to every
    request. Its `before_request` hook resolves, for each request, the limits that apply to
    all requests (application, default and meta limits, a blueprint's), with some 20 looks
    through Flask's context proxies; a route's own limits (the login's, `@limiter.limit`) are
    checked by their decorator, not there. Bazres sets none of the former, so on every request
    but a login the hook found nothing; it and the cookie session Flask opened for nothing
    (app.NoSessions) were a fifth of a tiny GET's instructions (issue 18). It still checks when
    any is set (RATELIMIT_DEFAULT, RATELIMIT_APPLICATION, RATELIMIT_META, a limit on a
    blueprint, an in-memory fallback), and, on a Flask-Limiter that no longer has one of the
    attributes looked at here, always. A new kind of limit a later Flask-Limiter keeps
    elsewhere would not be seen: tests/test_request_hooks.py checks these attributes are
    where this looks, and pyproject.toml keeps Flask-Limiter below 4."""

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not self.limits_every_request():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def limits_every_request(self) -> bool:
        manager = self.limit_manager
        try:
            return bool(manager._application_limits or manager._default_limits or manager._blueprint_limits
                        or self._meta_limits or self._in_memory_fallback_enabled)
        except AttributeError:  # another Flask-Limiter: check as it would
            return True


# Storage and limits come from the app config (RATELIMIT_*, see app.config). With the
# default in-memory storage each gunicorn worker counts on its own.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
