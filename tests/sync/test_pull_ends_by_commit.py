"""A pull only reads, and on PostgreSQL ends its transaction with COMMIT (app.services.commit_read):
after a ROLLBACK psycopg drops every statement it had prepared on the connection, so a pull
ended so kept the pool's connections from ever holding a prepared statement. On SQLite it
ends with ROLLBACK, as before. commit_read cannot see a write already sent, so these check
that a pull writes no row at all (PostgreSQL's counts of the rows the transaction wrote)."""

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import District
from app.services import commit_read
from tests.conftest import LEG
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
    assert ends == (["commit"] if LEG == "postgis" else ["rollback"])


def test_a_pull_refused_ends_without_a_commit(client, ends):
    assert_problem(client.as_("inspector-6a").post("/api/v1/sync/pull", json=_pull("not-a-cursor")), 422, "cursor")
    assert "commit" not in ends


def test_commit_read_refuses_a_session_holding_a_change(app_context):
    db.session.add(District(number=99, name_fa="آزمون", name_en="Test"))
    with pytest.raises(RuntimeError, match="only read"):
        commit_read()
    assert not db.session.new


def _rows_written() -> int:
    # The rows this transaction (the test's, which every request of it joins) has written.
    return db.session.scalar(sa.text("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                                     "FROM pg_stat_xact_user_tables"))


@pytest.mark.skipif(LEG != "postgis", reason="PostgreSQL's counts of a transaction's writes")
def test_a_pull_writes_no_row(client):
    push(client, [op(data=report_data(first_office(client, district=6)))])
    before = _rows_written()
    assert before > 0  # the push's, counted
    for user in ("inspector-6a", "head-6", "committee1"):
        page = client.as_(user).post("/api/v1/sync/pull", json=_pull(None))
        assert page.status_code == 200
        page = client.as_(user).post("/api/v1/sync/pull", json=_pull(page.get_json()["cursor"]))
        assert page.status_code == 200
    assert _rows_written() == before
