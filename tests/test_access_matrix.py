"""Every endpoint, every role: the status each must get. A new endpoint must join the matrix."""

import pytest

from app.auth import ALL_ROLES
from app.models import Role
from tests.sync.helpers import HugeBody, chunked

OFFICE_IN_6 = "/api/v1/offices/{office_6}"
ANY = "committee1"
FEED = "feed-platform"  # the platform's machine account: activity only

# (method, path, {role_user: expected status}); path may name {office_6}.
MATRIX = [
    ("POST", "/api/v1/auth/token", {None: 422}),  # public: an empty body is invalid, not unauthorised
    ("DELETE", "/api/v1/auth/token", {None: 401, "inspector-6a": 204, "head-6": 204, ANY: 204, "admin": 204,
                                      FEED: 204}),  # a machine account may revoke its own token
    ("GET", "/api/v1/auth/me", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200, FEED: 200}),
    ("GET", "/api/v1/districts", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/districts/6", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/districts/7", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/offices", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/offices?district=7", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 200, "admin": 200}),
    ("GET", OFFICE_IN_6, {None: 401, "inspector-6a": 200, "inspector-7a": 403, "head-6": 200, "head-7": 403,
                          ANY: 200, "admin": 200}),
    ("GET", OFFICE_IN_6 + "/mandated-hours?date=1405-01-05",
     {None: 401, "inspector-6a": 200, "inspector-7a": 403, "head-6": 200, "head-7": 403, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/mandated-hours?date=1405-01-05",
     {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/mandated-hours?date=1405-01-05&district=7",
     {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/hours-rules", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("POST", "/api/v1/hours-rules", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 403, "admin": 422}),
    ("GET", "/api/v1/hours-rules/{rule}", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("PATCH", "/api/v1/hours-rules/{rule}", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 403, "admin": 422}),
    ("DELETE", "/api/v1/hours-rules/{rule}", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 403, "admin": 422}),
    ("GET", "/api/v1/holidays", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("POST", "/api/v1/holidays", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 403, "admin": 422}),
    ("DELETE", "/api/v1/holidays/{holiday}", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 403, "admin": 200}),
    ("GET", "/api/v1/hours-changes", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 200, "admin": 200}),
    ("POST", "/api/v1/sync/pull", {None: 401, "inspector-6a": 422, "head-6": 422, ANY: 422, "admin": 422}),
    ("POST", "/api/v1/sync/push", {None: 401, "inspector-6a": 422, "head-6": 422, ANY: 403, "admin": 403}),
    ("GET", "/api/v1/sync/quarantine", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/sync/quarantine/0", {None: 401, "inspector-6a": 404, "head-6": 404, ANY: 404, "admin": 404}),
    ("GET", "/api/v1/sync/watermelon", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("POST", "/api/v1/sync/watermelon?last_pulled_at=1",
     {None: 401, "inspector-6a": 422, "head-6": 422, ANY: 403, "admin": 403}),
    ("GET", "/api/v1/attachments/" + "0" * 64, {None: 401, "inspector-6a": 404, ANY: 404, "admin": 404}),
    ("HEAD", "/api/v1/attachments/" + "0" * 64, {None: 401, "inspector-6a": 200, ANY: 200, "admin": 200}),
    ("PUT", "/api/v1/attachments/" + "0" * 64, {None: 401, "inspector-6a": 415, ANY: 415}),
    ("PATCH", "/api/v1/attachments/" + "0" * 64, {None: 401, "inspector-6a": 400, ANY: 400}),
    ("GET", "/api/v1/office-corrections", {None: 401, "inspector-6a": 403, "head-6": 200, ANY: 200, "admin": 200}),
    ("POST", "/api/v1/office-corrections/{correction}/decision",
     {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 403, "admin": 422}),
    ("GET", "/api/v1/violations", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/violations/export.csv", {None: 401, "inspector-6a": 403, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/violations/{case}", {None: 401, "inspector-6a": 404, "head-6": 404, ANY: 404, "admin": 404}),
    ("POST", "/api/v1/violations/{case}/decision",
     {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 422, "admin": 403}),
    ("GET", "/api/v1/coverage", {None: 401, "inspector-6a": 403, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/coverage?district=7", {None: 401, "inspector-6a": 403, "head-6": 403, "head-7": 200, ANY: 200,
                                            "admin": 200}),
    ("GET", "/api/v1/coverage.png?district=6", {None: 401, "inspector-6a": 403, "head-6": 200, "head-7": 403,
                                                ANY: 200, "admin": 200}),
    ("GET", "/api/v1/visit-list?date=1405-01-05",
     {None: 401, "inspector-6a": 200, "head-6": 422, ANY: 403, "admin": 422}),
    ("GET", "/api/v1/visit-list?date=1405-01-05&inspector=inspector-6a",
     {None: 401, "inspector-6a": 200, "inspector-7a": 403, "head-6": 200, "head-7": 403, ANY: 403, "admin": 200}),
    ("GET", "/api/v1/rounds", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/rounds?district=7", {None: 401, "inspector-6a": 200, "head-6": 403, ANY: 200, "admin": 200}),
    ("POST", "/api/v1/rounds", {None: 401, "inspector-6a": 403, "head-6": 422, ANY: 403, "admin": 422}),
    ("GET", "/api/v1/rounds/{round}", {None: 401, "inspector-6a": 404, "head-6": 404, ANY: 404, "admin": 404}),
    ("PATCH", "/api/v1/rounds/{round}", {None: 401, "inspector-6a": 403, "head-6": 422, ANY: 403, "admin": 422}),
    ("DELETE", "/api/v1/rounds/{round}", {None: 401, "inspector-6a": 403, "head-6": 422, ANY: 403, "admin": 422}),
    ("POST", "/api/v1/activity", {None: 401, "inspector-6a": 403, "head-6": 403, ANY: 403, "admin": 403,
                                  FEED: 422}),
    ("GET", "/api/v1/signals?date=1405-01-07", {None: 401, "inspector-6a": 200, "head-6": 200, ANY: 200,
                                                "admin": 200}),
    ("GET", "/api/v1/signals?date=1405-01-07&district=7",
     {None: 401, "inspector-6a": 403, "head-6": 403, "head-7": 200, ANY: 200, "admin": 200}),
    ("GET", "/api/v1/openapi.json", {None: 200}),
]

CASES = [(method, path, user, status) for method, path, expected in MATRIX for user, status in expected.items()]
# The feed account is let in nowhere else: every other endpoint that wants a token refuses it.
CASES += [(method, path, FEED, 403) for method, path, expected in MATRIX
          if FEED not in expected and expected.get(None) == 401]


@pytest.fixture
def ids(client) -> dict[str, str]:
    admin = client.as_("admin")
    return {
        "office_6": admin.get("/api/v1/offices?district=6&page_size=1").get_json()[0]["id"],
        "rule": admin.get("/api/v1/hours-rules?page_size=1").get_json()[0]["id"],
        "holiday": admin.get("/api/v1/holidays?year=1405&page_size=1").get_json()[0]["id"],
        "correction": "00000000-0000-0000-0000-000000000000",
        "case": "00000000-0000-0000-0000-000000000000",
        "round": "00000000-0000-0000-0000-000000000000",
    }


@pytest.mark.parametrize(("method", "path", "user", "status"), CASES,
                         ids=[f"{m} {p} as {u or 'anonymous'}" for m, p, u, _ in CASES])
def test_role_gets_expected_status(client, ids, method, path, user, status):
    url = path.format(**ids)
    kwargs = {"json": {}} if method in ("POST", "PATCH", "PUT") and "attachments" not in url else {}
    if "attachments" in url and method in ("PUT", "PATCH"):
        kwargs = {"data": b"x", "headers": {"Content-Type": "text/plain"}}
    response = client.as_(user).request(method, url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400 and method != "HEAD":
        assert response.mimetype == "application/problem+json"


BODY_CASES = [(method, path) for method, path, expected in MATRIX
              if method in ("POST", "PUT", "PATCH") and expected.get(None) == 401]


@pytest.mark.parametrize("encoding", ["", "gzip"])
@pytest.mark.parametrize(("method", "path"), BODY_CASES, ids=[f"{m} {p}" for m, p in BODY_CASES])
def test_no_endpoint_reads_a_byte_of_a_body_before_it_checks_the_token(client, ids, method, path, encoding):
    # `requires` must be the outermost decorator: webargs reads the body when it parses it.
    body = HugeBody()
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    response = client.request(method, path.format(**ids), environ_overrides=chunked(body),
                              headers=headers | ({"Content-Encoding": encoding} if encoding else {}))
    assert response.status_code == 401 and body.read_bytes == 0, response.get_data(as_text=True)


def test_every_api_endpoint_declares_its_roles_and_is_in_the_matrix(app):
    covered = {(m, p.split("?")[0]) for m, p, _ in MATRIX}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.startswith("/api/v1/docs"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"OPTIONS"} - ({"HEAD"} if "GET" in rule.methods and not
                                                             _has_head(app, rule) else set())):
            handler = getattr(getattr(view, "view_class", None), method.lower(), view)
            if rule.rule != "/api/v1/openapi.json":
                assert hasattr(handler, "bazres_roles"), f"{method} {rule.rule} declares no roles"
                assert handler.bazres_roles is None or handler.bazres_roles <= ALL_ROLES
            path = (rule.rule.replace("<int:number>", "6").replace("<string:sha256>", "0" * 64).replace("<uuid:office_id>", "{office_6}")
                    .replace("<uuid:rule_id>", "{rule}").replace("<uuid:holiday_id>", "{holiday}")
                    .replace("<uuid:correction_id>", "{correction}").replace("<uuid:case_id>", "{case}")
                    .replace("<uuid:round_id>", "{round}").replace("<int:quarantined_id>", "0"))
            routes.add((method, path))
    assert routes <= covered | {("GET", "/api/v1/districts/7")}, routes - covered


def _has_head(app, rule) -> bool:
    view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
    return view_class is not None and hasattr(view_class, "head")


def test_roles_are_the_four_of_the_design_and_the_feeds_machine_account():
    assert {r.value for r in Role} == {"inspector", "district_head", "committee", "admin", "feed"}


# ---------------------------------------------------------------- other districts' objects


@pytest.fixture
def district_7(client):
    """Real private objects of district 7: a report with a photo and its case, a round, a
    quarantined op — made through the API by district 7's own people."""
    from tests.sync.helpers import envelope, jpeg, op, report_data
    from tests.violations.test_scenarios import at

    inspector = client.as_("inspector-7a")
    office = inspector.get("/api/v1/offices?district=7&page_size=1").get_json()[0]
    photo, sha = jpeg("district-7")
    assert inspector.request("PUT", f"/api/v1/attachments/{sha}", data=photo,
                             headers={"Content-Type": "image/jpeg"}).status_code in (200, 201)
    when = at("1405-01-06", "10:00")
    data = report_data(office, state="closed", observed_at=when, photos=[{"sha256": sha}])
    bad = op(data=report_data(office) | {"office_state": "on_fire"})
    results = inspector.post("/api/v1/sync/push", json=envelope([op(data=data, changed_at=when), bad])).get_json()
    report = results["results"][0]["record"]
    rounds = client.as_("head-7").post("/api/v1/rounds", json={"date": "1405-01-05",
                                                                "inspectors": ["inspector-7a"]}).get_json()
    return {"report": report, "case": report["violation_id"], "sha": sha, "round": rounds["rounds"][0],
            "quarantined": bad["op_id"]}


def test_private_objects_of_another_district_are_not_found(client, district_7):
    case, sha, round_ = district_7["case"], district_7["sha"], district_7["round"]
    for user in ("inspector-6a", "head-6", "inspector-7b"):
        assert client.as_(user).get(f"/api/v1/violations/{case}").status_code == 404, user
        assert client.as_(user).get(f"/api/v1/attachments/{sha}").status_code == 404, user
        assert client.as_(user).get(f"/api/v1/rounds/{round_['id']}").status_code == 404, user
    for user in ("inspector-7a", "head-7", "committee1"):
        assert client.as_(user).get(f"/api/v1/violations/{case}").status_code == 200, user
        assert client.as_(user).get(f"/api/v1/attachments/{sha}").status_code == 200, user
    version = {"version": round_["version"]}
    assert client.as_("head-6").request("PATCH", f"/api/v1/rounds/{round_['id']}", json=version).status_code == 404
    assert client.as_("head-6").delete(f"/api/v1/rounds/{round_['id']}?version=1").status_code == 404
    assert client.as_("head-7").get(f"/api/v1/rounds/{round_['id']}").status_code == 200


def test_lists_leave_out_another_districts_objects(client, district_7):
    for user in ("inspector-6a", "head-6"):
        cases = client.as_(user).get("/api/v1/violations?page_size=500").get_json()
        assert district_7["case"] not in {c["id"] for c in cases}
        quarantined = client.as_(user).get("/api/v1/sync/quarantine?page_size=500").get_json()
        assert district_7["quarantined"] not in {q["op_id"] for q in quarantined}
    (listed,) = [q for q in client.as_("head-7").get("/api/v1/sync/quarantine").get_json()
                 if q["op_id"] == district_7["quarantined"]]
    for user in ("inspector-6a", "head-6", "inspector-7b"):
        assert client.as_(user).get(f"/api/v1/sync/quarantine/{listed['id']}").status_code == 404, user
    for number in (2**31, 2**63, 2**64):  # past the column's 32 bits: no such op, not an overflow
        assert client.as_("committee1").get(f"/api/v1/sync/quarantine/{number}").status_code == 404, number
    for user in ("inspector-7a", "head-7", "committee1"):
        alone = client.as_(user).get(f"/api/v1/sync/quarantine/{listed['id']}")
        assert alone.status_code == 200 and alone.get_json() == listed, user


def test_a_push_aimed_at_another_inspectors_report_is_refused_and_changes_nothing(client, district_7):
    from tests.sync.helpers import envelope, op

    report = district_7["report"]
    attack = op("update", id_=report["id"], base_version=report["version"], data={"notes": "overwritten"})
    (result,) = client.as_("inspector-6a").post("/api/v1/sync/push", json=envelope([attack])).get_json()["results"]
    assert result["status"] == "rejected", result
    case = client.as_("committee1").get(f"/api/v1/violations/{district_7['case']}").get_json()
    (stored,) = case["reports"]
    assert stored["notes"] == report["notes"] and stored["version"] == report["version"]
