"""An office the platform saw silent for four hours of its mandated window: the activity a
few offices of a district served, on one day and at its weekday over the eight weeks before,
posted as the feed's machine account posts it (`POST /api/v1/activity`).

The day is Friday 1405-01-07, which the Nowruz rule mandates 08:00–16:30 (a Friday outside
Nowruz has no mandated hours). Each office serves one transaction every ten minutes through
that window, on the day and on the eight Fridays before (its history); on the day, the silent
office serves nothing before 12:00. The others keep serving, so the platform is not in an
outage; their silences (nine minutes) are a queue's lull. About 1,800 events in all.
"""

from datetime import time, timedelta

from app.hours import calendar
from app.services.signals import LOOKBACK_WEEKS

DAY = "1405-01-07"
FEED = "feed-platform"
SOURCE = "coverage-test"
WINDOW = (time(8, 0), time(16, 30))
SILENT_UNTIL = time(12, 0)


def events(codes: list[str], silent: str, day: str = DAY) -> list[dict]:
    """The activity of `codes` on `day` and at its weekday the LOOKBACK_WEEKS before, with
    `silent` serving nothing on `day` before SILENT_UNTIL."""
    out = []
    for weeks in range(LOOKBACK_WEEKS, -1, -1):
        date = calendar.parse_date(day) - timedelta(weeks=weeks)
        for code in codes:
            first = SILENT_UNTIL if weeks == 0 and code == silent else WINDOW[0]
            minute = first.hour * 60 + first.minute
            while minute < WINDOW[1].hour * 60 + WINDOW[1].minute:
                at = calendar.tehran_instant(date, time(minute // 60, minute % 60))
                out.append({"office_code": code, "at": at.isoformat(), "count": 1})
                minute += 10
    return out


def days(day: str = DAY) -> list[str]:
    """The Jalali days the activity falls on (their signals are worked out and stored)."""
    return [calendar.format_date(calendar.parse_date(day) - timedelta(weeks=weeks))
            for weeks in range(LOOKBACK_WEEKS + 1)]


def post_activity(post, codes: list[str], silent: str, batch_id: str = "history") -> None:
    """`post(url, json=…)` as the feed's account: the activity in one batch."""
    answer = post("/api/v1/activity", json={"source": SOURCE, "batch_id": batch_id, "events": events(codes, silent)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["status"], body["rejected"]) == ("applied", []), body
