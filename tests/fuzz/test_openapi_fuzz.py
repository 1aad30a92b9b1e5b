"""Schemathesis over the whole API, as each role, in all its phases and with all its checks.

Every operation of /api/v1/openapi.json is called through WSGI, once per role (inspector,
district head, committee, admin), with the document's examples, its boundary cases
(coverage) and generated input, valid and invalid (fuzzing); then chains of requests
follow the document's links (stateful: plan a round, read it, change it, delete it, read it
again). Each answer is checked: not a server error; its status, content type, headers and
body as the document says; valid input taken and invalid input refused; a method a path
does not take a 405 with Allow; auth enforced; what was made found and what was deleted
gone; its status listed for that operation (not just covered by the `default` error
response); an error, problem+json whose `status` is the HTTP status. Path parameters are
now and then ids that exist (an office, a rule, a holiday, a case, a round, a correction, a
photo, made in the test's transaction), so that answers other than 404 get checked too.
"""

import json
import re
import secrets
from datetime import timedelta

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import seed, settings
from hypothesis import strategies as st

import tests.fuzz.openapi_hooks  # noqa: F401  (what the document cannot say, made true of valid requests)
from app import create_app
from app.database import utcnow
from app.extensions import db
from app.models import ApiToken, User
from app.services.accounts import hash_token
from tests.fuzz.support import EXAMPLES, ROLES, SEED, STEPS, UNHURRIED
from tests.sync.helpers import envelope, first_office, jpeg, op
from tests.violations.test_scenarios import at, report

# Every check Schemathesis has, but `max_response_time` (time is no signal on a shared
# machine, and it needs a limit to be one).
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
          "positive_data_acceptance", "missing_required_header", "unsupported_method", "allow_header_conformance",
          "use_after_free", "ensure_resource_availability", "ignored_auth", "object_level_authorization"]

# Valid by the document, yet refused for what only the data can tell (the hooks in
# tests/fuzz/openapi_hooks.py mend what the request alone can): operation → (statuses, why).
REFUSED_FOR_THE_DATA = {
    "POST /api/v1/hours-rules": (("422",), "dates in order within one year, windows in order and apart, a "
                                           "category or office that exists"),
    "PATCH /api/v1/hours-rules/{rule_id}": (("422",), "the same, of the rule as changed"),
    "POST /api/v1/rounds": (("422",), "inspectors and offices of the district, a day some office must be open"),
    "PATCH /api/v1/rounds/{round_id}": (("422",), "offices of the round's district, an inspector of it free that day"),
    "GET /api/v1/visit-list": (("422",), "an inspector (named, by a head or an admin) with offices that day, a "
                                         "start in Tehran"),
    "PUT /api/v1/attachments/{sha256}": (("400",), "bytes that hash to the photo's name"),
    "PATCH /api/v1/attachments/{sha256}": (("400", "413"), "a piece that fits its Content-Range, of bytes that hash "
                                                         "to the name, of a photo of at most 15 MB (TOTAL)"),
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # Schemathesis's default
# A push of over 500 ops is refused as too large, 413 (DESIGN §5.2), as the document says.
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": EXAMPLES, "database": "none"},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": True}},
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS},
               "negative_data_rejection": {"expected-statuses": REFUSED}},
    "operations": [
        # Drawing the map takes matplotlib a few hundred milliseconds: fewer examples there.
        {"include-path": "/api/v1/coverage.png", "generation": {"max-examples": max(2, EXAMPLES // 4)}},
        # A rule withdrawn (DELETE) is kept and read, marked withdrawn, for the record (DESIGN §4).
        {"include-name": "GET /api/v1/hours-rules/{rule_id}", "checks": {"use_after_free": {"enabled": False}}},
        *({"include-name": name, "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, *statuses]}}}
          for name, (statuses, _why) in REFUSED_FOR_THE_DATA.items()),
    ],
})

# The spec is the same for every app; one built without a database gives it at collection
# (Schemathesis's lazy `from_fixture` loader breaks on pytest 9.2: it sets `node._nodeid`).
_SPEC_APP = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "spec"})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _SPEC_APP, config=CONFIG)


class Acting:
    """Whose token the requests of the running test carry, and the ids that exist in its
    transaction (set by the `acting` fixture)."""

    username: str | None = None
    tokens: dict[str, str] = {}
    known: "Known | None" = None


# A token this server issued (secrets.token_urlsafe(32)), which a link carried from a login.
ISSUED = re.compile(r"Bearer [A-Za-z0-9_-]{43}")
# Some cases are made at collection, before any role acts: they carry this until called.
ACTING = "acting-role"


@schema.auth(refresh_interval=None, retry_on=[])
class RoleToken:
    """The acting role's credentials (as ACTING: see as_acting), but where a link carried a
    token from a login."""

    def get(self, case, context):
        return ACTING

    def set(self, case, token, context):
        if not ISSUED.fullmatch((case.headers or {}).get("Authorization", "")):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def as_acting(case) -> None:
    """The acting role's token in place of ACTING; for logging out, a throwaway one of
    theirs, so that the requests after it are not refused."""
    if (case.headers or {}).get("Authorization") == f"Bearer {ACTING}":
        user = Acting.username
        token = throwaway_token(user) if case.operation.label == "DELETE /api/v1/auth/token" else Acting.tokens[user]
        case.headers["Authorization"] = f"Bearer {token}"


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Now and then an id that exists, so that answers other than 404 get checked too."""
    def drawn(name, value):
        ids = Acting.known.ids(name) if Acting.known else []
        return st.sampled_from(ids) | st.just(value) if ids else st.just(value)

    return st.fixed_dictionaries({name: drawn(name, value) for name, value in (path_parameters or {}).items()})


# ---------------------------------------------------------------- checks of our own


def status_is_listed(ctx, response, case):
    """The status is one this operation documents by name, not only through `default`."""
    if response.request.method != case.operation.method.upper():
        return  # a method the path does not take (the coverage phase's probe): unsupported_method
    listed = {str(code) for code in case.operation.definition.raw["responses"]}
    assert str(response.status_code) in listed, (
        f"{case.operation.label} answered {response.status_code}, which it does not document "
        f"(documented: {', '.join(sorted(listed))})")


def errors_are_problems(ctx, response, case):
    """An error is problem+json whose `status` is the HTTP status (RFC 9457)."""
    if response.status_code < 400 or case.method == "HEAD":  # a HEAD answer has no body
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/problem+json"), f"an error as {content_type!r}"
    assert json.loads(response.content)["status"] == response.status_code


def pagination_is_json(ctx, response, case):
    """X-Pagination, when sent, is a JSON object of whole numbers (flask-smorest's metadata)."""
    header = response.headers.get("x-pagination")
    if header:
        meta = json.loads(header[0])
        assert isinstance(meta, dict) and "total" in meta and all(isinstance(v, int) for v in meta.values())


OUR_CHECKS = [status_is_listed, errors_are_problems, pagination_is_json]


# ---------------------------------------------------------------- ids that exist


class Known:
    """Ids that exist, made on first use in the test's (rolled-back) transaction."""

    def __init__(self, client):
        self.client = client
        self.made: dict[str, list] = {}

    def ids(self, parameter: str) -> list:
        if parameter not in self.made:
            self.made[parameter] = getattr(self, f"_{parameter}", lambda: [])()
        return self.made[parameter]

    def _office_id(self):
        return [first_office(self.client)["id"]]

    def _number(self):
        return [6, 7]

    def _rule_id(self):
        return [r["id"] for r in self.client.as_("admin").get("/api/v1/hours-rules?include_withdrawn=true").get_json()]

    def _holiday_id(self):
        return [h["id"] for h in self.client.as_("admin").get("/api/v1/holidays?page_size=5").get_json()]

    def _case_id(self):
        return [report(self.client, first_office(self.client), at("1405-01-06", "10:00"))["violation_id"]]

    def _correction_id(self):
        office = first_office(self.client)
        proposal = op(entity="office_corrections", data={"office_id": office["id"], "kind": "phone",
                                                         "phone": "021 8888 0000"})
        self.client.as_("inspector-6a").post("/api/v1/sync/push", json=envelope([proposal]))
        return [proposal["id"]]

    def _round_id(self):
        body = {"date": "1405-01-05", "assignments": [{"inspector": "inspector-6a",
                                                       "offices": [first_office(self.client)["id"]]}]}
        split = self.client.as_("head-6").post("/api/v1/rounds", json=body).get_json()
        return [r["id"] for r in split["rounds"]]

    def _sha256(self):
        body, sha = jpeg("fuzz")
        self.client.as_("inspector-6a").request("PUT", f"/api/v1/attachments/{sha}", data=body,
                                                headers={"Content-Type": "image/jpeg"})
        return [sha]


def throwaway_token(username: str) -> str:
    """A token of this user's that a logout may revoke without spoiling the examples after it."""
    token = secrets.token_urlsafe(32)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    db.session.add(ApiToken(token_hash=hash_token(token), user_id=user.id, expires_at=utcnow() + timedelta(hours=1)))
    db.session.commit()
    return token


@pytest.fixture
def acting(role, tokens, client):
    Acting.username, Acting.tokens, Acting.known = ROLES[role], tokens, Known(client)
    yield
    Acting.username, Acting.known = None, None


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
@UNHURRIED  # how many examples, and from which seed: CONFIG
def test_every_answer_is_as_documented(case, role, acting, app):
    if case.meta.phase.name == "coverage" and role not in case.operation.definition.raw.get("x-roles", [role]):
        return  # the boundary cases of an operation the role may not call: each the same 403
    as_acting(case)
    case.call_and_validate(app=app, additional_checks=OUR_CHECKS)


@pytest.mark.parametrize("role", list(ROLES))
def test_requests_chained_along_the_links_are_answered_as_documented(role, acting, app):
    # Things to find through the links: an office's case, a correction, a round of district 6.
    for name in ("case_id", "correction_id", "round_id"):
        Acting.known.ids(name)

    class Chains(schema.as_state_machine()):
        def before_call(self, case):
            as_acting(case)

        def get_call_kwargs(self, case):
            return {"app": app}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            super().validate_response(response, case, additional_checks=OUR_CHECKS, **kwargs)

    seed(SEED)(Chains).run(settings=settings(UNHURRIED, max_examples=EXAMPLES, stateful_step_count=STEPS,
                                             database=None))
