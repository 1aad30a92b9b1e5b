"""Past capacity a request that waited too long for a thread is answered 503 `overloaded`
with Retry-After, unstarted (app/shedding.py): nothing written, and the same push sent
again lands once. Here the wait is given as `make serve`'s worker stamps it; that the
worker measures it is tested against gunicorn (tests/live_server/test_shedding_live.py)."""

import uuid
from collections import Counter

import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerEntry, Report
from app.shedding import BOOKED_WITHIN_S, LONGEST_RETRY_AFTER_S, QUEUED_S, Returns, earliest_s
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


def test_the_soonest_a_shed_phone_may_come_back_grows_with_its_wait_in_the_queue():
    assert earliest_s(0.4) == 2.0
    assert earliest_s(4.0) == 16.0
    assert earliest_s(600.0) == LONGEST_RETRY_AFTER_S / 2


class Clock:
    def __init__(self, now: float = 1000.25):
        self.now = now

    def __call__(self) -> float:
        return self.now


def served(returns: Returns, clock: Clock, per_second: int, seconds: range) -> None:
    for second in seconds:
        clock.now = second + 0.5
        for _ in range(per_second):
            returns.admitted()


def test_phones_shed_together_are_booked_to_come_back_a_few_each_second():
    """Eighteen phones shed in the same instant by a worker that started 12 requests a second
    lately are told to come back six to a second (half its pace), from the soonest on, not
    all at once."""
    clock = Clock()
    returns = Returns(clock)
    served(returns, clock, 12, range(998, 1000))
    clock.now = 1000.25
    waits = [returns.book(earliest=2.0) for _ in range(18)]
    assert waits == [2] * 6 + [3] * 6 + [4] * 6


def test_a_handful_shed_in_a_burst_come_back_within_a_few_seconds():
    """With nothing served lately (a quiet worker's first burst), 14 phones are not told one
    second each, up to 15 s, but as many a second as the worker's threads take at once."""
    returns = Returns(Clock())
    assert [returns.book(earliest=2.0) for _ in range(14)] == [2] * 4 + [3] * 4 + [4] * 4 + [5] * 2


def test_the_book_counts_what_the_worker_served_lately_and_forgets_the_past():
    clock = Clock()
    returns = Returns(clock)
    served(returns, clock, 40, range(998, 1000))
    clock.now = 1000.5
    waits = [returns.book(earliest=2.0) for _ in range(45)]
    assert waits.count(2) == 20 and waits.count(3) == 20 and waits.count(4) == 5
    clock.now = 1003.5  # the seconds booked before now are forgotten, those ahead kept; and the
    # requests served then are out of the window: 1004's 5 phones are more than its room now
    assert returns.book(earliest=1.0) == 2
    assert returns.booked == {1004: 5, 1005: 1}


def test_a_day_of_requests_leaves_the_book_no_bigger():
    clock = Clock()
    returns = Returns(clock)
    served(returns, clock, 3, range(1000, 1000 + 86_400, 7))
    assert len(returns.started) <= Returns.WINDOW_S + 1


def test_however_slow_the_worker_the_phones_booked_are_spread_over_about_twenty_seconds():
    """At the start of a rush, after a quiet night, a worker has served next to nothing
    lately: 500 phones shed at once are not spread over the longest wait (one a second, 500 s)
    but over ~20 s."""
    returns = Returns(Clock())
    waits = [returns.book(earliest=2.0) for _ in range(500)]
    assert Counter(waits) == {wait: 500 // BOOKED_WITHIN_S for wait in range(2, 2 + BOOKED_WITHIN_S)}


def test_no_phone_is_asked_to_wait_longer_than_a_minute():
    returns = Returns(Clock())
    waits = [returns.book(earliest=earliest_s(600.0)) for _ in range(30_000)]
    assert min(waits) == LONGEST_RETRY_AFTER_S / 2 and max(waits) <= LONGEST_RETRY_AFTER_S
    # (Spread over 20 s, the booked phones never fill the seconds to the longest wait from the
    # soonest's 30 s; the bound holds for a soonest past it too.)
    assert {returns.book(earliest=LONGEST_RETRY_AFTER_S + 5) for _ in range(50)} == {LONGEST_RETRY_AFTER_S}


def test_the_server_books_each_phone_it_sheds(client, app, monkeypatch):
    """Through the app: requests served count toward the worker's pace, and phones shed in
    the same second are told successive seconds from four times their wait, once the first
    has its share (here 5 of the 10 requests a second served)."""
    clock = Clock(2000.5)
    monkeypatch.setattr(app.wsgi_app, "returns", Returns(clock))
    inspector = client.as_("inspector-6a")
    for second in (1998, 1999):
        clock.now = second + 0.5
        for _ in range(10):
            assert inspector.get("/api/v1/auth/me", environ_base={QUEUED_S: 0.01}).status_code == 200
    clock.now = 2000.5
    late = app.config["SHED_AFTER_MS"] / 1000 + 0.5  # so four times it is 3 s at the soonest
    shed = [inspector.get("/api/v1/auth/me", environ_base={QUEUED_S: late}) for _ in range(12)]
    assert {r.status_code for r in shed} == {503}
    assert [int(r.headers["Retry-After"]) for r in shed] == [3] * 5 + [4] * 5 + [5] * 2
