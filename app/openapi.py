"""The flask-smorest Api, made to answer every error as problem+json."""

import marshmallow as ma
from flask_smorest import Api

from app.errors import http_exception_to_problem, wants_problem


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only; errors are built in app.errors)."""

    type = ma.fields.String(metadata={"description": "A stable URI reference, `/problems/<code>`"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For invalid input: messages by field path (`ops.3.data.notes`)"},
    )


class BazresApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        if wants_problem():
            return http_exception_to_problem(error)
        return error
