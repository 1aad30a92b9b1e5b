"""The admin commands: seed and create-user (import-offices has its own file)."""

import sqlalchemy as sa

from app.extensions import db
from app.models import District, Office, User


def _counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (District, Office, User))


def test_seeding_again_changes_nothing(app, app_context):
    before = _counts()
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "districts: 0 created; offices: 0 created, 0 updated" in result.output
    assert "users: 0 created" in result.output
    assert _counts() == before
    assert before[0] == 22 and before[1] >= 110 and before[2] == 70  # 69 people and the feed account


def test_seed_if_empty_leaves_an_existing_database_alone(app):
    result = app.test_cli_runner().invoke(args=["seed", "--if-empty"])
    assert result.exit_code == 0 and "not seeding" in result.output


def test_create_user_makes_a_user_who_can_log_in(app, client):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--username", "inspector-new", "--role", "inspector",
        "--district", "4", "--district", "5", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    login = client.post("/api/v1/auth/token", json={"username": "inspector-new", "password": "long-enough-pw"})
    assert login.status_code == 201
    assert login.get_json()["user"]["districts"] == [4, 5]


def test_create_user_refuses_bad_input_with_the_field_named(app, app_context):
    runner = app.test_cli_runner()
    cases = [
        (["--username", "head-x", "--role", "district_head", "--district", "1", "--district", "2"], "districts"),
        (["--username", "insp-x", "--role", "inspector"], "districts"),
        (["--username", "insp-y", "--role", "inspector", "--district", "23"], "districts"),
        (["--username", "admin", "--role", "admin"], "username"),
    ]
    for args, field in cases:
        result = runner.invoke(args=["create-user", *args, "--password", "long-enough-pw"])
        assert result.exit_code == 1, (args, result.output)
        assert f"error: {field}:" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.username.in_(["head-x", "insp-x", "insp-y"]))) == 0


def test_demo_reports_give_the_committee_cases_and_land_once(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "--with-demo-reports"])
    assert result.exit_code == 0, result.output
    assert "demo reports: 6 landed" in result.output
    cases = client.as_("committee1").get("/api/v1/violations?date_from=1405-01-07&date_to=1405-01-08").get_json()
    assert sorted((c["district"], c["kind"]) for c in cases) == [
        (1, "closed_during_mandated_hours"), (2, "closed_during_mandated_hours"),
        (3, "closed_during_mandated_hours"), (4, "needs_verification")]
    again = runner.invoke(args=["seed", "--with-demo-reports"])
    assert "demo reports: 0 landed" in again.output
