"""A day's signals read by several people while the platform's batches for that day keep
landing, against a real server process (DESIGN §10b): a read works the day out again and
writes it, so readers race each other and the intake. None may fail (no "database is
locked", no second copy of a signal), and once the last batch has landed the next read
reflects all of it."""

import threading
from datetime import time, timedelta

from app.hours import calendar

DAY = calendar.parse_date("1405-01-08")  # a Saturday under the Nowruz rule, 08:00-16:30
CODES = [f"TEH-09-0{n}" for n in range(1, 4)]


def _at(day, minute: int) -> str:
    return calendar.tehran_instant(day, time(minute // 60, minute % 60, 30)).isoformat()


def test_readers_racing_the_intake_never_fail_and_end_on_the_last_batch(live):
    history = [{"office_code": code, "at": _at(DAY - timedelta(days=d), m)}
               for d in range(1, 8) for code in CODES for m in range(480, 960)]
    for n in range(0, len(history), 10_000):
        answer = live.request("POST", "/api/v1/activity", {"source": "live-history", "batch_id": f"h{n}",
                                                           "events": history[n:n + 10_000]},
                              user="feed-platform", timeout=120)
        assert answer.status == 200, answer.body[:300]
    # The day in twelve batches, one per 45 minutes of the window; TEH-09-01 silent after 12:00.
    batches = [[{"office_code": code, "at": _at(DAY, m)} for code in CODES for m in range(start, start + 45)
                if not (code == CODES[0] and m >= 720)] for start in range(480, 990, 45)]
    url = f"/api/v1/signals?date={calendar.format_date(DAY)}&district=9"
    answers, failures, done = [], [], threading.Event()

    def feed():
        for n, events in enumerate(batches):
            answer = live.request("POST", "/api/v1/activity", {"source": "live-day", "batch_id": f"d{n}",
                                                               "events": events}, user="feed-platform", timeout=120)
            if answer.status != 200:
                failures.append(("feed", answer.status, answer.body[:300]))
        done.set()

    def read(user):
        while not done.is_set():
            answer = live.request("GET", url, user=user, timeout=120)
            answers.append(answer.status)
            if answer.status != 200:
                failures.append((user, answer.status, answer.body[:300]))

    threads = [threading.Thread(target=feed)] + [threading.Thread(target=read, args=(user,))
                                                 for user in ("head-9", "committee1", "inspector-9a")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(answers) >= 3
    items = live.request("GET", url, user="committee1", timeout=120).json()["items"]
    by_code = {}
    for item in items:
        assert (item["office_code"], item["window"]) not in by_code, "one signal per office and window"
        by_code[(item["office_code"], item["window"])] = item
    silent = by_code[(CODES[0], "08:00–16:30")]
    assert silent["state"] == "suspected_closure" and silent["silent_from"].endswith("12:00:00+03:30")
    assert silent["observed"] == 240  # every batch counted: 08:00-12:00, one a minute
    assert {by_code[(code, "08:00–16:30")]["state"] for code in CODES[1:]} == {"normal"}
