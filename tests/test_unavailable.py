"""The database restarting or busy: a 503 with Retry-After that writes nothing, never a 500
and never an op rejected for good (the phone sends the same push again and it lands)."""

import pytest
import sqlalchemy as sa

from app.database import is_transient
from app.extensions import db
from app.models import QuarantinedOp, Report
from app.repositories.changes import FEED_LOCK_KEY
from tests.conftest import LEG
from tests.sync.helpers import envelope, first_office, op, report_data

PUSH = "/api/v1/sync/push"
postgis_only = pytest.mark.skipif(LEG != "postgis", reason="PostgreSQL's locks and sessions")


def raised(connection, statement: str, params: dict | None = None) -> BaseException:
    with pytest.raises(sa.exc.DBAPIError) as caught:
        connection.execute(sa.text(statement), params or {})
    return caught.value


@postgis_only
def test_a_push_that_cannot_get_its_lock_in_time_is_a_503_and_lands_when_sent_again(client, app_context):
    office = first_office(client)
    body = envelope([op(data=report_data(office)) for _ in range(3)])
    ids = [o["id"] for o in body["ops"]]
    with db.engine.connect() as other:  # another session holds the change feed's lock
        other.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": FEED_LOCK_KEY})
        db.session.execute(sa.text("SET lock_timeout = '200ms'"))
        try:
            busy = client.as_("inspector-6a").post(PUSH, json=body)
        finally:
            other.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": FEED_LOCK_KEY})
            db.session.execute(sa.text("RESET lock_timeout"))
    assert busy.status_code == 503 and busy.mimetype == "application/problem+json"
    assert busy.get_json()["type"] == "/problems/unavailable" and int(busy.headers["Retry-After"]) > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.id.in_(ids))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuarantinedOp)) == 0

    again = client.as_("inspector-6a").post(PUSH, json=body)
    assert [r["status"] for r in again.get_json()["results"]] == ["applied"] * 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.id.in_(ids))) == 3


@postgis_only
def test_postgresql_errors_that_pass_are_told_from_those_that_do_not(app_context):
    with db.engine.connect() as connection:
        with connection.begin():
            connection.execute(sa.text("SET LOCAL statement_timeout = '20ms'"))
            assert is_transient(raised(connection, "SELECT pg_sleep(1)"))  # 57014
        with connection.begin():
            assert not is_transient(raised(connection, "SELECT 1 / 0"))  # 22012: the same again fails again
        with connection.begin():
            assert not is_transient(raised(connection, "SELECT * FROM no_such_table"))
        pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as killer:
            killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert is_transient(raised(connection, "SELECT 1"))  # the connection is gone (57P01 / 08)


def test_sqlite_busy_is_transient_and_a_constraint_is_not(tmp_path):
    import pysqlite3.dbapi2

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'busy.db'}", module=pysqlite3.dbapi2,
                              connect_args={"timeout": 0.05})
    with engine.connect() as holder, engine.connect() as waiter:
        holder.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        holder.commit()
        holder.exec_driver_sql("BEGIN IMMEDIATE")
        with pytest.raises(sa.exc.OperationalError) as locked:
            waiter.exec_driver_sql("BEGIN IMMEDIATE")
        assert "locked" in str(locked.value) and is_transient(locked.value)
        holder.exec_driver_sql("INSERT INTO t VALUES (1)")
        with pytest.raises(sa.exc.IntegrityError) as duplicate:
            holder.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert not is_transient(duplicate.value)
    engine.dispose()
