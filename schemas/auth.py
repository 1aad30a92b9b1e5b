"""Logging in and who is logged in."""

import marshmallow as ma
from marshmallow import validate

from schemas.fields import Instant
from schemas.input import InputSchema


class TokenRequestSchema(InputSchema):
    username = ma.fields.String(required=True, validate=validate.Length(1, 64))
    password = ma.fields.String(required=True, validate=validate.Length(1, 1024), load_only=True)
    device_id = ma.fields.UUID(metadata={"description": "The phone's id; recorded for sync"})


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.String()
    districts = ma.fields.List(ma.fields.Integer())


class TokenSchema(ma.Schema):
    token = ma.fields.String()
    expires_at = Instant()
    user = ma.fields.Nested(UserSchema)
