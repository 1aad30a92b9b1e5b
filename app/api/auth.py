"""Logging in and out: bearer tokens."""

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth import current_token, public, requires
from app.extensions import limiter, login_username
from app.services import accounts
from schemas.auth import TokenRequestSchema, TokenSchema, UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Log in and out")


def _failed(response) -> bool:
    return response.status_code == 401


@blp.route("/token")
class Token(MethodView):
    @public
    @limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], deduct_when=_failed)
    @limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_USER"], key_func=login_username,
                   deduct_when=_failed)
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
    @blp.alt_response(429, description="Too many failed logins for this user or address: wait `Retry-After` s")
    def post(self, body):
        """Log in: exchange a username and password for a bearer token."""
        login = accounts.login(body["username"], body["password"], body.get("device_id"),
                               request.headers.get("User-Agent", ""))
        return login

    @requires()
    @blp.response(204)
    def delete(self):
        """Log out: revoke the token this request is made with."""
        accounts.revoke(current_token().id)


@blp.route("/me")
class Me(MethodView):
    @requires()
    @blp.response(200, UserSchema)
    def get(self):
        """The user the token belongs to."""
        return current_token().user
