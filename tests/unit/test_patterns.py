"""Each pattern the OpenAPI document declares admits exactly what its parser takes: text drawn
from the pattern is read, and text drawn near it (other scripts' digits, other separators and
blanks, numbers out of range) is read if and only if the pattern admits it."""

import re

import marshmallow as ma
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.hours import calendar
from app.hours.rules import RuleError, Scope, parse_span
from schemas import patterns
from schemas.fields import Instant, InstantError, LatLon, read_instant

# Digits people type, and two scripts no one here types (Bengali, full-width), which Python's
# `\d` and int() would take.
DIGIT = "[0-9\u06f0-\u06f9\u0660-\u0669\u09e6-\u09ef\uff10-\uff19]"
BLANK = "[ \t\n\u00a0]?"  # and a no-break space, which is not a blank here


def near(regex: str):
    return st.from_regex(regex, fullmatch=True)


def drawn_from(pattern: str):
    return st.from_regex(patterns.whole(pattern), fullmatch=True)


# What a slip of the finger or another keyboard puts in place of a character.
SLIPS = "0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩১০０９-/.,:٫،٬ \t\n\u00a0TtZz+x"


@st.composite
def slipped(draw, pattern: str):
    """Text drawn from the pattern with a character or two replaced, added or dropped."""
    text = draw(drawn_from(pattern))
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(text)))
        slip = draw(st.sampled_from(SLIPS))
        how = draw(st.sampled_from(["replace", "insert", "drop"]))
        tail = text[at + 1:] if how != "insert" else text[at:]
        text = text[:at] + ("" if how == "drop" else slip) + tail
    return text


def reads(read, text) -> bool:
    try:
        read(text)
    except (calendar.CalendarError, InstantError, ma.ValidationError, RuleError, ValueError):
        return False
    return True


def admits(pattern: str, text: str) -> bool:
    return re.match(patterns.whole(pattern), text) is not None


def leap_day(read, text) -> bool:
    """The one date a pattern admits that a year may not have: Esfand 30, February 29."""
    try:
        read(text)
    except (calendar.CalendarError, InstantError, RuleError) as exc:  # (a rule's date says it as a RuleError)
        return "not a leap year" in str(exc) or "day is out of range" in str(exc.__cause__ or "")
    return False


DATES = near(f"{BLANK}{DIGIT}{{3,5}}{BLANK}[-/.]{BLANK}{DIGIT}{{1,3}}{BLANK}[-/.]{BLANK}{DIGIT}{{1,3}}{BLANK}")
TIMES = near(f"{BLANK}{DIGIT}{{1,3}}:{DIGIT}{{1,3}}(?::{DIGIT}{{1,3}})?{BLANK}")
INSTANTS = near(f"{BLANK}{DIGIT}{{4}}-{DIGIT}{{2}}-{DIGIT}{{2}}[Tt x]{DIGIT}{{2}}:{DIGIT}{{2}}"
                f"(?::{DIGIT}{{2}}(?:[.,]{DIGIT}{{1,8}})?)?(?:[Zz]|[-+]{DIGIT}{{2}}(?::?{DIGIT}{{2}}){{0,2}})?{BLANK}")
LAT_LONS = near(f"{BLANK}[-+]?{DIGIT}{{1,4}}(?:[.\u066b,]{DIGIT}{{1,3}})?{BLANK}[,\u060c\u066c;]{BLANK}"
                f"[-+]?{DIGIT}{{1,4}}(?:[.\u066b]{DIGIT}{{1,3}})?{BLANK}")
SCOPES = near(f"{BLANK}(?:city|district|category|office|City|zone):?(?:{DIGIT}{{0,3}}|[a-z_]{{0,4}}){BLANK}")


def read_lat_lon(text):
    lat, lon = LatLon().deserialize(text)
    assert -90 <= lat <= 90 and -180 <= lon <= 180


def read_rule_date(text):
    parse_span(text, text)


CASES = {
    "Jalali date": (patterns.JALALI_DATE, calendar.parse_date, DATES),
    "clock time": (patterns.CLOCK_TIME, calendar.parse_time, TIMES),
    "instant": (patterns.INSTANT, read_instant, INSTANTS),
    "lat,lon": (patterns.LAT_LON, read_lat_lon, LAT_LONS),
    "rule scope": (patterns.SCOPE, Scope.parse, SCOPES),
    "rule date": (f"(?:{patterns.JALALI_DATE}|{patterns.MONTH_DAY})", read_rule_date,
                  DATES | near(f"{BLANK}{DIGIT}{{1,3}}{BLANK}[-/.]{BLANK}{DIGIT}{{1,3}}{BLANK}")),
}


@pytest.mark.parametrize("what", CASES)
@given(data=st.data())
def test_text_drawn_from_a_declared_pattern_is_read(what, data):
    pattern, read, _ = CASES[what]
    text = data.draw(drawn_from(pattern), label="text")
    assert reads(read, text) or leap_day(read, text)


@pytest.mark.parametrize("what", CASES)
@given(data=st.data())
def test_text_near_a_declared_pattern_is_read_only_if_the_pattern_admits_it(what, data):
    pattern, read, near_it = CASES[what]
    text = data.draw(near_it | slipped(pattern), label="text")
    assert reads(read, text) == admits(pattern, text) or leap_day(read, text)


@pytest.mark.parametrize(("what", "text"), [
    ("Jalali date", "1405-01-05"), ("Jalali date", "۱۴۰۵/۱/۵"), ("Jalali date", "١٤٠٥-٠١-٠٥"),
    ("Jalali date", " 1403-12-30 "), ("clock time", "8:00"), ("clock time", "۱۶:۳۰:۵۹"),
    ("instant", "2026-03-25T08:15:03+03:30"), ("instant", "2026-03-25T04:45:03.250Z"),
    ("instant", "1900-01-01T03:25:44+03:25:44"), ("lat,lon", "35.7,51.4"), ("lat,lon", "۳۵٫۶۶۰۴،۵۱٫۴۲۰۱"),
    ("lat,lon", "-90,180.000"), ("rule scope", "district:6"), ("rule scope", "category:permit_hub"),
    ("rule date", "01-05"),
])
def test_what_people_write_is_admitted_and_read(what, text):
    pattern, read, _ = CASES[what]
    assert admits(pattern, text) and reads(read, text)


@pytest.mark.parametrize(("what", "text"), [
    ("Jalali date", ""), ("Jalali date", "0000-01-01"), ("Jalali date", "1277-12-29"), ("Jalali date", "1579-01-01"),
    ("Jalali date", "১৪০৫-০১-০৫"), ("Jalali date", "1405-07-31"), ("Jalali date", "1405-01-05\u00a0"),
    ("clock time", "24:00"), ("instant", "2026-03-25T08:15:03"), ("instant", "20260325T081503Z"),
    ("instant", "1899-12-31T23:00:00Z"), ("lat,lon", "95,51"), ("lat,lon", "1e1,5"), ("lat,lon", "nan,5"),
    ("rule scope", "district:23"), ("rule scope", "district:১"),
])
def test_what_no_one_should_write_is_refused_by_both(what, text):
    pattern, read, _ = CASES[what]
    assert not admits(pattern, text) and not reads(read, text)


def test_the_openapi_document_declares_these_patterns(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    declared = {p["name"]: p["schema"].get("pattern") for p in spec["paths"]["/api/v1/mandated-hours"]["get"]["parameters"]}
    assert declared["date"] == patterns.whole(patterns.JALALI_DATE)
    assert declared["at"] == Instant.OPENAPI["pattern"] == patterns.whole(patterns.INSTANT)
