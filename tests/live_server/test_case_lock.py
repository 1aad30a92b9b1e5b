"""A report joining a case while a committee member's decision on it is being written waits
for that decision and then builds on it (issue 13, item 6): the case is locked while a push
reads it, so the join's version bump and the reopening of a dismissed case are never lost."""

import sqlite3
import threading
import time

import psycopg

from app.hours import calendar
from bench.harness import libpq
from tests.sync.helpers import envelope, op, report_data


def at(day: str, clock: str):
    return calendar.tehran_instant(calendar.parse_date(day), calendar.parse_time(clock))


class Decision:
    """A decision being written on another connection: the case row locked and changed
    (dismissed, its version raised), not yet committed."""

    DECIDE = "UPDATE violation_cases SET status = 'dismissed', version = version + 1 WHERE id = {}"

    def __init__(self, database_url: str, case_id: str):
        if database_url.startswith("sqlite"):
            self.connection = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None, timeout=30)
            self.connection.execute("BEGIN IMMEDIATE")  # SQLite's one writer, as a decision takes it
            # (SQLAlchemy keeps a Uuid as 32 hex digits on SQLite.)
            self.connection.execute(self.DECIDE.format("?"), (case_id.replace("-", ""),))
        else:
            self.connection = psycopg.connect(libpq(database_url))
            self.connection.execute("SELECT 1 FROM violation_cases WHERE id = %s FOR UPDATE", (case_id,))
            self.connection.execute(self.DECIDE.format("%s"), (case_id,))

    def commit(self):
        self.connection.commit()
        self.connection.close()


def test_a_report_joining_a_case_being_decided_waits_and_then_reopens_it(live):
    office = live.request("GET", "/api/v1/offices?district=6&page_size=1", user="inspector-6a").json()[0]
    closed = report_data(office, state="closed", observed_at=at("1405-01-07", "11:00"))
    (first,) = live.request("POST", "/api/v1/sync/push", envelope([op(data=closed)]), user="inspector-6a").json()[
        "results"]
    case_id = first["record"]["violation_id"]
    case = live.request("GET", f"/api/v1/violations/{case_id}", user="committee1").json()
    reviewed = live.request("POST", f"/api/v1/violations/{case_id}/decision", user="committee1",
                            body={"version": case["version"], "status": "under_review"}).json()

    decision = Decision(live.database_url, case_id)  # dismissed, version + 1, not yet committed
    answers = []
    push = threading.Thread(target=lambda: answers.append(live.request(
        "POST", "/api/v1/sync/push", envelope([op(data=closed)]), user="inspector-6b")))
    try:
        push.start()
        time.sleep(1.0)  # let the push reach the case (it waits there, or, without the lock, reads it stale)
    finally:
        decision.commit()
    push.join(60)
    (answer,) = answers
    assert answer.status == 200 and answer.json()["results"][0]["status"] == "applied", answer.body

    after = live.request("GET", f"/api/v1/violations/{case_id}", user="committee1").json()
    # The decision (version + 1) and then the join (+1) and the reopening (+1): none lost.
    assert after["status"] == "under_review", after["status"]
    assert after["version"] == reviewed["version"] + 3
    assert [e["action"] for e in after["events"]][-2:] == ["joined", "reopened"]
