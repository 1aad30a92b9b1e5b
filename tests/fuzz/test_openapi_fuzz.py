"""Schemathesis over the whole API, as each role: no 500s, and every answer as documented.

Every operation of /api/v1/openapi.json is called through WSGI with generated input, valid
and invalid, once per role (inspector, district head, committee, admin), and each answer is
checked: not a server error; its status, content type, headers and body as the spec says;
invalid input refused; its status listed for that operation (not just covered by the
`default` error response); an error, problem+json whose `status` is the HTTP status. Path
parameters are now and then ids that exist (an office, a rule, a holiday, a case, a round, a
correction, a photo, made in the test's transaction), so that answers other than 404 get
checked too.
"""

import json
import secrets
from datetime import timedelta

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import strategies as st

from app import create_app
from app.database import utcnow
from app.extensions import db
from app.models import ApiToken, User
from app.services.accounts import hash_token
from tests.fuzz.support import COVERAGE_PHASE, EXAMPLES, ROLES, SEED, UNHURRIED
from tests.sync.helpers import envelope, first_office, jpeg, op
from tests.violations.test_scenarios import at, report

# Schemathesis's checks of single answers, and two more: invalid input (by the spec) must be
# refused, and a method the path does not take must be a 405 with Allow. Left out:
# `ignored_auth` (it takes the token set here for one it generated), `positive_data_acceptance`
# (valid input may still be a 404 or 409), and the stateful ones (no links in this spec).
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "negative_data_rejection",
          "unsupported_method"]

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": EXAMPLES, "database": "none"},
    # The coverage phase adds up to a few hundred boundary cases per operation: too many for
    # CI, worth a long local run (BAZRES_FUZZ_COVERAGE=1).
    "phases": {"coverage": {"enabled": COVERAGE_PHASE}},
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    # Drawing the map takes matplotlib a few hundred milliseconds: fewer examples there.
    "operations": [{"include-path": "/api/v1/coverage.png", "generation": {"max-examples": max(2, EXAMPLES // 4)}}],
})

# The spec is the same for every app; one built without a database gives it at collection
# (Schemathesis's lazy `from_fixture` loader breaks on pytest 9.2: it sets `node._nodeid`).
_SPEC_APP = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "spec"})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _SPEC_APP, config=CONFIG)


@schema.hook
def map_query(context, query):
    # The routing solver takes up to `budget_s` seconds by design; a tenth is enough here.
    if context.operation.path.endswith("/visit-list") and isinstance(query.get("budget_s"), int | float):
        query["budget_s"] = min(query["budget_s"], 0.1)
    return query


# ---------------------------------------------------------------- checks of our own


def status_is_listed(ctx, response, case):
    """The status is one this operation documents by name, not only through `default`."""
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
def known(client):
    return Known(client)


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
@schema.given(data=st.data())
@UNHURRIED  # how many examples, and from which seed: CONFIG
def test_every_answer_is_as_documented(case, data, role, known, tokens, app):
    for name in case.path_parameters or {}:
        ids = known.ids(name)
        if ids and data.draw(st.booleans(), label=f"a {name} that exists"):
            case.path_parameters[name] = data.draw(st.sampled_from(ids), label=name)
    if case.operation.label == "DELETE /api/v1/auth/token":
        token = throwaway_token(ROLES[role])
    else:
        token = tokens[ROLES[role]]
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate(app=app, additional_checks=OUR_CHECKS)
