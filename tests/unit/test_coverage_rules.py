"""How an office is drawn and how a period is read: pure functions, no database."""

from datetime import timedelta
from unittest import mock

import pytest

from app.errors import Problem
from app.hours import calendar
from app.services import coverage
from app.services.coverage import mark, percent, period_of


@pytest.mark.parametrize(("visits", "last_state", "open_cases", "expected"), [
    (0, None, 0, "not_visited"),
    (0, "closed", 0, "not_visited"),  # found closed before the period: not visited in it
    (2, "closed", 1, "case_open"),
    (1, "open", 1, "case_open"),  # an undecided case outranks a later open finding
    (1, "closed", 0, "closed"),
    (1, "open_not_serving", 0, "closed"),
    (1, "permanently_closed", 0, "closed"),
    (3, "open", 0, "open"),
    (1, "relocated", 0, "other"),
    (1, "inaccessible", 0, "other"),
])
def test_an_office_is_marked_by_its_strongest_finding(visits, last_state, open_cases, expected):
    assert mark(visits, last_state, open_cases) == expected


def test_coverage_is_a_percentage_to_one_decimal_and_none_without_offices():
    assert percent(2, 3) == 66.7 and percent(0, 5) == 0.0 and percent(5, 5) == 100.0
    assert percent(0, 0) is None


def test_a_period_runs_from_tehran_midnight_to_the_next_midnight_after_its_last_day():
    period = period_of(calendar.parse_date("1405-01-01"), calendar.parse_date("1405-01-01"))
    assert period.start.isoformat() == "2026-03-21T00:00:00+03:30"
    assert period.end - period.start == timedelta(days=1)


def test_the_period_defaults_to_30_days_ending_today_and_must_not_run_backwards():
    day = calendar.parse_date("1405-02-10")
    with mock.patch.object(coverage, "today", return_value=day):
        assert period_of(None, None) == coverage.Period(calendar.parse_date("1405-01-12"), day)
        assert period_of(calendar.parse_date("1405-02-01"), None).last == day
        assert period_of(None, calendar.parse_date("1405-01-30")).first == calendar.parse_date("1405-01-01")
    with pytest.raises(Problem) as error:
        period_of(calendar.parse_date("1405-02-02"), calendar.parse_date("1405-02-01"))
    assert set(error.value.errors) == {"from", "to"}
