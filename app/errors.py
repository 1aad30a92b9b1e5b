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


# Each situation a client must tell apart has a code of its own (STYLE.md principle 6), so
# that no client has to read English to know what to do. The first code of each status is
# the one werkzeug's own errors of that status map to (`_BY_STATUS`); `conflict` is answered
# by nothing else any more, and kept because it was published. A new code goes at the end;
# none is ever removed, renamed or given another meaning (tests/unit/test_problem_codes.py).
CATALOGUE: dict[str, ProblemType] = {
    p.code: p
    for p in [
        ProblemType("bad-request", 400, "Bad request",
                    "The request could not be understood (a missing or malformed header such as a photo piece's "
                    "Content-Range, or a body that ended before its Content-Length). A malformed header will fail "
                    "again until it is fixed; a body cut short (a dropped line) may be sent again as it was."),
        ProblemType("malformed-json", 400, "The body is not valid JSON",
                    "The body could not be parsed as JSON (or as gzip-compressed JSON). Fix the body."),
        ProblemType("unauthenticated", 401, "Authentication required",
                    "No bearer token was given, or it is unknown, expired or revoked. Log in again; "
                    "what the device holds (its outbox) stays."),
        ProblemType("invalid-credentials", 401, "Wrong username or password",
                    "The username and password do not match an active account. Ask the user to type them again."),
        ProblemType("forbidden", 403, "Outside your role or scope",
                    "Your role may not do this at all (the operation is for other roles: its `x-roles` in the "
                    "OpenAPI). Do not offer it to this user; retrying will not help. (A district outside yours "
                    "is `out-of-scope`; before that code was published, it was answered here too.)"),
        ProblemType("not-found", 404, "Not found",
                    "There is no such resource, or it is not yours to see. Re-pull: it may have been deleted "
                    "or moved out of your districts."),
        ProblemType("method-not-allowed", 405, "Method not allowed",
                    "The resource exists but does not answer this HTTP method; `Allow` lists those it does."),
        ProblemType("not-acceptable", 406, "Not acceptable",
                    "No representation matches the Accept header. Accept application/json (and "
                    "application/problem+json for errors)."),
        ProblemType("conflict", 409, "Conflict",
                    "The resource changed since you read it, or is in a state that does not take this request. "
                    "Bazres itself no longer answers it: each such situation has a code of its own "
                    "(stale-version, case-transition-forbidden, upload-offset-mismatch, …), listed at /problems."),
        ProblemType("length-required", 411, "Length required",
                    "A photo was sent without a Content-Length: its size is checked before a byte is read. "
                    "Send it again with the header."),
        ProblemType("payload-too-large", 413, "Payload too large",
                    "The body (as sent, or inflated from gzip) is over the limit for this endpoint, or a push "
                    "holds more ops than one push may (the detail names the limit). Send less at once: split "
                    "the push into smaller ones."),
        ProblemType("unsupported-media-type", 415, "Unsupported media type",
                    "The body's Content-Type (or Content-Encoding) is not one this endpoint takes. Send JSON to "
                    "JSON endpoints; a photo as image/jpeg, image/png or image/webp, uncompressed."),
        ProblemType("not-an-image", 415, "Not an image",
                    "A photo's bytes must be a JPEG, PNG or WebP image of the type its Content-Type declares, "
                    "judged by the format's signature in its first bytes; nothing was stored."),
        ProblemType("validation-failed", 422, "Invalid input",
                    "One or more fields are invalid; `errors` names each field with its messages."),
        ProblemType("too-many-requests", 429, "Too many requests",
                    "Slow down: wait the `Retry-After` seconds before trying again. Today only failed logins are "
                    "counted (for this username from this address, for this username, or from this address)."),
        ProblemType("internal-error", 500, "Internal server error",
                    "Something failed on the server; nothing was half-written. Retry later."),
        ProblemType("unavailable", 503, "Service unavailable",
                    "A dependency (the database) is unreachable, restarting or busy; nothing was written. "
                    "Retry after the `Retry-After` seconds."),
        ProblemType("out-of-scope", 403, "Outside your districts",
                    "Your role may do this, but not to this object: it lies in a district outside yours, or it "
                    "is another inspector's (an inspector asks only for their own visit list). Re-pull to learn "
                    "what is yours now (your districts may have changed); retrying the same will not help."),
        ProblemType("stale-version", 409, "Changed since you read it",
                    "The `version` (or If-Match) you sent is not the current one: someone changed the round, "
                    "rule or case since you read it, and nothing was written. `current` holds what is there "
                    "now (its version, or the whole record): redo your change on it, with its version."),
        ProblemType("round-exists", 409, "The district already has rounds that day",
                    "Rounds were planned for this district and day already. Send `replace: true` to plan the "
                    "day again (the old rounds are deleted), or edit the rounds one by one."),
        ProblemType("inspector-busy", 409, "The inspector has a round elsewhere that day",
                    "One of the inspectors you named has a round that day in another district (the detail "
                    "names them and it). Leave them out, or have that district's head free them first."),
        ProblemType("rule-withdrawn", 409, "The rule was withdrawn",
                    "A withdrawn hours rule cannot be changed; `current` holds it. Publish a new rule instead."),
        ProblemType("correction-decided", 409, "The correction was decided already",
                    "This office correction was accepted or rejected already (the detail says which); a "
                    "correction is decided once. Reload the list of pending corrections."),
        ProblemType("case-transition-forbidden", 409, "The case cannot go to that status",
                    "A case in its current status cannot move to the one you asked for (a decided case is "
                    "final); the detail lists the statuses it can go to and `current` holds the case. "
                    "Choose one of those, or leave the case as it is."),
        ProblemType("upload-offset-mismatch", 409, "The upload is elsewhere",
                    "A photo piece must start where the server's upload stands, and this one did not. Nothing "
                    "was appended; `Upload-Offset` says how many bytes the server holds: send from there."),
        ProblemType("upload-length-mismatch", 409, "The upload has another length",
                    "You have an upload of this photo open with another total length (the `TOTAL` of its "
                    "Content-Range). A photo's name fixes its bytes, so one of the two lengths is wrong: check "
                    "the photo. Sending again will not help; the open upload is removed once untouched for "
                    "`ATTACHMENT_PARTIAL_HOURS` (72 h)."),
        ProblemType("batch-mismatch", 409, "That batch was taken in with other events",
                    "An activity batch is taken in once per `(source, batch_id)`; one sent again must carry the "
                    "same events, and this one did not. Nothing was counted: give new events a new batch_id."),
        ProblemType("photo-too-large", 413, "The photo is too large",
                    "A photo (or the TOTAL its Content-Range announces) is over 15 MB. Nothing was read or "
                    "stored: send a smaller photo (downscale or recompress it); retrying the same will fail."),
        ProblemType("photo-hash-mismatch", 400, "The photo does not hash to its name",
                    "A photo's bytes hash (SHA-256) to something else than the name it was sent under: nothing was "
                    "stored, and an upload in pieces was discarded whole. The photo on the device is damaged or "
                    "named wrongly: hash it again, then upload it from the start (HEAD says Upload-Offset 0)."),
        ProblemType("too-many-open-uploads", 429, "Too many uploads open",
                    "You have 20 photo uploads in pieces open; a new one waits until one is finished or expires. "
                    "Finish the ones you have (HEAD says where each stands), or retry after `Retry-After`."),
        ProblemType("overloaded", 503, "Server past capacity",
                    "The server is busier than it can serve in time: this request waited too long for its turn "
                    "and was not started, so nothing was written. Send it again (the same op ids) after the "
                    "`Retry-After` seconds: the second booked for it, at most 60 s away, in which the server "
                    "expects to have room."),
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


def answered_as(description: str, *codes: str) -> str:
    """An OpenAPI response's description that names the problem types it answers with."""
    return f"{description} ({', '.join(f'`{CATALOGUE[code].code}`' for code in codes)})"


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

    @app.get("/problems")
    def problem_index():
        """Every problem type, by status: what it means and what a client should do."""
        return {"problems": [_doc(p) for p in sorted(CATALOGUE.values(), key=lambda p: (p.status, p.code))]}

    @app.get("/problems/<code>")
    def problem_doc(code: str):
        ptype = CATALOGUE.get(code)
        if ptype is None:
            return problem_response("not-found", f"No problem type {code!r}.")
        return _doc(ptype)


def _doc(ptype: ProblemType) -> dict:
    return {"type": f"/problems/{ptype.code}", "status": ptype.status, "title": ptype.title, "doc": ptype.doc}
