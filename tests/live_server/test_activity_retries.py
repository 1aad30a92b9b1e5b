"""A platform retrying one batch from several connections at once counts it once (DESIGN
§10b), against a real server process: the batch's key is written first, so a second request
waits for the first to commit and then answers `duplicate`, adding nothing."""

import sqlite3
import threading

import psycopg

from bench.harness import libpq

EVENTS = [{"office_code": "TEH-07-01", "at": f"2026-03-25T09:{minute:02d}:00+03:30", "count": 2}
          for minute in range(60)] * 50  # 3,000 events, 60 minutes, 100 a minute


def _counted(database_url: str) -> int:
    query = ("SELECT coalesce(sum(c.count), 0) FROM activity_counts c JOIN offices o ON o.id = c.office_id "
             "WHERE o.code = 'TEH-07-01'")
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("///", 1)[1]) as connection:
            return connection.execute(query).fetchone()[0]
    with psycopg.connect(libpq(database_url)) as connection:
        return connection.execute(query).fetchone()[0]


def test_concurrent_retries_of_one_batch_count_it_once(live):
    body = {"source": "platform", "batch_id": "retried-1", "events": EVENTS}
    answers, start = [], threading.Barrier(6)

    def send():
        start.wait()
        answers.append(live.request("POST", "/api/v1/activity", body, user="feed-platform", timeout=120))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status for a in answers] == [200] * 6, [a.body[:300] for a in answers]
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["applied"] + ["duplicate"] * 5
    assert _counted(live.database_url) == 2 * len(EVENTS)


def test_different_batches_on_the_same_minutes_at_once_both_count_without_a_deadlock(live):
    """Six batches of the same office's same minutes, half in the opposite order, sent at
    once: each adds its counts (the rows are written in key order whatever the events' order,
    so no two wait on each other round a cycle)."""
    before = _counted(live.database_url)
    bodies = [{"source": "platform", "batch_id": f"crossed-{n}", "events": EVENTS if n % 2 else EVENTS[::-1]}
              for n in range(6)]
    answers, start = [], threading.Barrier(len(bodies))

    def send(body):
        start.wait()
        answers.append(live.request("POST", "/api/v1/activity", body, user="feed-platform", timeout=120))

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status for a in answers] == [200] * len(bodies), [a.body[:300] for a in answers]
    assert sorted(a.json()["status"] for a in answers) == ["applied"] * len(bodies)
    assert _counted(live.database_url) == before + len(bodies) * 2 * len(EVENTS)
