"""Logging in and out: bearer tokens."""

from flask import current_app, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from limits import parse_many

from app.auth import current_token, public, requires
from app.blueprint import Blueprint
from app.errors import answered_as
from app.extensions import limiter
from app.models import Role
from app.services import accounts
from schemas.auth import TokenRequestSchema, TokenSchema, UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Log in and out")


def _failed(response) -> bool:
    return response.status_code == 401


# Failed logins are counted three ways: per username from one address (the
# lock-out: a stranger guessing locks out only their own address, not the owner), per
# username from the addresses that have failed for it (looser: guessing spread over many
# addresses; an address with no failure for the username is never held back by it, so no
# one can lock the owner out), per address (one address guessing many usernames). The address is the socket's (REMOTE_ADDR):
# X-Forwarded-For is not trusted, since no proxy is known to stand in front.

def _tried_username() -> str:
    """The username a login tries, in the form login matches it (accounts.login_name)."""
    body = request.get_json(silent=True)
    name = body.get("username") if isinstance(body, dict) else None
    # Other names are refused (422) before any password check, so their failures are never
    # counted; cut and blank, they still cannot grow a key or meet a real username's.
    return accounts.login_name(name[:64]) if isinstance(name, str) else ""


def _username_key() -> str:
    return f"user:{_tried_username()}"


def _username_at_address_key() -> str:
    # The address first: it holds no space, so no username can make two keys meet.
    return f"address:{get_remote_address()} user:{_tried_username()}"


def _address_clean_for_user() -> bool:
    """Has this address no failed login for this username in the lock-out's windows? Then
    the looser per-username limit does not hold it back: the owner logging in from a phone
    that has not been failing goes through, whatever others tried from elsewhere. (The price:
    each address's first failure for a username is not counted in that limit.)"""
    key, endpoint = _username_at_address_key(), request.endpoint
    return all(limiter.limiter.get_window_stats(item, key, endpoint).remaining >= item.amount
               for item in parse_many(current_app.config["LOGIN_LIMIT_PER_USER_AT_ADDRESS"]))


@blp.route("/token")
class Token(MethodView):
    @public
    @limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], deduct_when=_failed)
    @limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_USER"], key_func=_username_key,
                   deduct_when=_failed, exempt_when=_address_clean_for_user)
    @limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_USER_AT_ADDRESS"],
                   key_func=_username_at_address_key, deduct_when=_failed)
    @blp.arguments(TokenRequestSchema())
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
    @blp.alt_response(429, description=answered_as(
        "Too many failed logins for this username from this address, for this username from everywhere, or from "
        "this address: wait `Retry-After` s", "too-many-requests"))
    def post(self, body):
        """Log in: exchange a username and password for a bearer token."""
        login = accounts.login(body["username"], body["password"], body.get("device_id"),
                               request.headers.get("User-Agent", ""))
        return login

    @requires(*Role)  # every account, the feed's machine account too, may revoke its own token
    @blp.response(204)
    def delete(self):
        """Log out: revoke the token this request is made with."""
        accounts.revoke(current_token().id)


@blp.route("/me")
class Me(MethodView):
    @requires(*Role)
    @blp.response(200, UserSchema)
    def get(self):
        """The user the token belongs to."""
        return current_token().user
