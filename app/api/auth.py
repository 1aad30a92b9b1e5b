"""Logging in and out: bearer tokens."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth import current_token, public, requires
from app.services import accounts
from schemas.auth import TokenRequestSchema, TokenSchema, UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Log in and out")


@blp.route("/token")
class Token(MethodView):
    @public
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
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
