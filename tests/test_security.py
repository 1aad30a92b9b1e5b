"""Hostile input at the edges: password guessing, scripts in pages, tokens out of URLs."""

from tests.support import assert_problem

WRONG = {"password": "not-the-password"}


def login(client, username: str, password: str, address: str = "10.1.1.1"):
    return client.http.post("/api/v1/auth/token", json={"username": username, "password": password},
                            environ_base={"REMOTE_ADDR": address})


ATTACKER, OWNER = "10.66.6.6", "10.1.2.3"


def test_guessing_one_user_password_locks_out_only_the_guessing_address(client, app):
    password = app.config["BAZRES_DEMO_PASSWORD"]
    for _ in range(5):
        assert_problem(login(client, "head-22", WRONG["password"], address=ATTACKER), 401)
    blocked = login(client, "head-22", WRONG["password"], address=ATTACKER)
    body = assert_problem(blocked, 429)
    assert body["type"] == "/problems/too-many-requests"
    assert int(blocked.headers["Retry-After"]) > 0
    # That address is locked out for head-22 even with the right password, until the window
    # passes; the owner, from an address that has not been failing, logs in.
    assert login(client, "head-22", password, address=ATTACKER).status_code == 429
    assert login(client, "head-22", password, address=OWNER).status_code == 201


def test_a_username_in_other_case_or_with_spaces_is_another_user_counted_on_its_own(client, app):
    password = app.config["BAZRES_DEMO_PASSWORD"]
    # Login matches usernames exactly, so "HEAD-22 " never logs in as head-22 ...
    assert_problem(login(client, "HEAD-22 ", password, address=ATTACKER), 401)
    for _ in range(4):
        assert_problem(login(client, "HEAD-22 ", WRONG["password"], address=ATTACKER), 401)
    assert_problem(login(client, "HEAD-22 ", WRONG["password"], address=ATTACKER), 429)
    # ... and its failures are its own: head-22 is not locked out, not even from that address.
    assert login(client, "head-22", password, address=ATTACKER).status_code == 201
    for _ in range(5):
        assert_problem(login(client, "head-22", WRONG["password"], address=ATTACKER), 401)
    assert_problem(login(client, "head-22", WRONG["password"], address=ATTACKER), 429)
    assert login(client, "head-22", password, address=OWNER).status_code == 201


def test_guessing_one_user_password_from_many_addresses_stops_those_addresses_but_not_the_owner(client, app,
                                                                                             monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_USER", "6/hour")  # the looser limit, met sooner
    guessers = [f"10.7.7.{n}" for n in range(3)]
    # Three failures from each of three addresses: none locked out alone; the first failure of
    # each is not counted for the username (its address had not failed yet): six counted.
    for attempt in range(9):
        assert_problem(login(client, "head-21", WRONG["password"], address=guessers[attempt // 3]), 401)
    refused = login(client, "head-21", app.config["BAZRES_DEMO_PASSWORD"], address=guessers[0])
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    # The owner, from an address that has not been failing, is never locked out (issue 13, item 11).
    assert login(client, "head-21", app.config["BAZRES_DEMO_PASSWORD"], address=OWNER).status_code == 201
    assert login(client, "head-20", app.config["BAZRES_DEMO_PASSWORD"], address=guessers[0]).status_code == 201


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
