"""Which rule decides an office's mandated hours on a day: pure functions over plain data.

The precedence, in full (README, "Mandated hours", has a worked example):

1. A rule applies to an office on a day when it is not withdrawn, its dates and weekdays
   cover the day, its scope takes in the office, and the office's category is not one
   the rule exempts (an exempt office falls through to the next rule, as if the rule
   were not there).
2. On an official holiday only rules marked `on_holidays` apply; with none, the holiday
   closes the day.
3. Of the rules that apply, the most specific scope wins
   (office > district > category > city); at the same scope the later-published rule
   wins (ties broken by id, so the answer never depends on load order).
4. The winner's windows are the hours the office must be open; a `closed` rule has none.
   Windows are half-open, [start, end): with 08:00–16:30 an office must be open at
   08:00:00 and at 16:29:59, and no longer at 16:30:00.
5. With no rule at all, nothing is mandated that day.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cached_property

import jdatetime

from app.hours.calendar import CalendarError, parse_date, tehran_day, weekday, WEEKDAYS, TEHRAN
from schemas.normalize import ascii_digits
from schemas.patterns import BLANK, BLANKS

SCOPE_RANK = {"city": 0, "category": 1, "district": 2, "office": 3}
KINDS = ("open", "closed")
_MONTH_DAY = re.compile(f"([0-9]{{1,2}}){BLANK}[-/]{BLANK}([0-9]{{1,2}})")


@dataclass(frozen=True, order=True)
class Window:
    start: time
    end: time

    def contains(self, clock: time) -> bool:
        return self.start <= clock < self.end


@dataclass(frozen=True)
class Scope:
    kind: str  # city, district, category, office
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> "Scope":
        kind, _, value = ascii_digits(str(text)).strip(BLANKS).partition(":")
        if kind == "city" and not value:
            return cls("city")
        if kind in ("district", "category", "office") and value and value[0] not in BLANKS:
            if kind == "district" and not (re.fullmatch("[0-9]+", value) and 1 <= int(value) <= 22):
                raise ValueError("A district scope is district:N with N from 1 to 22.")
            return cls(kind, str(int(value)) if kind == "district" else value)
        raise ValueError("Use city, district:N, category:NAME or office:ID.")

    def __str__(self) -> str:
        return self.kind if self.kind == "city" else f"{self.kind}:{self.value}"

    @property
    def rank(self) -> int:
        return SCOPE_RANK[self.kind]

    def takes_in(self, office: "OfficeFacts") -> bool:
        return (self.kind == "city"
                or (self.kind == "district" and self.value == str(office.district))
                or (self.kind == "category" and self.value == office.category)
                or (self.kind == "office" and self.value == str(office.id)))


@dataclass(frozen=True)
class DateSpan:
    """Jalali dates: a range within one year, or (year None) a month-day range every year."""

    year: int | None
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]

    def covers(self, day: jdatetime.date) -> bool:
        if self.year is not None and day.year != self.year:
            return False
        return self.start <= (day.month, day.day) <= self.end

    def __str__(self) -> str:
        fmt = lambda md: f"{md[0]:02d}-{md[1]:02d}"  # noqa: E731
        prefix = "" if self.year is None else f"{self.year:04d}-"
        return f"{prefix}{fmt(self.start)} … {prefix}{fmt(self.end)}"


def parse_span(date_from: str, date_to: str) -> DateSpan:
    """`1405-01-05`…`1405-01-09` (one year) or `01-05`…`01-09` (every year)."""
    a, b = ascii_digits(str(date_from)).strip(BLANKS), ascii_digits(str(date_to)).strip(BLANKS)
    if _MONTH_DAY.fullmatch(a) and _MONTH_DAY.fullmatch(b):
        start, end = _month_day(a, "date_from"), _month_day(b, "date_to")
        year = None
    else:
        first, last = _full_date(a, "date_from"), _full_date(b, "date_to")
        if first.year != last.year:
            raise RuleError("date_to", "A dated rule covers days of one Jalali year; make one rule per year.")
        year, start, end = first.year, (first.month, first.day), (last.month, last.day)
    if start > end:
        raise RuleError("date_to", "date_to is before date_from.")
    return DateSpan(year, start, end)


def _full_date(text: str, name: str) -> jdatetime.date:
    try:
        return parse_date(text)
    except CalendarError as exc:
        raise RuleError(name, f"{exc} (or give MM-DD on both sides for every year)") from exc


def _month_day(text: str, name: str) -> tuple[int, int]:
    month, day = map(int, _MONTH_DAY.fullmatch(text).groups())
    if not 1 <= month <= 12:
        raise RuleError(name, f"There is no month {month}: Jalali months are numbered 1 to 12.")
    longest = 31 if month <= 6 else 30  # Esfand 30 exists in leap years only
    if not 1 <= day <= longest:
        raise RuleError(name, f"Month {month} never has a day {day}.")
    return month, day


class RuleError(ValueError):
    """A rule that cannot be: names the field and says why."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def check_windows(kind: str, windows: list[Window]) -> tuple[Window, ...]:
    if kind not in KINDS:
        raise RuleError("kind", "Must be open or closed.")
    if kind == "closed" and windows:
        raise RuleError("windows", "A closed rule has no windows.")
    if kind == "open" and not windows:
        raise RuleError("windows", "An open rule needs at least one window, e.g. 08:00–16:30.")
    ordered = sorted(windows)
    for i, window in enumerate(ordered):
        if window.start >= window.end:
            raise RuleError("windows", f"{window.start:%H:%M}–{window.end:%H:%M}: the start must be before the end, "
                                       "within one day.")
        if i and ordered[i - 1].end > window.start:
            raise RuleError("windows", "Windows overlap; merge them into one.")
    return tuple(ordered)


def check_weekdays(days) -> frozenset[str]:
    unknown = [d for d in days if d not in WEEKDAYS]
    if unknown:
        raise RuleError("weekdays", f"Unknown weekday(s) {', '.join(map(str, unknown))}; use {', '.join(WEEKDAYS)}.")
    return frozenset(days)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    scope: Scope
    span: DateSpan
    kind: str
    windows: tuple[Window, ...] = ()
    weekdays: frozenset[str] = frozenset()  # empty: every day
    exempt_categories: frozenset[str] = frozenset()
    on_holidays: bool = False
    published_at: datetime = datetime.min.replace(tzinfo=TEHRAN)

    def applies(self, office: "OfficeFacts", day: jdatetime.date) -> bool:
        return (self.span.covers(day)
                and (not self.weekdays or weekday(day) in self.weekdays)
                and self.scope.takes_in(office)
                and office.category not in self.exempt_categories)


@dataclass(frozen=True)
class OfficeFacts:
    id: str
    district: int
    category: str


@dataclass(frozen=True)
class DayHours:
    """An office's mandated hours on one Jalali day, and what decided them."""

    day: jdatetime.date
    windows: tuple[Window, ...]
    rule: Rule | None
    holidays: tuple[str, ...] = ()
    overruled: tuple[Rule, ...] = field(default=())  # rules that applied but lost

    @cached_property  # worded once: judging a push asks it of every report of the day
    def reason(self) -> str:
        if self.rule is not None:
            state = "closed" if not self.windows else "open " + ", ".join(
                f"{w.start:%H:%M}–{w.end:%H:%M}" for w in self.windows)
            extra = " (applies on holidays)" if self.holidays else ""
            return f"{state} by rule «{self.rule.name}» ({self.rule.scope}){extra}"
        if self.holidays:
            return "closed: official holiday (" + "؛ ".join(self.holidays) + ")"
        return "no rule mandates hours on this day"

    @cached_property
    def basis(self) -> dict:
        """What `reason` says, as data (a finding's `hours`, app.violations.judge.HOURS_DOC)."""
        if self.rule is not None:
            return {"basis": "rule", "rule": self.rule.name, "scope": str(self.rule.scope),
                    "windows": [f"{w.start:%H:%M}–{w.end:%H:%M}" for w in self.windows],
                    "on_holiday": bool(self.holidays)}
        if self.holidays:
            return {"basis": "holiday", "holidays": list(self.holidays)}
        return {"basis": "none"}

    def window_at(self, clock: time) -> Window | None:
        return next((w for w in self.windows if w.contains(clock)), None)


def day_hours(office: OfficeFacts, day: jdatetime.date, rules, holidays: tuple[str, ...] = ()) -> DayHours:
    """Decide an office's hours on a day from all rules and the day's holiday titles."""
    applicable = [r for r in rules if r.applies(office, day)]
    if holidays:
        applicable = [r for r in applicable if r.on_holidays]
    if not applicable:
        return DayHours(day, (), None, tuple(holidays))
    applicable.sort(key=lambda r: (r.scope.rank, r.published_at, r.id), reverse=True)
    winner = applicable[0]
    return DayHours(day, winner.windows, winner, tuple(holidays), tuple(applicable[1:]))


@dataclass(frozen=True)
class Answer:
    """Must the office be open at this instant, and why."""

    instant: datetime
    must_be_open: bool
    window: Window | None
    hours: DayHours


def must_be_open(office: OfficeFacts, instant: datetime, rules, holidays_on) -> Answer:
    """`holidays_on(day)` gives the holiday titles of a Jalali day (empty if none)."""
    day = tehran_day(instant)
    return answer_at(day_hours(office, day, rules, tuple(holidays_on(day))), instant)


def answer_at(hours: DayHours, instant: datetime) -> Answer:
    """The answer at an instant that falls on the day `hours` decides (in Tehran)."""
    window = hours.window_at(instant.astimezone(TEHRAN).time())
    return Answer(instant, window is not None, window, hours)
