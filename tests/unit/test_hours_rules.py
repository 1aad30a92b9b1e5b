"""Precedence of mandated-hours rules, holidays and boundaries: table-driven, no database."""

from datetime import datetime, time, timedelta

import pytest

from app.hours.calendar import TEHRAN, parse_date, tehran_instant
from app.hours.rules import (DateSpan, OfficeFacts, Rule, RuleError, Scope, Window, check_windows, day_hours,
                             must_be_open, parse_span)

HUB = OfficeFacts(id="hub-6", district=6, category="permit_hub")
PLAIN = OfficeFacts(id="plain-6", district=6, category="standard")
ELSEWHERE = OfficeFacts(id="plain-7", district=7, category="standard")
EVERY_YEAR = DateSpan(None, (1, 1), (12, 30))
T0 = datetime(2026, 1, 1, tzinfo=TEHRAN)


def rule(id_, scope, kind="open", windows=((8, 0, 16, 0),), span=EVERY_YEAR, published=0, **extra):
    return Rule(id=id_, name=id_, scope=Scope.parse(scope), span=span, kind=kind,
                windows=tuple(Window(time(a, b), time(c, d)) for a, b, c, d in windows) if kind == "open" else (),
                published_at=T0 + timedelta(days=published), **extra)


REGULAR = rule("regular", "city", weekdays=frozenset({"sat", "sun", "mon", "tue", "wed"}))
THURSDAY_OFF = rule("thursday-off", "city", "closed", weekdays=frozenset({"thu"}), published=1)
ENERGY_SAVING = rule("energy-saving", "city", "closed", span=parse_span("1405-02-01", "1405-02-01"),
                     published=30, exempt_categories=frozenset({"permit_hub"}))
DISTRICT_6_LATE = rule("d6-late", "district:6", windows=((10, 0, 18, 0),), published=2)
OFFICE_SHORT = rule("hub-short", "office:hub-6", windows=((9, 0, 12, 0),), published=1)
NOWRUZ = rule("nowruz", "city", windows=((8, 0, 16, 30),), span=parse_span("1405-01-05", "1405-01-09"),
              published=60, on_holidays=True)
EARLY_OPEN = rule("early-open", "city", windows=((7, 0, 15, 0),), span=parse_span("1405-02-01", "1405-02-01"),
                  published=10)
LATE_CLOSE = rule("late-close", "city", "closed", span=parse_span("1405-02-01", "1405-02-01"), published=20)

# (case, office, Jalali day, rules, holidays, expected winner id or None, expected windows)
CASES = [
    ("a weekday follows the regular schedule", PLAIN, "1405-02-05", [REGULAR], (), "regular", [(8, 0, 16, 0)]),
    ("Friday has no rule", PLAIN, "1405-02-04", [REGULAR], (), None, []),
    ("office beats district beats city", HUB, "1405-02-05", [REGULAR, DISTRICT_6_LATE, OFFICE_SHORT], (),
     "hub-short", [(9, 0, 12, 0)]),
    ("district beats city", PLAIN, "1405-02-05", [REGULAR, DISTRICT_6_LATE, OFFICE_SHORT], (),
     "d6-late", [(10, 0, 18, 0)]),
    ("a district rule does not reach another district", ELSEWHERE, "1405-02-05", [REGULAR, DISTRICT_6_LATE], (),
     "regular", [(8, 0, 16, 0)]),
    ("a later closure beats an earlier opening at the same scope", PLAIN, "1405-02-01",
     [EARLY_OPEN, LATE_CLOSE], (), "late-close", []),
    ("order of the rules list does not matter", PLAIN, "1405-02-01",
     [LATE_CLOSE, EARLY_OPEN], (), "late-close", []),
    ("a general closure closes an ordinary office", PLAIN, "1405-02-01", [REGULAR, ENERGY_SAVING], (),
     "energy-saving", []),
    ("an exempt category stays open through a general closure", HUB, "1405-02-01", [REGULAR, ENERGY_SAVING], (),
     "regular", [(8, 0, 16, 0)]),
    ("a holiday closes the day", PLAIN, "1405-03-06", [REGULAR], ("عید سعید قربان",), None, []),
    ("a rule marked on_holidays opens a holiday", PLAIN, "1405-01-05", [REGULAR, NOWRUZ], ("test holiday",),
     "nowruz", [(8, 0, 16, 30)]),
    ("Nowruz hours beat the Thursday closure (published later)", PLAIN, "1405-01-06",
     [REGULAR, THURSDAY_OFF, NOWRUZ], (), "nowruz", [(8, 0, 16, 30)]),
    ("Thursday closure outside Nowruz", PLAIN, "1405-01-20", [REGULAR, THURSDAY_OFF, NOWRUZ], (),
     "thursday-off", []),
    ("a dated rule does not apply in another year", PLAIN, "1406-01-05", [THURSDAY_OFF, NOWRUZ], (),
     "thursday-off", []),
    ("an every-year Esfand 30 exists only in leap years", PLAIN, "1403-12-30",
     [rule("esfand-30", "city", span=parse_span("12-30", "12-30"))], (), "esfand-30", [(8, 0, 16, 0)]),
]


@pytest.mark.parametrize(("office", "day", "rules", "holidays", "winner", "windows"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_precedence(office, day, rules, holidays, winner, windows):
    hours = day_hours(office, parse_date(day), rules, holidays)
    assert (hours.rule.id if hours.rule else None) == winner
    assert [(w.start.hour, w.start.minute, w.end.hour, w.end.minute) for w in hours.windows] == windows
    assert hours.reason


def test_overruled_rules_are_listed_for_the_explanation():
    hours = day_hours(HUB, parse_date("1405-02-05"), [REGULAR, DISTRICT_6_LATE, OFFICE_SHORT])
    assert [r.id for r in hours.overruled] == ["d6-late", "regular"]


@pytest.mark.parametrize(("clock", "expected"), [
    (time(7, 59, 59), False), (time(8, 0, 0), True), (time(16, 29, 59), True), (time(16, 30, 0), False),
])
def test_the_window_is_half_open_start_included_end_excluded(clock, expected):
    day = parse_date("1405-01-05")
    answer = must_be_open(PLAIN, tehran_instant(day, clock), [NOWRUZ], lambda d: ())
    assert answer.must_be_open is expected
    assert answer.hours.rule.id == "nowruz"


def test_an_instant_is_judged_on_tehran_time_whatever_its_offset():
    # 04:30 UTC on 25 March 2026 is 08:00 in Tehran, 1405-01-05.
    utc = datetime.fromisoformat("2026-03-25T04:30:00+00:00")
    assert must_be_open(PLAIN, utc, [NOWRUZ], lambda d: ()).must_be_open
    assert not must_be_open(PLAIN, utc - timedelta(seconds=1), [NOWRUZ], lambda d: ()).must_be_open


@pytest.mark.parametrize(("date_from", "date_to", "field", "why"), [
    ("1405-01-09", "1405-01-05", "date_to", "before"),
    ("1405-12-25", "1406-01-05", "date_to", "one Jalali year"),
    ("1404-12-30", "1404-12-30", "date_from", "not a leap year"),
    ("13-01", "13-05", "date_from", "no month 13"),
    ("07-31", "07-31", "date_from", "never has a day 31"),
    ("01-05", "1405-01-09", "date_from", "YYYY-MM-DD"),
])
def test_impossible_date_spans_name_the_field_and_why(date_from, date_to, field, why):
    with pytest.raises(RuleError, match=why) as error:
        parse_span(date_from, date_to)
    assert error.value.field == field


def test_date_spans_accept_any_digits_and_slashes():
    assert parse_span("۱۴۰۵/۱/۵", "1405/01/09") == DateSpan(1405, (1, 5), (1, 9))
    assert parse_span("٠١-٠٥", "1/9") == DateSpan(None, (1, 5), (1, 9))


@pytest.mark.parametrize(("kind", "windows", "why"), [
    ("open", [], "at least one window"),
    ("closed", [Window(time(8), time(9))], "no windows"),
    ("open", [Window(time(16, 30), time(8))], "start must be before the end"),
    ("open", [Window(time(8), time(12)), Window(time(11), time(14))], "overlap"),
    ("ajar", [], "open or closed"),
])
def test_bad_windows_are_refused(kind, windows, why):
    with pytest.raises(RuleError, match=why):
        check_windows(kind, windows)


@pytest.mark.parametrize("text", ["district:23", "district:x", "office:", "town", "category"])
def test_unknown_scopes_are_refused(text):
    with pytest.raises(ValueError):
        Scope.parse(text)


def test_scopes_read_any_digits():
    assert str(Scope.parse("district:۶")) == "district:6"
