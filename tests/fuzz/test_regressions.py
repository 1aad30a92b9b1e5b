"""What the fuzzers found, each pinned by an ordinary test through the HTTP API."""

import json
import re

import pytest

from tests.support import assert_problem
from tests.sync.helpers import envelope, first_office, op, report_data

PUSH = "/api/v1/sync/push"
PROBLEM = "application/problem+json"
HUGE = 10**28


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def office(client):
    return first_office(client)


def follow(spec: dict, ref: str):
    node = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def responses(spec: dict):
    """(label, status, response) for every documented response, references followed."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                yield f"{method.upper()} {path}", status, follow(spec, response["$ref"]) if "$ref" in response \
                    else response


def push(client, body, user="inspector-6a"):
    # The standard library writes integers of any size (orjson, the app's, stops at 64 bits).
    return client.as_(user).post(PUSH, data=json.dumps(body), headers={"Content-Type": "application/json"})


# ---------------------------------------------------------------- the OpenAPI document


def test_every_reference_in_the_openapi_document_resolves(spec):
    # 401 and 403 pointed at response components that were never written into the document.
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(spec))):
        follow(spec, ref)


def test_every_documented_error_is_problem_json(spec):
    # They were documented as application/json, and a 404 or 409 with no body at all.
    for label, status, response in responses(spec):
        if status == "default" or int(status) >= 400:
            assert set(response.get("content", {})) == {PROBLEM}, (label, status)
            assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_a_problem_may_carry_members_of_its_own(client, spec):
    # A 409 carries `current`; the Problem schema allowed no member but its six.
    assert spec["components"]["schemas"]["Problem"].get("additionalProperties", True) is not False
    rule = client.as_("admin").get("/api/v1/hours-rules").get_json()[0]
    stale = client.as_("admin").request("PATCH", f"/api/v1/hours-rules/{rule['id']}",
                                         json={"version": rule["version"] + 5, "name": "x"})
    assert assert_problem(stale, 409)["current"]["id"] == rule["id"]


def test_x_pagination_is_documented_as_the_json_it_is(client, spec):
    # Documented with an object `schema`, which in OpenAPI 3 means `total,3,page,1`.
    header = spec["components"]["headers"]["PAGINATION"]
    assert "schema" not in header and "application/json" in header["content"]
    meta = json.loads(client.as_("admin").get("/api/v1/offices?page_size=5").headers["X-Pagination"])
    assert meta["total"] == 120 and meta["page"] == 1


def test_a_body_that_is_not_json_is_a_documented_400(client, spec):
    # Every JSON endpoint answers 400, 413 and 415 for a bad body; none documented them.
    response = client.as_("inspector-6a").post(PUSH, data=b"\x00", headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
    assert {"400", "413", "415"} <= set(spec["paths"]["/api/v1/sync/push"]["post"]["responses"])


def test_photo_uploads_document_every_status_they_answer(client, spec):
    put = spec["paths"]["/api/v1/attachments/{sha256}"]["put"]
    assert {"image/jpeg", "image/png", "image/webp"} == set(put["requestBody"]["content"])
    assert_problem(client.as_("inspector-6a").request("PUT", "/api/v1/attachments/" + "a" * 64), 411)
    assert_problem(client.as_("inspector-6a").request("PUT", "/api/v1/attachments/not-a-sha", data=b"x",
                                                      headers={"Content-Type": "image/jpeg"}), 404)
    assert {"404", "411"} <= set(put["responses"])


# ---------------------------------------------------------------- 500s


@pytest.mark.parametrize("url", ["/api/v1/offices", "/api/v1/sync/quarantine", "/api/v1/violations",
                                 "/api/v1/hours-rules", "/api/v1/holidays", "/api/v1/rounds"])
def test_a_page_far_past_the_end_is_empty_not_a_500(client, url):
    # The offset overflowed the database's 64-bit integer.
    response = client.as_("admin").get(f"{url}?page={HUGE}")
    assert response.status_code == 200 and response.get_json() == []


def test_a_district_number_beyond_any_integer_is_a_404_not_a_500(client):
    assert_problem(client.as_("admin").get(f"/api/v1/districts/{HUGE}"), 404)


def test_instants_outside_1900_to_2200_are_refused_by_name(client, office):
    # Correcting one by the clock skew left datetime's range, or the Jalali calendar's.
    body = envelope([op(data=report_data(office))]) | {"sent_at": "0001-01-01T00:00:00+14:00"}
    assert_problem(push(client, body), 422, "sent_at")
    far = op(data=report_data(office) | {"observed_at": "9999-12-31T23:59:59-12:00"})
    late = op(data=report_data(office)) | {"changed_at": "1899-12-31T23:59:59+00:00"}
    results = push(client, envelope([far, late])).get_json()["results"]
    assert "data.observed_at" in results[0]["errors"] and "changed_at" in results[1]["errors"]


def test_a_phone_whose_clock_reset_to_1970_still_lands_its_report(client, office):
    reset = "1970-01-01T00:05:00+00:00"
    body = envelope([op(data=report_data(office) | {"observed_at": "1970-01-01T00:01:00+00:00"})
                     | {"changed_at": reset}]) | {"sent_at": reset}
    (result,) = push(client, body).get_json()["results"]
    assert result["status"] == "applied" and result["record"]["evidence_time_source"] == "corrected_device"


def test_a_null_op_is_refused_alone_not_the_whole_push(client, office):
    good = op(data=report_data(office))
    results = push(client, envelope([None, good])).get_json()["results"]
    assert results[0]["status"] == "rejected" and "op" in results[0]["errors"]
    assert results[1]["status"] == "applied"


def test_an_op_with_numbers_beyond_64_bits_is_refused_alone_and_kept(client, office):
    # Writing it to the quarantine (or echoing its op_id) failed in orjson: a 500 for the push.
    bad = op(data=report_data(office)) | {"op_id": HUGE}
    good = op(data=report_data(office))
    response = push(client, envelope([bad, good]))
    results = json.loads(response.data)["results"]
    assert results[0] == {"op_id": HUGE, "status": "rejected", "errors": results[0]["errors"]}
    assert "op_id" in results[0]["errors"] and results[1]["status"] == "applied"
    (kept,) = client.as_("inspector-6a").get("/api/v1/sync/quarantine?page_size=1").get_json()
    assert kept["payload"]["id"] == bad["id"] and kept["payload"]["op_id"] == float(HUGE)


def test_ops_that_are_bare_numbers_are_kept_and_listed_in_the_quarantine(client, office):
    # SQLite read a JSON column's `5` back as the number 5, which the JSON reader refused:
    # the quarantine list was a 500 for good.
    results = push(client, envelope([5, 1.5, "5", True, op(data=report_data(office))])).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 4 + ["applied"]
    response = client.as_("inspector-6a").get("/api/v1/sync/quarantine?page_size=10")
    assert response.status_code == 200
    assert sorted(map(str, (k["payload"] for k in response.get_json()))) == ["1.5", "5", "5", "True"]


def test_a_delete_based_on_a_version_never_issued_deletes_nothing(client, office):
    # It passed for a delete of the current version: the report was gone.
    create = op(data=report_data(office))
    push(client, envelope([create]))
    (refused,) = push(client, envelope([op("delete", id_=create["id"], base_version=3)])).get_json()["results"]
    assert refused["status"] == "rejected" and "never issued" in refused["errors"]["base_version"][0]
    (edit,) = push(client, envelope([op("update", id_=create["id"], base_version=1, data={"notes": "still here"})]))\
        .get_json()["results"]
    assert edit["status"] == "applied" and edit["record"]["notes"] == "still here"


@pytest.mark.parametrize(("user", "method", "url", "body", "field"), [
    (None, "POST", "/api/v1/auth/token", {"username": "admin\x00", "password": "x"}, "username"),
    ("head-6", "GET", "/api/v1/visit-list?date=1405-01-05&inspector=inspector-6a%00", None, "inspector"),
    ("admin", "POST", "/api/v1/holidays", {"date": "1405-02-02", "title": "روز\x00"}, "title"),
    ("head-6", "POST", "/api/v1/rounds", {"date": "1405-01-05", "inspectors": ["inspector-6a\x00"]}, "inspectors.0"),
])
def test_text_with_a_nul_character_is_refused_by_name(client, user, method, url, body, field):
    # PostgreSQL's text cannot hold U+0000: the query failed, a 500 (SQLite stored it).
    assert_problem(client.as_(user).request(method, url, json=body), 422, field)


@pytest.mark.parametrize(("user", "method", "url", "body", "field"), [
    (None, "POST", "/api/v1/auth/token", {"username": "admin\udc00", "password": "x"}, "username"),
    ("admin", "POST", "/api/v1/holidays", {"date": "1405-02-02", "title": "روز\ud800"}, "title"),
    ("head-6", "POST", "/api/v1/rounds", {"date": "1405-01-05", "inspectors": ["\udfffinspector-6a"]}, "inspectors.0"),
])
def test_text_with_a_lone_surrogate_is_refused_by_name(client, user, method, url, body, field):
    # `"\ud800"` is valid JSON, but not Unicode text: encoding it for either database
    # failed, a 500. (The body goes as ASCII JSON, the surrogate as its escape.)
    response = client.as_(user).request(method, url, data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert "lone surrogate" in assert_problem(response, 422, field)["errors"][field][0]


def test_a_pushed_op_with_a_lone_surrogate_is_refused_alone_and_kept_readable(client, office):
    notes = op(data=report_data(office, notes="closed \ud83d"))
    entity = op(data=report_data(office)) | {"entity": "reports\udc00", "op_id": "x\udc00"}
    checklist = op(data=report_data(office, checklist={"door\ud800": True}))
    good = op(data=report_data(office))
    response = push(client, envelope([notes, entity, checklist, good]))
    results = response.get_json()["results"]  # strict UTF-8: no lone surrogate echoed
    assert "lone surrogate" in results[0]["errors"]["data.notes"][0]
    assert results[1]["op_id"] == "x\ufffd" and set(results[1]["errors"]) == {"entity", "op_id"}
    assert results[2]["status"] == "rejected" and results[3]["status"] == "applied"
    kept = client.as_("inspector-6a").get("/api/v1/sync/quarantine?page_size=5").get_json()
    assert {k["payload"]["op_id"] for k in kept} == {notes["op_id"], "x\ufffd", checklist["op_id"]}
    assert {k["payload"]["data"].get("notes") for k in kept} >= {"closed \ufffd"}


def test_a_pushed_op_with_a_nul_character_is_refused_alone(client, office):
    notes = op(data=report_data(office, notes="closed\x00"))
    entity = op(data=report_data(office)) | {"entity": "reports\x00", "op_id": "x\x00"}
    good = op(data=report_data(office))
    results = push(client, envelope([notes, entity, good])).get_json()["results"]
    assert "data.notes" in results[0]["errors"] and "entity" in results[1]["errors"]
    assert results[2]["status"] == "applied"
    kept = client.as_("inspector-6a").get("/api/v1/sync/quarantine?page_size=2").get_json()
    assert {k["payload"]["op_id"] for k in kept} == {notes["op_id"], "x\x00"}
