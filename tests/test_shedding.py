"""Past capacity a request that waited too long for a thread is answered 503 `overloaded`
with Retry-After, unstarted (app/shedding.py): nothing written, and the same push sent
again lands once. Here the wait is given as `make serve`'s worker stamps it; that the
worker measures it is tested against gunicorn (tests/live_server/test_shedding_live.py)."""

import uuid

import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerEntry, Report
from app.shedding import QUEUED_S, retry_after_s
from tests.sync.helpers import envelope, first_office, op, report_data

PUSH = "/api/v1/sync/push"


def test_a_push_that_waited_past_the_limit_is_shed_unwritten_and_lands_when_sent_again(client, app, app_context):
    office = first_office(client)
    body = envelope([op(data=report_data(office)) for _ in range(2)])
    ids = [uuid.UUID(o["id"]) for o in body["ops"]]
    waited = app.config["SHED_AFTER_MS"] / 1000 + 0.5
    shed = client.as_("inspector-6a").post(PUSH, json=body, environ_base={QUEUED_S: waited})
    assert shed.status_code == 503 and shed.mimetype == "application/problem+json"
    problem = shed.get_json()
    assert problem["type"] == "/problems/overloaded" and problem["instance"] == PUSH
    assert "nothing was written" in problem["detail"]
    assert 1 <= int(shed.headers["Retry-After"]) <= 60
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.id.in_(ids))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.entity_id.in_(ids))) == 0

    landed = client.as_("inspector-6a").post(PUSH, json=body, environ_base={QUEUED_S: 0.01})
    assert landed.status_code == 200
    assert [r["status"] for r in landed.get_json()["results"]] == ["applied", "applied"]


def test_a_request_served_within_the_limit_and_the_health_check_are_never_shed(client, app):
    late = app.config["SHED_AFTER_MS"] / 1000 + 5
    assert client.as_("inspector-6a").get("/api/v1/auth/me",
                                          environ_base={QUEUED_S: app.config["SHED_AFTER_MS"] / 2000}).status_code == 200
    assert client.get("/healthz", environ_base={QUEUED_S: late}).status_code == 200


def test_the_wait_asked_grows_with_the_queue_and_is_spread_at_random():
    short = {retry_after_s(0.4) for _ in range(200)}
    long = {retry_after_s(4.0) for _ in range(200)}
    assert min(short) >= 2 and max(short) <= 4
    assert min(long) >= 16 and max(long) <= 32 and len(long) > 5
    assert max(retry_after_s(600.0) for _ in range(50)) <= 60


def test_the_wait_asked_covers_the_workers_backlog():
    """A phone shed at the start of the rush, with a long queue ahead, is asked to come back
    once that queue has been served, not in a few seconds to be shed again."""
    backlogged = {retry_after_s(0.4, backlog_s=12.0) for _ in range(200)}
    assert min(backlogged) >= 12 and max(backlogged) <= 24 and len(backlogged) > 5
    assert max(retry_after_s(0.4, backlog_s=500.0) for _ in range(50)) <= 60
