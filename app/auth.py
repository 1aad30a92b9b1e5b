"""Who is calling: bearer-token authentication and the role each endpoint declares.

Every API view is wrapped by `requires(...)` (or marked `public`), which is what the
role × endpoint matrix test checks: an endpoint without a declaration is a test failure.
"""

from functools import wraps

from flask import g, request

from app.blueprint import Blueprint
from app.errors import Problem, answered_as
from app.models import Role
from app.models.users import PEOPLE, Account
from app.services import accounts

ALL_ROLES = frozenset(Role)


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def requires(*roles: Role):
    """Let in only a valid token of one of `roles` (every person's when none are named: a
    machine account, the activity feed, is let in only where it is named)."""
    allowed = frozenset(roles) or PEOPLE

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            token = accounts.authenticate(bearer_token())
            if token.user.role not in allowed:
                raise Problem("forbidden", f"Your role ({token.user.role}) may not do this; "
                              f"it is for: {', '.join(sorted(allowed))}.")
            g.token = token
            g.user = token.user
            return func(*args, **kwargs)

        wrapper.bazres_roles = allowed
        wrapper.__doc__ = (func.__doc__ or "").rstrip() + f"\n\nRoles: {', '.join(sorted(allowed))}."
        return Blueprint.doc(
            security=[{"bearerAuth": []}], **{"x-roles": sorted(allowed)},
            # 401: flask-smorest's shared response, resolved (and registered) by apispec; 403 is
            # written out to name its two problem types.
            responses={"401": "UNAUTHORIZED", "403": {"description": answered_as(
                "Your role may not do this, or the object is outside your districts", "forbidden", "out-of-scope")}},
        )(wrapper)

    return decorator


def public(func):
    """Mark an endpoint as open to anyone, on purpose."""
    func.bazres_roles = None
    return func


def current_user() -> Account:
    return g.user


def current_token() -> accounts.Bearer:
    return g.token
