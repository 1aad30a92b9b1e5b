"""A labelled synthetic stretch of the platform's activity for tests (issue 17): offices of a
few districts serving through their mandated windows as the server's hours engine gives them
(Tehran's clock, no daylight saving), at rates from busy to quiet, with busy mornings; known
closures of every length; one platform outage. Sent through `POST /api/v1/activity` as the
feed would; the labels are kept for scoring."""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import jdatetime

from app.hours import calendar
from app.signals.demo import poisson

FEED = "feed-platform"
PROFILE = (0.6, 1.4, 1.6, 1.3, 0.9, 0.7, 0.8, 1.0, 0.6)  # from 08:00, each hour's share of the base rate


@dataclass
class Stretch:
    days: list[jdatetime.date]  # history first, then the days judged
    judged: list[jdatetime.date]
    codes: list[str]
    windows: dict = field(default_factory=dict)  # (code, day) -> [(start minute, end minute)]
    rates: dict = field(default_factory=dict)  # code -> transactions a minute
    closures: dict = field(default_factory=dict)  # (code, day) -> (first minute, last minute) closed
    outage: tuple | None = None  # (day, first minute, last minute): every office silent
    late_starter: str | None = None  # an office the feed covers only from a few days before
    silent: set = field(default_factory=set)  # (code, day) the office served nobody, labelled or not


def mandated(client, day: jdatetime.date, codes: set[str]) -> dict[str, list[tuple[int, int]]]:
    """Each office's windows on `day` as the server's hours engine gives them (minutes of the day)."""
    listed = client.as_("committee1").get("/api/v1/mandated-hours", query_string={
        "date": calendar.format_date(day), "page_size": 500}).get_json()
    out = {}
    for item in listed:
        code = item["office"]["code"] if isinstance(item.get("office"), dict) else item.get("office_code")
        if code in codes:
            out[code] = [(_minute(w["start"]), _minute(w["end"])) for w in item["windows"]]
    return out


def _minute(text: str) -> int:
    hours, minutes = text.split(":")[:2]
    return int(hours) * 60 + int(minutes)


def plan(client, codes: list[str], first_judged: jdatetime.date, history_days: int, judged_days: int,
         seed: int) -> Stretch:
    rng = random.Random(seed)
    days = [first_judged + timedelta(days=n) for n in range(-history_days, judged_days)]
    stretch = Stretch(days, days[history_days:], codes)
    stretch.rates = {code: rng.uniform(0.3, 1.5) for code in codes}
    stretch.rates[codes[0]], stretch.rates[codes[1]] = 0.25, 0.3  # quiet but open: never closed
    stretch.late_starter = codes[2]
    for day in days:
        for code, windows in mandated(client, day, set(codes)).items():
            if windows:
                stretch.windows[(code, day)] = windows
    open_days = [day for day in stretch.judged if any((c, day) in stretch.windows for c in codes)]
    outage_day = open_days[len(open_days) // 2]
    stretch.outage = (outage_day, 10 * 60, 12 * 60 - 1)
    lengths = [30, 45, 60, 60, 90, 120, 120, 180, 240, 300, None]  # None: the whole window
    candidates = [c for c in codes[3:]]
    n = 0
    for round_ in range(2):
        for length in lengths:
            code = candidates[(n * 7) % len(candidates)]
            day = open_days[(n * 5 + round_) % len(open_days)]
            n += 1
            if day == outage_day or (code, day) not in stretch.windows or (code, day) in stretch.closures:
                continue
            start, end = stretch.windows[(code, day)][0]
            span = end - start if length is None else min(length, end - start)
            first = start + rng.randrange(0, end - start - span + 1)
            stretch.closures[(code, day)] = (first, first + span - 1)
    return stretch


def events(stretch: Stretch, seed: int) -> list[dict]:
    """The transactions of the whole stretch, one event per office and busy minute."""
    rng = random.Random(seed + 1)
    out = []
    late_from = stretch.judged[0] - timedelta(days=3)
    for day in stretch.days:
        for code in stretch.codes:
            windows = stretch.windows.get((code, day))
            if not windows or (code == stretch.late_starter and day < late_from):
                continue
            closed = stretch.closures.get((code, day))
            served = 0
            for start, end in windows:
                for minute in range(start, end):
                    if closed and closed[0] <= minute <= closed[1]:
                        continue
                    if stretch.outage and day == stretch.outage[0] and stretch.outage[1] <= minute <= stretch.outage[2]:
                        continue
                    count = poisson(rng, stretch.rates[code] * PROFILE[min(8, (minute - 480) // 60)])
                    if count:
                        served += count
                        at = calendar.tehran_instant(day, time(minute // 60, minute % 60, rng.randrange(60)))
                        out.append({"office_code": code, "at": at.isoformat(), "count": count})
            if not served:
                stretch.silent.add((code, day))
    return out


def send(client, batch: list[dict], source: str = "platform", size: int = 10_000, key: str = "") -> None:
    feed = client.as_(FEED)
    for n in range(0, len(batch), size):
        answer = feed.post("/api/v1/activity", json={"source": source, "batch_id": f"{key or source}-{n}",
                                                     "events": batch[n:n + size]})
        assert answer.status_code == 200 and not answer.get_json()["rejected"], answer.get_data(as_text=True)[:500]


def minute_of(instant: str, day: jdatetime.date) -> int:
    at = datetime.fromisoformat(instant).astimezone(calendar.TEHRAN)
    assert calendar.tehran_day(at) == day
    return at.hour * 60 + at.minute
