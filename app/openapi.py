"""The flask-smorest Api, made to answer and document every error as problem+json."""

import http

import marshmallow as ma
from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import prepare_response

from app.errors import PROBLEM_JSON, http_exception_to_problem, wants_problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# What any JSON body can fail on before a view runs: not JSON (400), over the size limit
# (413), sent as another media type (415). See app.errors.require_json_body.
JSON_BODY_ERRORS = {400: "BAD_REQUEST", 413: "REQUEST_ENTITY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only; errors are built in app.errors).

    Extension members are allowed, as the RFC says: a 409 carries the `current` record."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, metadata={"description": "A stable URI reference, `/problems/<code>`"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For invalid input: messages by field path (`ops.3.data.notes`)"},
    )


class ProblemResponses(BasePlugin):
    """Every documented error is problem+json: an error response declared with only a
    description (`@blp.alt_response(404, description=...)`) gets the Problem schema, and an
    operation that takes a JSON body documents what a bad body answers, and every operation
    its 503 (the database restarting or busy)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            # Any operation can meet the database restarting or busy (app.errors).
            if 503 not in responses and "503" not in responses:
                responses[503] = "SERVICE_UNAVAILABLE"
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                for status, name in JSON_BODY_ERRORS.items():
                    if status not in responses and str(status) not in responses:
                        responses[status] = name
            for status, response in responses.items():
                if str(status).isdigit() and int(status) >= 400 and isinstance(response, dict) \
                        and "content" not in response:
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}


class BazresApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        if wants_problem():
            return http_exception_to_problem(error)
        return error

    def _register_responses(self):
        """flask-smorest's shared error responses (`UNPROCESSABLE_ENTITY`, `DEFAULT_ERROR`, …),
        written as they are sent: application/problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error (problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _register_pagination_header(self):
        # X-Pagination carries JSON text. OpenAPI 3 says so with `content`; a header with
        # a `schema` of type object would mean the `simple` style, `total,3,page,1`.
        self.spec.components.header("PAGINATION", {
            "description": "Pagination metadata, as JSON",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }, lazy=True)
