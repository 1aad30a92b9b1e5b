"""The OpenAPI document says what the server takes: a request the document calls valid is not
refused as invalid input, and one it calls invalid is refused. Through the HTTP API, checking
each request against the document's own schema."""

from urllib.parse import quote

import jsonschema_rs
import pytest

from app.api.links import LINKS
from tests.support import assert_problem
from tests.sync.helpers import first_office
from tests.violations.test_scenarios import at, report

SHA = "ab" * 32


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def parameter(spec: dict, path: str, method: str, name: str) -> dict:
    operation = spec["paths"][path][method]
    return next(p for p in operation["parameters"] + spec["paths"][path].get("parameters", []) if p["name"] == name)


def admits(schema: dict, spec: dict, value) -> bool:
    """Whether the document's schema takes `value` (its references resolved in the document)."""
    validator = jsonschema_rs.Draft4Validator({**schema, "components": spec["components"]})
    return validator.is_valid(value)


def body_schema(spec: dict, path: str, method: str) -> dict:
    return spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


# ---------------------------------------------------------------- a method the path does not take


@pytest.mark.parametrize(("method", "path", "content_type", "allowed"), [
    ("POST", f"/api/v1/attachments/{SHA}", "image/jpeg", {"GET", "HEAD", "PUT", "PATCH"}),
    ("POST", "/api/v1/districts", "text/plain", {"GET", "HEAD"}),
    ("PUT", "/api/v1/violations", "application/x-www-form-urlencoded", {"GET", "HEAD"}),
])
def test_a_method_the_path_does_not_take_is_a_405_with_allow_whatever_the_body(client, method, path, content_type,
                                                                                allowed):
    # A body that was not JSON was refused first, 415, as though the method were taken.
    response = client.as_("inspector-6a").request(method, path, data=b"\xff\xd8\xff\xe0 not json",
                                                  headers={"Content-Type": content_type})
    assert_problem(response, 405)
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_body_that_is_not_json_on_a_path_that_does_not_exist_is_a_404(client):
    response = client.as_("admin").request("POST", "/api/v1/no-such-thing", data="x",
                                           headers={"Content-Type": "text/plain"})
    assert_problem(response, 404)


# ---------------------------------------------------------------- Jalali dates


@pytest.mark.parametrize(("url", "name", "value"), [
    ("/api/v1/coverage", "to", ""),  # valid by the document: `to` was a free string
    ("/api/v1/coverage", "from", "1405-13-01"),
    ("/api/v1/rounds", "date", "0000-01-01"),  # a 500: the calendar has no year 0
    ("/api/v1/rounds", "date", "9999-01-01"),
    ("/api/v1/violations", "date_to", "১৪০৫-০১-০৫"),  # Bengali digits, which Python's \d took
    ("/api/v1/violations", "date_from", "1405-07-31"),
    ("/api/v1/mandated-hours", "date", "null"),
])
def test_a_date_the_document_refuses_the_server_refuses_by_name(client, spec, url, name, value):
    assert not admits(parameter(spec, url, "get", name)["schema"], spec, value)
    assert_problem(client.as_("admin").get(f"{url}?{name}={quote(value)}"), 422, name)


@pytest.mark.parametrize("value", ["1405-01-05", "۱۴۰۵/۱/۵", "١٤٠٥-٠١-٠٥", " 1403 / 12 / 30 "])
def test_a_date_the_document_takes_the_server_takes(client, spec, value):
    assert admits(parameter(spec, "/api/v1/rounds", "get", "date")["schema"], spec, value)
    assert client.as_("admin").get(f"/api/v1/rounds?date={quote(value)}").status_code == 200


@pytest.mark.parametrize(("url", "name", "value", "valid"), [
    ("/api/v1/mandated-hours", "at", "2026-03-25T08:15:03+03:30", True),
    ("/api/v1/mandated-hours", "at", "", False),
    ("/api/v1/mandated-hours", "at", "20260325T081503+0330", False),  # Python reads it; ISO's usual form is asked
    ("/api/v1/offices", "near", "۳۵٫۶۶،۵۱٫۴۲", True),
    ("/api/v1/offices", "near", "1e1,5", False),
    ("/api/v1/visit-list", "start", "8:30", True),
    ("/api/v1/visit-list", "start", "24:00", False),
])
def test_instants_times_and_places_are_taken_exactly_as_the_document_says(client, spec, url, name, value, valid):
    assert admits(parameter(spec, url, "get", name)["schema"], spec, value) == valid
    query = {"/api/v1/visit-list": "date=1405-01-05&", "/api/v1/mandated-hours": "district=6&"}.get(url, "")
    response = client.as_("head-6").get(f"{url}?{query}{name}={quote(value)}")
    if valid:  # taken, or refused for something else (a head names the inspector)
        answer = response.get_json(force=True)
        assert response.status_code == 200 or name not in answer.get("errors", {}), answer
    else:
        assert_problem(response, 422, name)


# ---------------------------------------------------------------- enums and conditions


def test_the_sync_protocol_is_declared_as_the_one_the_server_speaks(client, spec):
    body = {"protocol": 2, "device_id": "e3e70682-c209-1cac-a29f-6fbed82c07cd"}
    assert not admits(body_schema(spec, "/api/v1/sync/pull", "post"), spec, body)
    assert admits(body_schema(spec, "/api/v1/sync/pull", "post"), spec, body | {"protocol": 1})
    assert_problem(client.as_("inspector-6a").post("/api/v1/sync/pull", json=body), 422, "protocol")


@pytest.fixture
def case_under_review(client):
    case_id = report(client, first_office(client), at("1405-01-06", "10:00"))["violation_id"]
    client.as_("committee1").post(f"/api/v1/violations/{case_id}/decision", json={"status": "under_review",
                                                                                  "version": 1})
    return case_id


@pytest.mark.parametrize(("decision", "valid"), [
    ({"status": "confirmed"}, False),  # a confirmed case needs a penalty
    ({"status": "confirmed", "penalty": "fine"}, True),
    ({"status": "confirmed", "penalty": "none"}, True),
    ({"status": "dismissed", "penalty": "fine"}, False),
    ({"status": "dismissed"}, True),
])
def test_a_decision_the_document_calls_invalid_is_refused_and_a_valid_one_taken(client, spec, case_under_review,
                                                                                decision, valid):
    body = decision | {"version": 2}
    assert admits(body_schema(spec, "/api/v1/violations/{case_id}/decision", "post"), spec, body) == valid
    response = client.as_("committee1").post(f"/api/v1/violations/{case_under_review}/decision", json=body)
    if valid:
        assert response.status_code == 200 and response.get_json()["status"] == decision["status"]
    else:
        assert_problem(response, 422, "penalty")


def test_the_version_a_change_is_based_on_is_required_by_the_document(spec):
    # The server also takes it as If-Match; a client built from the document always sends it.
    decision = body_schema(spec, "/api/v1/violations/{case_id}/decision", "post")
    assert not admits(decision, spec, {"status": "dismissed"})
    assert not admits(body_schema(spec, "/api/v1/rounds/{round_id}", "patch"), spec, {"offices": []})
    assert parameter(spec, "/api/v1/rounds/{round_id}", "delete", "version")["required"] is True


@pytest.mark.parametrize(("body", "valid"), [
    ({"date": "1405-01-05", "inspectors": ["inspector-6a"]}, True),
    ({"date": "1405-01-05"}, False),
    ({"date": "1405-01-05", "inspectors": ["inspector-6a"],
      "assignments": [{"inspector": "inspector-6a", "offices": []}]}, False),
])
def test_rounds_are_planned_with_inspectors_or_assignments_not_both(client, spec, body, valid):
    assert admits(body_schema(spec, "/api/v1/rounds", "post"), spec, body) == valid
    response = client.as_("head-6").post("/api/v1/rounds", json=body)
    assert response.status_code == 201 if valid else assert_problem(response, 422, "inspectors")


@pytest.mark.parametrize(("text", "valid"), [("\x00", False), ("عادی", True)])
def test_text_with_a_nul_character_is_invalid_by_the_document_as_by_the_server(client, spec, text, valid):
    body = {"date": "1405-02-02", "title": f"روز {text}"}
    assert admits(body_schema(spec, "/api/v1/holidays", "post"), spec, body) == valid
    response = client.as_("admin").post("/api/v1/holidays", json=body)
    assert response.status_code == 201 if valid else assert_problem(response, 422, "title")


RULE = {"name": "Nowruz", "scope": "city", "date_from": "01-01", "date_to": "01-04", "kind": "closed"}


@pytest.mark.parametrize(("user", "path", "body", "field"), [
    ("head-6", "/api/v1/rounds", {"date": "1405-01-05", "inspectors": ["inspector-6a"], "replace": 0}, "replace"),
    ("admin", "/api/v1/hours-rules", RULE | {"on_holidays": "yes"}, "on_holidays"),  # 1, "yes", "on" were true
    ("head-6", "/api/v1/rounds", {"date": "1405-01-05", "inspectors": [""]}, "inspectors.0"),
    ("admin", "/api/v1/hours-rules", RULE | {"scope": "district:23"}, "scope"),
    ("admin", "/api/v1/hours-rules", RULE | {"kind": "open"}, "windows"),  # an open rule has windows
])
def test_a_body_the_document_calls_invalid_is_refused_naming_the_field(client, spec, user, path, body, field):
    assert not admits(body_schema(spec, path, "post"), spec, body)
    assert_problem(client.as_(user).post(path, json=body), 422, field)


def test_every_link_leads_from_a_documented_answer_to_an_operation_that_takes_what_it_gives(spec):
    operations = {op["operationId"]: (path, op) for path, ops in spec["paths"].items()
                  for method, op in ops.items() if method != "parameters"}
    written = {(op["operationId"], int(status)) for _path, op in operations.values()
               for status, answer in op["responses"].items() if "links" in answer}
    assert written == set(LINKS)
    for (source, status), links in LINKS.items():
        for name, link in links.items():
            path, target = operations[link["operationId"]]
            taken = {p["name"] for p in target.get("parameters", []) + spec["paths"][path].get("parameters", [])}
            named = {key.removeprefix("path.").removeprefix("query.") for key in link["parameters"]
                     if not key.startswith("header.")}
            assert named <= taken, f"{source} {status} {name}: {named - taken}"
