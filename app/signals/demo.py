"""A synthetic e-services platform for the demo (DESIGN §10b, fixtures/README.md): the demo
offices' transactions per minute or per Tehran hour, drawn from a seeded Poisson model, with
a few closures, one platform outage and offices the feed never covers. Made up, not real.

Deterministic: the same offices, holidays and seed give the same counts on any machine and in
any order of days (each office's day draws from its own `random.Random`, seeded by text).
Pure: plain data in, plain data out; the seed service writes it (app/services/seed.py).

The model. An office open on a day serves a Poisson process whose rate is its base rate
(transactions an hour) × the hour's share (`PROFILE`: busy mornings, a midday dip) × the
weekday's (`WEEKDAY_FACTOR`) × a factor of that day (0.85–1.15) × `NOWRUZ_FACTOR` on the
mandated Nowruz days. An hour's count is drawn once, for the minutes the office was open and
not closed or cut off in it, and spread over those minutes one transaction at a time: the
hours (`hour_counts`, the history) are exactly the minutes (`minute_counts`) added up.
"""

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import jdatetime

from app.hours import calendar

DEMO_SEED = 1405
HISTORY_WEEKS = 8  # the history the detector reads (app.services.signals.LOOKBACK_WEEKS)
NOWRUZ = (jdatetime.date(1405, 1, 5), jdatetime.date(1405, 1, 9))  # the mandate of fixtures/hours_rules.json
NOWRUZ_FACTOR = 2.0  # the mandated Nowruz days: the few offices open carry about twice the traffic
DEMO_DAYS = tuple(NOWRUZ[0] + timedelta(days=n) for n in range((NOWRUZ[1] - NOWRUZ[0]).days + 1))
# The history: every day of the eight weeks before the first demo day, so each demo day finds
# its eight weeks (1404-11-08 … 1405-01-04).
HISTORY_DAYS = tuple(NOWRUZ[0] - timedelta(days=n) for n in range(7 * HISTORY_WEEKS, 0, -1))

# The share of an office's base rate in each Tehran hour it is open (none outside these).
PROFILE = {7: 0.3, 8: 0.8, 9: 1.3, 10: 1.5, 11: 1.4, 12: 1.1, 13: 0.75, 14: 0.9, 15: 0.8, 16: 0.5}
WEEKDAY_FACTOR = {"sat": 1.15, "sun": 1.05, "mon": 1.0, "tue": 1.0, "wed": 0.95, "thu": 0.85, "fri": 1.0}
DAY_FACTOR = (0.85, 1.15)  # one office's day against its usual, drawn uniformly
# (kind, share of the offices, base rate range in transactions an hour at a PROFILE of 1)
KINDS = (("quiet", 0.15, (3.0, 6.0)), ("standard", 0.60, (10.0, 25.0)), ("busy", 0.25, (30.0, 50.0)))
OPENS = (-10, 5)  # an office opens this many minutes from 08:00 (its own habit) …
OPENS_JITTER = 3  # … give or take this many on the day
CLOSES = (0, 10)  # and closes this many minutes after its day's end: 16:00, Thursday 12:00, Nowruz 16:30


@dataclass(frozen=True)
class Silence:
    """A planned span with no transaction: an office closed (`code`), or the platform cut off
    for every office (`code` None). Minutes of the day, Tehran, [start, end)."""

    day: jdatetime.date
    start: int
    end: int
    code: str | None = None
    story: str = ""

    def covers(self, minute: int) -> bool:
        return self.start <= minute < self.end


# (district, its n-th office by code, day, from, to, what happened). The first two are the
# offices DEMO_REPORTS (app/services/seed.py) finds closed at 10:10 and 11:20 on 1405-01-07:
# the reports confirm those suspicions. The others no one visits: their suspicions stay open.
CLOSURES = (
    (1, 1, "1405-01-07", "09:20", "12:40", "closed mid-morning; found closed at 10:10 by inspector-1a"),
    (2, 1, "1405-01-07", "10:40", "13:10", "closed late morning; found closed at 11:20, open again at 15:05"),
    (6, 2, "1405-01-07", "00:00", "24:00", "never opened on the Nowruz Friday"),
    (9, 2, "1405-01-07", "13:15", "24:00", "left early"),
    (12, 2, "1405-01-07", "00:00", "10:15", "opened two hours late"),
    (15, 3, "1405-01-08", "11:30", "13:00", "closed an hour and a half at midday"),
    (18, 2, "1405-01-08", "00:00", "24:00", "never opened"),
)
OUTAGES = (("1405-01-08", "10:00", "11:00", "the platform down: no office's transaction recorded"),)
UNCOVERED = ((11, 3), (20, 2))  # (district, n-th office): offices whose transactions the feed never carries


@dataclass(frozen=True)
class OfficeModel:
    code: str
    district: int
    kind: str
    rate: float  # transactions an hour at a PROFILE of 1
    opens: int  # its usual opening, minutes from 08:00
    closes: int  # minutes after its day's end it usually closes


@dataclass(frozen=True)
class Plan:
    seed: int
    offices: dict[str, OfficeModel]  # the offices the feed covers
    uncovered: tuple[str, ...]
    closures: tuple[Silence, ...]
    outages: tuple[Silence, ...]
    holidays: frozenset[jdatetime.date]


def make_plan(offices: Iterable[tuple[str, int]], holidays: Iterable[jdatetime.date] = (),
              seed: int = DEMO_SEED) -> Plan:
    """Each office's habits from `seed`, and the closures, outage and uncovered offices of the
    demo placed on the given offices ((code, district) pairs; a district with too few offices
    for a planned one simply has none)."""
    by_district: dict[int, list[str]] = defaultdict(list)
    for code, district in sorted(offices):
        by_district[district].append(code)

    def nth(district: int, n: int) -> str | None:
        codes = by_district.get(district, [])
        return codes[n - 1] if len(codes) >= n else None

    closures = tuple(Silence(calendar.parse_date(day), _minute(start), _minute(end), code, story)
                     for district, n, day, start, end, story in CLOSURES if (code := nth(district, n)))
    uncovered = tuple(code for district, n in UNCOVERED if (code := nth(district, n)))
    # A closure must be long against its office's traffic to be seen at all: closed offices
    # are never of the quiet kind, and each district's first office (its permit hub) is busy.
    floor = {code: "standard" for code in (c.code for c in closures)}
    floor |= {codes[0]: "busy" for codes in by_district.values()}
    models = {}
    for district, codes in by_district.items():
        for code in codes:
            if code not in uncovered:
                models[code] = _office(code, district, floor.get(code), seed)
    outages = tuple(Silence(calendar.parse_date(day), _minute(start), _minute(end), None, story)
                    for day, start, end, story in OUTAGES)
    return Plan(seed, models, uncovered, closures, outages, frozenset(holidays))


def _office(code: str, district: int, at_least: str | None, seed: int) -> OfficeModel:
    rng = random.Random(f"{seed}:office:{code}")
    pick, kind, span = rng.random(), None, None
    for kind, share, span in KINDS:
        if pick < share:
            break
        pick -= share
    names = [k for k, _, _ in KINDS]
    if at_least and names.index(kind) < names.index(at_least):
        kind, span = at_least, KINDS[names.index(at_least)][2]
    return OfficeModel(code, district, kind, round(rng.uniform(*span), 1), rng.randint(*OPENS), rng.randint(*CLOSES))


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def day_end(plan: Plan, day: jdatetime.date) -> int | None:
    """Minutes of the day the offices' day ends (before each one's own few), or None: no
    transaction at all that day (a Friday or an official holiday, but for the Nowruz mandate)."""
    if NOWRUZ[0] <= day <= NOWRUZ[1]:
        return 16 * 60 + 30
    name = calendar.weekday(day)
    if name == "fri" or day in plan.holidays:
        return None
    return 12 * 60 if name == "thu" else 16 * 60


def minute_counts(plan: Plan, day: jdatetime.date) -> dict[tuple[str, datetime], int]:
    """{(office code, minute as a UTC instant): transactions} of one day, in order."""
    instants = _instants(day)
    counted = {}
    for code, hours in _hours_of_day(plan, day):
        for hour, count, open_minutes, rng in hours:
            spread: dict[int, int] = defaultdict(int)
            for _ in range(count):  # a Poisson count spread uniformly: a Poisson process
                spread[open_minutes[rng.randrange(len(open_minutes))]] += 1
            for minute in sorted(spread):
                counted[(code, instants[minute])] = spread[minute]
    return counted


def hour_counts(plan: Plan, day: jdatetime.date) -> dict[tuple[str, datetime], int]:
    """{(office code, the Tehran hour's start as a UTC instant): transactions} of one day:
    `minute_counts` of that day added up by hour, drawn without spreading them."""
    instants = _instants(day)
    return {(code, instants[hour * 60]): count
            for code, hours in _hours_of_day(plan, day, spread=False) for hour, count, _, _ in hours if count}


def events(plan: Plan, day: jdatetime.date) -> list[dict]:
    """The day as the platform's feed sends it: `{"office_code", "at", "count"}` per office and
    minute with any transaction, `at` in Tehran's time with its offset."""
    return [{"office_code": code, "at": minute.astimezone(calendar.TEHRAN).isoformat(), "count": count}
            for (code, minute), count in minute_counts(plan, day).items()]


def _hours_of_day(plan: Plan, day: jdatetime.date, spread: bool = True):
    """(code, [(Tehran hour, count, its minutes open, the rng spreading them)]) per office open
    on `day`. The counts are drawn from the office's day's own rng; the spreading from another,
    so that the hours are the same whether the minutes are wanted or not."""
    end = day_end(plan, day)
    if end is None:
        return
    cut = [s for s in plan.outages if s.day == day]
    closed: dict[str, list[Silence]] = defaultdict(list)
    for closure in plan.closures:
        if closure.day == day:
            closed[closure.code].append(closure)
    factor = WEEKDAY_FACTOR[calendar.weekday(day)] * (NOWRUZ_FACTOR if NOWRUZ[0] <= day <= NOWRUZ[1] else 1.0)
    key = calendar.format_date(day)
    for code, office in plan.offices.items():
        rng = random.Random(f"{plan.seed}:{code}:{key}")
        today = factor * rng.uniform(*DAY_FACTOR)
        opens = 8 * 60 + office.opens + rng.randint(-OPENS_JITTER, OPENS_JITTER)
        closes = end + office.closes
        silences = cut + closed.get(code, [])
        spreader = random.Random(f"{plan.seed}:{code}:{key}:minutes") if spread else None
        hours = []
        for hour in range(opens // 60, math.ceil(closes / 60)):
            share = PROFILE.get(hour, 0.0)
            first, end_ = max(opens, hour * 60), min(closes, hour * 60 + 60)
            open_minutes = range(first, end_)
            if any(s.start < end_ and s.end > first for s in silences):
                open_minutes = [m for m in open_minutes if not any(s.covers(m) for s in silences)]
            count = poisson(rng, office.rate * share * today * len(open_minutes) / 60)
            hours.append((hour, count, open_minutes, spreader))
        yield code, hours


def _instants(day: jdatetime.date) -> list[datetime]:
    """Each minute of a Tehran day as a UTC instant (through tzdata: a day of a shifted clock
    would be right too)."""
    gregorian = calendar.to_gregorian(day)
    return [datetime.combine(gregorian, time(m // 60, m % 60), calendar.TEHRAN).astimezone(UTC) for m in range(1440)]


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by Knuth's products of uniforms, in steps of at most 30 (e^-30 is still
    a plain float; the sum of Poisson draws is a Poisson draw)."""
    count = 0
    while mean > 0:
        step = min(mean, 30.0)
        mean -= step
        limit, product = math.exp(-step), rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
    return count
