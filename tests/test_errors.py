"""Every /api/ answer that is not a success is problem+json, whatever went wrong."""

import pytest

from app import create_app
from app.errors import CATALOGUE, flatten_messages
from tests.support import assert_problem


def test_unknown_api_path_is_a_404_problem(client):
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["instance"] == "/api/v1/no-such-thing"


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.as_("admin").request("PUT", "/api/v1/districts")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_non_json_body_is_a_415_problem(client):
    response = client.post("/api/v1/auth/token", data="username=admin", content_type="application/x-www-form-urlencoded")
    body = assert_problem(response, 415)
    assert "application/json" in body["detail"]


def test_broken_json_is_a_400_problem(client):
    response = client.post("/api/v1/auth/token", data='{"username": ', content_type="application/json")
    assert assert_problem(response, 400)["type"] == "/problems/malformed-json"


def test_body_over_the_limit_is_a_413_problem(client):
    response = client.post("/api/v1/auth/token", data="x" * (5 * 1024 * 1024 + 1), content_type="application/json")
    assert_problem(response, 413)


def test_invalid_fields_are_named(client):
    body = assert_problem(client.post("/api/v1/auth/token", json={"username": "", "extra": 1}), 422)
    assert set(body["errors"]) == {"username", "password", "extra"}
    assert "username" in body["detail"]


def test_json_array_instead_of_object_is_a_422_problem(client):
    assert_problem(client.post("/api/v1/auth/token", json=[1, 2]), 422)


def test_unexpected_failure_is_a_500_problem_without_a_stack_trace(database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/v1/_boom")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert body["type"] == "/problems/internal-error"


def test_pages_keep_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_problem_type_is_documented(client, code):
    body = client.get(f"/problems/{code}").get_json()
    assert body["status"] == CATALOGUE[code].status and body["doc"]


def test_nested_messages_flatten_to_dotted_field_paths():
    messages = {"ops": {3: {"data": {"office_state": ["Must be one of: open."]}}}, "_schema": ["Bad."]}
    assert flatten_messages(messages) == {"ops.3.data.office_state": ["Must be one of: open."], "body": ["Bad."]}


def test_the_problem_index_lists_every_code_with_what_to_do(client):
    listed = client.get("/problems").get_json()["problems"]
    assert sorted(p["type"] for p in listed) == sorted(f"/problems/{code}" for code in CATALOGUE)
    assert all(p["title"] and p["doc"] and p["status"] >= 400 for p in listed)
    assert [p["status"] for p in listed] == sorted(p["status"] for p in listed)


def test_an_unknown_problem_code_is_a_404_problem(client):
    assert assert_problem(client.get("/problems/no-such-code"), 404)["type"] == "/problems/not-found"


def test_a_role_refusal_is_forbidden_not_out_of_scope(client):
    refused = client.as_("inspector-6a").get("/api/v1/office-corrections")
    assert assert_problem(refused, 403)["type"] == "/problems/forbidden"
