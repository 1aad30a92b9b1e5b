"""The Jalali calendar as people type it: digits, separators, leap years, impossible dates."""

from datetime import date, datetime, time, timedelta, timezone

import jdatetime
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.hours import calendar
from schemas.normalize import ascii_digits, persian_digits

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@given(st.dates(min_value=date(1925, 3, 21), max_value=date(2100, 12, 31)))
def test_gregorian_to_jalali_text_and_back_round_trips(day):
    text = calendar.format_date(calendar.from_gregorian(day))
    assert calendar.to_gregorian(calendar.parse_date(text)) == day


@given(st.dates(min_value=date(1925, 3, 21), max_value=date(2100, 12, 31)))
def test_every_way_of_writing_a_date_reads_the_same(day):
    jalali = calendar.from_gregorian(day)
    canonical = calendar.format_date(jalali)
    loose = f"{jalali.year}/{jalali.month}/{jalali.day}"
    for text in (canonical, loose, persian_digits(canonical), loose.translate(ARABIC)):
        assert calendar.parse_date(text) == jalali


@given(st.text(alphabet="0123456789:-/. abc", max_size=20))
def test_digit_normalisation_round_trips(text):
    assert ascii_digits(persian_digits(text)) == text
    assert ascii_digits(text.translate(ARABIC)) == text


@pytest.mark.parametrize(("text", "why"), [
    ("1405-13-01", "no month 13"),
    ("1405-00-10", "no month 0"),
    ("1404-12-30", "1404 is not a leap year"),
    ("1405-07-31", "it has 30 days"),
    ("1405-01-00", "no day 0"),
    ("05-01-1405", "YYYY-MM-DD"),
    ("tomorrow", "YYYY-MM-DD"),
])
def test_impossible_dates_are_refused_with_the_reason(text, why):
    with pytest.raises(calendar.CalendarError, match=why):
        calendar.parse_date(text)


def test_leap_years_follow_the_official_calendar():
    assert calendar.parse_date("1403-12-30") == jdatetime.date(1403, 12, 30)
    assert calendar.to_gregorian(calendar.parse_date("1403-12-30")) == date(2025, 3, 20)
    assert [y for y in range(1399, 1413) if calendar.is_leap(y)] == [1399, 1403, 1408, 1412]


@pytest.mark.parametrize(("text", "expected"), [
    ("08:00", time(8, 0)), ("8:00", time(8, 0)), ("۸:۰۰", time(8, 0)),
    ("١٦:٣٠", time(16, 30)), ("16:30:59", time(16, 30, 59)), ("0:00", time(0, 0)),
])
def test_times_are_read_in_any_digits(text, expected):
    assert calendar.parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "8", "08:60", "8.30", "", "-1:00"])
def test_impossible_times_are_refused(text):
    with pytest.raises(calendar.CalendarError):
        calendar.parse_time(text)


def test_nowruz_day_five_at_eight_is_four_thirty_utc():
    instant = calendar.tehran_instant(calendar.parse_date("1405-01-05"), time(8, 0))
    assert instant.isoformat() == "2026-03-25T08:00:00+03:30"
    assert instant.astimezone(timezone.utc).hour == 4 and instant.astimezone(timezone.utc).minute == 30


def test_the_jalali_day_of_an_instant_is_reckoned_in_tehran():
    # 22:00 UTC on 24 March is 01:30 on 25 March in Tehran (already 1405-01-05);
    # 20:00 UTC is 23:30 on 24 March, still 1405-01-04.
    instant = datetime(2026, 3, 24, 22, 0, tzinfo=timezone.utc)
    assert calendar.format_date(calendar.tehran_day(instant)) == "1405-01-05"
    assert calendar.format_date(calendar.tehran_day(instant - timedelta(hours=2))) == "1405-01-04"


def test_the_week_starts_on_saturday_and_friday_is_the_weekend():
    assert calendar.weekday(calendar.parse_date("1405-01-01")) == "sat"  # 21 March 2026
    assert calendar.weekday(calendar.parse_date("1405-01-07")) == "fri"


def test_wire_fields_read_any_digits_and_write_canonical_forms():
    import marshmallow as ma

    from schemas.fields import ClockTime, JalaliDate

    schema = ma.Schema.from_dict({"date": JalaliDate(), "start": ClockTime()})()
    loaded = schema.load({"date": "۱۴۰۵/۱/۵", "start": "۸:۰۰"})
    assert schema.dump(loaded) == {"date": "1405-01-05", "start": "08:00"}
    with pytest.raises(ma.ValidationError) as error:
        schema.load({"date": "1404-12-30", "start": "25:00"})
    assert "not a leap year" in error.value.messages["date"][0]
    assert "start" in error.value.messages
