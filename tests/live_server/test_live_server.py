"""The real-server harness itself (tests/live.py): a separate process, logged in over HTTP."""


def test_the_live_server_answers_health_and_logs_a_user_in(live):
    assert live.request("GET", "/healthz").status == 200
    me = live.request("GET", "/api/v1/auth/me", user="inspector-6a")
    assert me.status == 200 and me.json()["username"] == "inspector-6a"
