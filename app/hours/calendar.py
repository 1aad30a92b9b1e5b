"""The Jalali calendar and Tehran's clock, as people type them and as the server reckons.

Pure functions, no database: every date a person reads or types is Jalali
(`1405-01-05`, `1405/1/5`, `۱۴۰۵/۰۱/۰۵`), every instant is reckoned in Asia/Tehran.
"""

import re
from functools import lru_cache
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import jdatetime

from schemas.normalize import ascii_digits
from schemas.patterns import BLANK, BLANKS, JALALI_YEARS

TEHRAN = ZoneInfo("Asia/Tehran")  # from tzdata: no fixed offset, DST rules as they were

MONTHS_FA = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
             "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
# jdatetime numbers weekdays from Saturday (0), the first day of the Iranian week.
WEEKDAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")

# Read after ascii_digits: ASCII digits only (`\d` would take any script's), blanks and
# separators as schemas.patterns declares them.
_DATE = re.compile(f"([0-9]{{4}}){BLANK}[-/]{BLANK}([0-9]{{1,2}}){BLANK}[-/]{BLANK}([0-9]{{1,2}})")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")


class CalendarError(ValueError):
    """A date or time that does not exist or cannot be read; the message says why."""


def is_leap(year: int) -> bool:
    return jdatetime.date(year, 1, 1).isleap()


def month_length(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if is_leap(year) else 29


def parse_date(text: str) -> jdatetime.date:
    """A Jalali date from `1405-01-05`, `1405/1/5` or the same in Persian or Arabic digits."""
    match = _DATE.fullmatch(ascii_digits(str(text)).strip(BLANKS))
    if not match:
        raise CalendarError("Write a Jalali date as YYYY-MM-DD, for example 1405-01-05.")
    year, month, day = map(int, match.groups())
    if not JALALI_YEARS[0] <= year <= JALALI_YEARS[1]:
        raise CalendarError(f"Give a year from {JALALI_YEARS[0]} to {JALALI_YEARS[1]}.")
    if not 1 <= month <= 12:
        raise CalendarError(f"There is no month {month}: Jalali months are numbered 1 to 12.")
    length = month_length(year, month)
    if not 1 <= day <= length:
        if month == 12 and day == 30:
            raise CalendarError(f"{year} is not a leap year: Esfand {year} has 29 days.")
        raise CalendarError(f"There is no day {day} in {MONTHS_FA[month - 1]} {year}: it has {length} days.")
    return jdatetime.date(year, month, day)


def parse_time(text: str) -> time:
    """A clock time from `08:00`, `8:00`, `۸:۰۰` or `١٦:٣٠` (seconds optional)."""
    match = _TIME.fullmatch(ascii_digits(str(text)).strip(BLANKS))
    if not match:
        raise CalendarError("Write a time as HH:MM, for example 08:00 or 16:30.")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise CalendarError(f"{text} is not a time of day: hours run 0–23, minutes and seconds 0–59.")
    return time(hour, minute, second)


def format_date(day: jdatetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def to_gregorian(day: jdatetime.date) -> date:
    return day.togregorian()


@lru_cache(maxsize=4096)
def from_gregorian(day: date) -> jdatetime.date:
    # Cached: judging a push of 500 reports asks for the same few days a thousand times,
    # and jdatetime's conversion costs more than the judging. Its dates are immutable, and
    # the locale they carry is only used by strftime, which nothing here calls.
    return jdatetime.date.fromgregorian(date=day)


def weekday(day: jdatetime.date) -> str:
    """`sat` … `fri`."""
    return WEEKDAYS[day.weekday()]


def tehran_day(instant: datetime) -> jdatetime.date:
    """The Jalali day an instant falls on in Tehran."""
    return from_gregorian(instant.astimezone(TEHRAN).date())


def tehran_instant(day: jdatetime.date, clock: time) -> datetime:
    """The instant of a Tehran wall-clock time on a Jalali day (tzdata: no fixed offset)."""
    return datetime.combine(to_gregorian(day), clock, tzinfo=TEHRAN)


def seconds_of_day(clock: time) -> int:
    """A wall-clock time as seconds since midnight (the routing solver's unit)."""
    return clock.hour * 3600 + clock.minute * 60 + clock.second
