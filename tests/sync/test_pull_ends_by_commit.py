"""A pull only reads, and ends its transaction with COMMIT (app.services.commit_read): after
a ROLLBACK psycopg drops every statement it had prepared on the connection, so a pull ended
so kept the pool's connections from ever holding a prepared statement."""

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import District
from app.services import commit_read
from tests.support import assert_problem
from tests.sync.helpers import first_office, op, push, report_data


def _pull(cursor):
    return {"protocol": 1, "device_id": str(uuid.uuid4()), "cursor": cursor, "limit": 500}


@pytest.fixture
def ends():
    seen = []

    def committed(session):
        seen.append("commit")

    def rolled_back(session):
        seen.append("rollback")

    sa.event.listen(Session, "after_commit", committed)
    sa.event.listen(Session, "after_rollback", rolled_back)
    yield seen
    sa.event.remove(Session, "after_commit", committed)
    sa.event.remove(Session, "after_rollback", rolled_back)


def test_a_pull_commits_its_read_and_rolls_nothing_back(client, ends):
    push(client, [op(data=report_data(first_office(client, district=6)))])
    ends.clear()
    answer = client.as_("inspector-6a").post("/api/v1/sync/pull", json=_pull(None))
    assert answer.status_code == 200 and answer.get_json()["changes"]["reports"]
    assert ends == ["commit"]


def test_a_pull_refused_ends_without_a_commit(client, ends):
    assert_problem(client.as_("inspector-6a").post("/api/v1/sync/pull", json=_pull("not-a-cursor")), 422, "cursor")
    assert "commit" not in ends


def test_commit_read_refuses_a_session_holding_a_change(app_context):
    db.session.add(District(number=99, name_fa="آزمون", name_en="Test"))
    with pytest.raises(RuntimeError, match="holds changes"):
        commit_read()
    db.session.rollback()
