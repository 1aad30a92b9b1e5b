"""Hostile input at the edges: password guessing, scripts in pages, tokens out of URLs."""

from tests.support import assert_problem

WRONG = {"password": "not-the-password"}


def login(client, username: str, password: str, address: str = "10.1.1.1"):
    return client.http.post("/api/v1/auth/token", json={"username": username, "password": password},
                            environ_base={"REMOTE_ADDR": address})


def test_guessing_one_user_password_is_stopped_with_a_clear_429(client, app):
    for _ in range(5):
        assert_problem(login(client, "inspector-6a", WRONG["password"]), 401)
    blocked = login(client, "inspector-6a", WRONG["password"], address="10.9.9.9")  # from anywhere
    body = assert_problem(blocked, 429)
    assert body["type"] == "/problems/too-many-requests"
    assert int(blocked.headers["Retry-After"]) > 0
    # Locked out even with the right password, until the window passes; others are not.
    assert login(client, "inspector-6a", app.config["BAZRES_DEMO_PASSWORD"]).status_code == 429
    assert login(client, "inspector-6b", app.config["BAZRES_DEMO_PASSWORD"]).status_code == 201


def test_guessing_from_one_address_is_stopped_whatever_the_usernames(client, app):
    for i in range(30):
        assert login(client, f"guess-{i}", "x" * 10, address="10.2.2.2").status_code == 401
    assert_problem(login(client, "inspector-7a", app.config["BAZRES_DEMO_PASSWORD"], address="10.2.2.2"), 429)
    assert login(client, "inspector-7a", app.config["BAZRES_DEMO_PASSWORD"], address="10.3.3.3").status_code == 201


def test_successful_logins_are_not_counted(client, app):
    for _ in range(12):  # the 08:00 rush: many phones of one office behind one address
        assert login(client, "inspector-8a", app.config["BAZRES_DEMO_PASSWORD"]).status_code == 201


def test_pages_send_a_strict_content_security_policy(client):
    for path in ("/", "/committee"):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        html = response.get_data(as_text=True)
        assert "<script>" not in html and " on" + "click=" not in html  # no inline script anywhere


def test_a_token_in_the_query_string_is_not_accepted(client):
    token = client.tokens["inspector-6a"]
    assert_problem(client.get(f"/api/v1/auth/me?access_token={token}"), 401)
    assert_problem(client.get(f"/api/v1/auth/me?token={token}"), 401)
