"""A small scenario for systemic monitoring beside a case (DESIGN §10b): a few offices that
serve on the platform every Friday, and on Friday 1405-01-07 (Nowruz: the hours mandate
08:00–16:30) one of them falls silent at 10:00 while the others keep serving.

About a thousand events in two batches, sent by the feed's machine account through
`POST /api/v1/activity`; `post(url, json)` is any client that sends them as that account.
"""

from datetime import timedelta

from app.hours import calendar

DAY = "1405-01-07"  # a Friday the Nowruz rule mandates 08:00–16:30 (fixtures/hours_rules.json)
WINDOW = "08:00–16:30"
SILENT_FROM = "10:00"  # the silent office's last transaction is before this
SOURCE = "test-case-signals"
WEEKS = 8  # the history the detector reads: the same weekday over the eight weeks before


def _instant(day, clock: str) -> str:
    return calendar.tehran_instant(day, calendar.parse_time(clock)).isoformat()


def history(codes: list[str]) -> list[dict]:
    """Each office's Fridays before DAY: 60 transactions in each hour of 08:00–16:59 (one a
    minute, the detector's rate), one event an hour."""
    day = calendar.parse_date(DAY)
    return [{"office_code": code, "at": _instant(day - timedelta(weeks=k), f"{hour:02d}:30"), "count": 60}
            for k in range(1, WEEKS + 1) for code in codes for hour in range(8, 17)]


def the_day(codes: list[str], silent: str) -> list[dict]:
    """DAY's activity: five transactions every five minutes through the window (and one in its
    last minute), at every office but `silent`, which serves only until SILENT_FROM."""
    day = calendar.parse_date(DAY)
    events = []
    for minute in range(8 * 60, 16 * 60 + 30, 5):
        clock = f"{minute // 60:02d}:{minute % 60:02d}"
        for code in codes:
            if code != silent or clock < SILENT_FROM:
                events.append({"office_code": code, "at": _instant(day, clock), "count": 5})
    # The window's last minute reported: a day is judged up to the platform's last minute.
    events += [{"office_code": code, "at": _instant(day, "16:29")} for code in codes if code != silent]
    return events


def make_suspected(post, codes: list[str], silent: str) -> None:
    """Feed the history and the day; `silent` (one of `codes`) is then suspected on DAY."""
    for batch_id, events in (("history", history(codes)), ("day", the_day(codes, silent))):
        assert len(events) <= 10_000
        answer = post("/api/v1/activity", {"source": SOURCE, "batch_id": f"{batch_id}-{silent}", "events": events})
        assert answer["accepted"] == len(events) and not answer["rejected"], answer


def touched_days() -> list[str]:
    """The Jalali days the scenario's activity falls on."""
    day = calendar.parse_date(DAY)
    return [calendar.format_date(day - timedelta(weeks=k)) for k in range(WEEKS + 1)]
