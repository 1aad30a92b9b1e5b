"""A pooled PostgreSQL connection is pinged at checkout only after it sat idle (app.database):
one just used is handed out as it is, one idle long enough is pinged, and one whose ping fails
makes the pool start again."""

import pytest
from sqlalchemy import exc as sa_exc

from app import database


class FakeConnection:
    def __init__(self, fails: bool = False):
        self.fails, self.calls = fails, []

    def cursor(self):
        return self

    def execute(self, sql):
        self.calls.append(sql)
        if self.fails:
            raise OSError("server closed the connection unexpectedly")

    def close(self):
        self.calls.append("close")

    def rollback(self):
        self.calls.append("rollback")


class Record:
    def __init__(self):
        self.info = {}


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(database.time, "monotonic", lambda: now[0])
    return now


def test_a_new_or_just_used_connection_is_not_pinged_and_an_idle_one_is(clock):
    connection, record = FakeConnection(), Record()
    database._ping_if_idle(connection, record, None)  # just connected: never checked in
    database._note_idle(connection, record)
    clock[0] += database.IDLE_PING_S - 0.5
    database._ping_if_idle(connection, record, None)
    assert connection.calls == []
    clock[0] += 1
    database._ping_if_idle(connection, record, None)
    assert connection.calls == ["SELECT 1", "close", "rollback"]


def test_an_idle_connection_whose_ping_fails_recycles_the_pool(clock):
    connection, record = FakeConnection(fails=True), Record()
    database._note_idle(connection, record)
    clock[0] += database.IDLE_PING_S + 1
    with pytest.raises(sa_exc.InvalidatePoolError):
        database._ping_if_idle(connection, record, None)
