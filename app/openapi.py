"""The flask-smorest Api, made to answer and document every error as problem+json."""

import http
import re

import marshmallow as ma
from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import prepare_response

from app.errors import PROBLEM_JSON, http_exception_to_problem, wants_problem
from schemas.input import InputSchema

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# What any JSON body can fail on before a view runs: not JSON (400), over the size limit
# (413), sent as another media type (415). See app.errors.require_json_body.
JSON_BODY_ERRORS = {400: "BAD_REQUEST", 413: "REQUEST_ENTITY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only; errors are built in app.errors).

    Extension members are allowed, as the RFC says: a 409 carries the `current` record."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, metadata={"description": "A stable URI reference, `/problems/<code>`: "
                                                                   "one code per situation, all listed at `/problems`"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For invalid input: messages by field path (`ops.3.data.notes`)"},
    )


# Text no input may hold (schemas.input): U+0000. (A lone surrogate cannot be sent as UTF-8
# at all, and a JSON escape of one is not Unicode text, so no pattern can name it.)
NO_NUL = r"^[^\u0000]*$"


def declared_forms(converter, field: ma.fields.Field, ret: dict, **kwargs) -> dict:
    """What the server checks of a field that marshmallow's converter cannot tell: the text a
    field of schemas.fields reads (its `OPENAPI`), and that input text holds no U+0000.

    An attribute function of apispec's converter (`add_attribute_function`): a generated
    client, the fuzzers and the server then agree on what is valid."""
    form = {key: value for key, value in getattr(field, "OPENAPI", {}).items() if key not in field.metadata}
    is_input = isinstance(field.root, InputSchema)
    if is_input and ret.get("type") == "string" and not {"enum", "pattern", "format"} & (ret.keys() | form.keys()):
        form["pattern"] = NO_NUL
    return form


def required_by_schema(converter, field: ma.fields.Field, **kwargs) -> dict:
    """A query parameter the schema's `OPENAPI` names as required (see SchemaConditions)."""
    if field.name in getattr(field.parent, "OPENAPI", {}).get("required", ()):
        return {"required": True}
    return {}


class SchemaConditions(BasePlugin):
    """A schema's conditions between its fields, which marshmallow's converter cannot tell,
    added to its component from the schema class's `OPENAPI` (a JSON Schema fragment:
    `oneOf` branches, more `required` names). A field listed as required there is one a
    client must send though the server may take it from elsewhere (`version`, or an
    If-Match header): a generated client then always sends it."""

    def schema_helper(self, name, definition, schema=None, **kwargs):
        declared = getattr(schema if isinstance(schema, type) else type(schema), "OPENAPI", None)
        if not declared:
            return None
        out = dict(declared)
        if "required" in declared:
            out["required"] = sorted({*definition.get("required", ()), *declared["required"]})
        return out


class OperationIds(BasePlugin):
    """Every operation named, `<method>_<blueprint>_<view>` (`get_rounds_round_by_id`), so that
    links (app.api.links) can point at it and a generated client has names to call."""

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs):
        if rule is None:
            return
        blueprint, _, view = rule.endpoint.partition(".")
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", view).lower()
        for method, operation in (operations or {}).items():
            operation.setdefault("operationId", f"{method}_{blueprint}_{snake}")


class Links(BasePlugin):
    """Each answer's links to the operations that take what it holds (app.api.links.LINKS)."""

    def __init__(self, links: dict[tuple[str, int], dict]):
        super().__init__()
        self.links = links

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.get("responses", {})
            for (source, status), links in self.links.items():
                if operation.get("operationId") == source:
                    response = responses.get(status, responses.get(str(status)))
                    assert isinstance(response, dict), f"{source} has no inline {status} answer to link from"
                    response["links"] = links


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


# The shared responses whose situations are more than their status's name.
RESPONSE_DESCRIPTIONS = {
    http.HTTPStatus.SERVICE_UNAVAILABLE: "The database is restarting or busy (`unavailable`), or the server is past "
                                         "capacity and did not start this request (`overloaded`): nothing was "
                                         "written; send it again after `Retry-After` seconds",
}


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
            response = {"description": RESPONSE_DESCRIPTIONS.get(status, status.phrase)}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            if status == http.HTTPStatus.SERVICE_UNAVAILABLE:
                response["headers"] = {"Retry-After": {"description": "Seconds to wait before sending it again",
                                                       "schema": {"type": "integer", "minimum": 1}}}
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
