"""The hours book: rules and holidays read once, and each office's hours decided once a day."""

from datetime import date, datetime

import jdatetime

from app.hours import calendar
from app.hours.rules import Answer, DayHours, OfficeFacts, Rule, Scope, Window, answer_at, day_hours, parse_span
from app.models import HoursRule, Office
from app.repositories import hours as repo


def to_rule(row: HoursRule) -> Rule:
    return Rule(
        id=str(row.id), name=row.name, scope=Scope.parse(row.scope),
        span=parse_span(*_span_texts(row)), kind=row.kind,
        windows=tuple(Window(calendar.parse_time(w["start"]), calendar.parse_time(w["end"])) for w in row.windows),
        weekdays=frozenset(row.weekdays), exempt_categories=frozenset(row.exempt_categories),
        on_holidays=row.on_holidays, published_at=row.published_at,
    )


def _span_texts(row: HoursRule) -> tuple[str, str]:
    prefix = "" if row.year is None else f"{row.year:04d}-"
    return f"{prefix}{row.from_month:02d}-{row.from_day:02d}", f"{prefix}{row.to_month:02d}-{row.to_day:02d}"


def office_facts(office: Office) -> OfficeFacts:
    return OfficeFacts(id=str(office.id), district=office.district, category=office.category)


class HoursBook:
    """Rules loaded once per Jalali year, holidays once per day, and each office's hours
    decided once per Tehran day, for the many questions of one request or transaction (a
    push: most of its reports share an office and a day; a re-judging: all of a case's
    reports do; the hours API, visit lists and rounds: many offices on one day).

    A book opened at a `day` answers `hours(office)` for that day."""

    def __init__(self, day: jdatetime.date | None = None):
        self.day = day
        self._local_day = None if day is None else calendar.to_gregorian(day)
        self._rules: dict[int, list[Rule]] = {}
        self._holidays: dict[str, tuple] = {}
        self._hours: dict[tuple, DayHours] = {}

    def rules(self, year: int) -> list[Rule]:
        if year not in self._rules:
            self._rules[year] = [to_rule(r) for r in repo.rules_in_force_for_year(year)]
        return self._rules[year]

    def holidays(self, day: jdatetime.date) -> tuple:
        key = calendar.format_date(day)
        if key not in self._holidays:
            self._holidays[key] = tuple(repo.holiday_titles_on(key))
        return self._holidays[key]

    def hours(self, office: Office, day: jdatetime.date | None = None) -> DayHours:
        if day is None:
            return self._decided(office, self._local_day, self.day)
        return self._decided(office, calendar.to_gregorian(day), day)

    def answer(self, office: Office, instant: datetime) -> Answer:
        return answer_at(self._decided(office, instant.astimezone(calendar.TEHRAN).date()), instant)

    def _decided(self, office: Office, local_day: date, day: jdatetime.date | None = None) -> DayHours:
        # All that an office's hours depend on, and its day in Tehran (as a Gregorian date:
        # jdatetime's dates are slow to hash).
        key = (office.id, office.district, office.category, local_day)
        hours = self._hours.get(key)
        if hours is None:
            day = calendar.from_gregorian(local_day) if day is None else day
            hours = self._hours[key] = day_hours(office_facts(office), day, self.rules(day.year), self.holidays(day))
        return hours
