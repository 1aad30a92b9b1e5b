"""The one catalogue of errors, answered as RFC 9457 problem+json on every /api/ path.

Codes are stable: a code, once published, keeps its meaning and is never reused. The
`type` of a problem is `/problems/<code>`, which the app serves as documentation.
"""

import logging
from dataclasses import dataclass

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from app.database import is_transient
from schemas.messages import flatten_messages

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# How long a client is asked to wait when the database is unavailable: a restart here took
# 0.5-2.5 s (README "Load and faults").
RETRY_AFTER_UNAVAILABLE_S = 3


@dataclass(frozen=True)
class ProblemType:
    code: str
    status: int
    title: str
    doc: str


CATALOGUE: dict[str, ProblemType] = {
    p.code: p
    for p in [
        ProblemType("bad-request", 400, "Bad request", "The request could not be understood."),
        ProblemType("malformed-json", 400, "The body is not valid JSON",
                    "The body could not be parsed as JSON (or as gzip-compressed JSON)."),
        ProblemType("unauthenticated", 401, "Authentication required",
                    "No bearer token was given, or it is unknown, expired or revoked."),
        ProblemType("invalid-credentials", 401, "Wrong username or password",
                    "The username and password do not match an active account."),
        ProblemType("forbidden", 403, "Outside your role or scope",
                    "Your role may not do this, or the object lies outside your districts."),
        ProblemType("not-found", 404, "Not found", "There is no such resource, or it is not yours to see."),
        ProblemType("method-not-allowed", 405, "Method not allowed",
                    "The resource exists but does not answer this HTTP method."),
        ProblemType("not-acceptable", 406, "Not acceptable", "No representation matches the Accept header."),
        ProblemType("conflict", 409, "Conflict", "The resource changed since you read it."),
        ProblemType("length-required", 411, "Length required", "Give a Content-Length for this body."),
        ProblemType("payload-too-large", 413, "Payload too large", "The body is over the limit for this endpoint."),
        ProblemType("unsupported-media-type", 415, "Unsupported media type",
                    "The body's Content-Type (or Content-Encoding) is not one this endpoint takes."),
        ProblemType("not-an-image", 415, "Not an image",
                    "A photo's bytes must be a JPEG, PNG or WebP image of the type its Content-Type declares, "
                    "judged by the format's signature in its first bytes; nothing was stored."),
        ProblemType("validation-failed", 422, "Invalid input",
                    "One or more fields are invalid; `errors` names each field with its messages."),
        ProblemType("too-many-requests", 429, "Too many requests", "Slow down and retry after the given time."),
        ProblemType("internal-error", 500, "Internal server error",
                    "Something failed on the server; nothing was half-written. Retry later."),
        ProblemType("unavailable", 503, "Service unavailable",
                    "A dependency (the database) is unreachable, restarting or busy; nothing was written. "
                    "Retry after the `Retry-After` seconds."),
    ]
}

_BY_STATUS = {}
for _p in CATALOGUE.values():
    _BY_STATUS.setdefault(_p.status, _p)


class Problem(Exception):
    """An error the API answers as problem+json. Raise it from services or views."""

    def __init__(self, code: str, detail: str | None = None, *, errors: dict | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(detail or code)
        self.type = CATALOGUE[code]
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def invalid(field: str, message: str) -> Problem:
    """A 422 naming one field."""
    return Problem("validation-failed", f"Invalid field: {field}. {message}", errors={field: [message]})


def problem_response(code: str, detail: str | None = None, *, errors: dict | None = None,
                     headers: dict | None = None, status: int | None = None, **extra) -> Response:
    ptype = CATALOGUE[code]
    body = {"type": f"/problems/{ptype.code}", "title": ptype.title, "status": status or ptype.status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    if request:
        body.setdefault("instance", request.path)
    response = Response(json.dumps(body, ensure_ascii=False), status=body["status"], mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(webargs_messages: dict) -> dict[str, list[str]]:
    """Field errors by name, without webargs' location level (`json`, `query`, …)."""
    out: dict[str, list[str]] = {}
    for _location, messages in webargs_messages.items():
        for field, msgs in flatten_messages(messages).items():
            out.setdefault(field, []).extend(msgs)
    return out


def http_exception_to_problem(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        errors = field_errors(messages)
        return problem_response("validation-failed", "Invalid field(s): " + ", ".join(sorted(errors)),
                                errors=errors, headers=data.get("headers"))
    if status == 400 and messages and "json" in messages:
        return problem_response("malformed-json", "The request body is not valid JSON.")
    if status == 413 and request.max_content_length:  # werkzeug's, from Content-Length: its words give no number
        return problem_response("payload-too-large", f"The body is over the limit of {request.max_content_length} "
                                                     f"bytes (Content-Length: {request.content_length}).")
    ptype = _BY_STATUS.get(status)
    code = ptype.code if ptype else ("bad-request" if status < 500 else "internal-error")
    detail = data.get("message") or (error.description if ptype else None)
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem_response(code, detail, headers=headers, status=status if ptype is None else None)


def wants_problem() -> bool:
    return request.path.startswith("/api/")


BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# Endpoints that take a body other than JSON (raw attachment bytes) say so here.
RAW_BODY_ENDPOINTS: set[str] = set()
# Set in the environ (by app.gzip_body) for a body sent with Content-Encoding: gzip, which
# is inflated as it is read: it has a body, but no length until it has been read.
INFLATED = "bazres.inflated"


def require_json_body() -> None:
    """Refuse a non-JSON body on a JSON endpoint with 415 instead of a puzzling 422.

    Only on an endpoint that takes the method: a path that does not exist, or a method it
    does not answer, is the routing's 404 or 405 (with Allow), whatever the body."""
    if not wants_problem() or request.method not in BODY_METHODS or request.endpoint in RAW_BODY_ENDPOINTS \
            or request.routing_exception is not None:
        return
    has_body = (bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")
                or INFLATED in request.environ)
    if has_body and not request.is_json:
        raise Problem("unsupported-media-type",
                      f"Send the body as application/json, not {request.mimetype or 'no Content-Type'}.")


def register(app: Flask) -> None:
    """Make every /api/ error a problem+json answer, and serve the catalogue."""

    app.before_request(require_json_body)

    @app.errorhandler(Problem)
    def _problem(error: Problem):
        return problem_response(error.type.code, error.detail, errors=error.errors,
                                headers=error.headers, **error.extra)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_exception_to_problem(error) if wants_problem() else error
        if is_transient(error):
            # The transaction was rolled back whole; the same request later will do.
            log.warning("database unavailable on %s %s: %s", request.method, request.path, error.__class__.__name__,
                        exc_info=True)
            headers = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)}
            if wants_problem():
                return problem_response("unavailable", "The database is restarting or busy; nothing was written. "
                                        f"Retry in {RETRY_AFTER_UNAVAILABLE_S} s.", headers=headers)
            return Response("Service unavailable; retry shortly.", status=503, mimetype="text/plain", headers=headers)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_problem():
            return problem_response("internal-error")
        return Response("Internal server error", status=500, mimetype="text/plain")

    @app.get("/problems/<code>")
    def problem_doc(code: str):
        ptype = CATALOGUE.get(code)
        if ptype is None:
            return problem_response("not-found", f"No problem type {code!r}.")
        return {"type": f"/problems/{code}", "status": ptype.status, "title": ptype.title, "doc": ptype.doc}
