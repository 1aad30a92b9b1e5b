"""Schemathesis hooks for Bazres: what the OpenAPI document cannot say, made true of the
requests Schemathesis calls valid, so that a valid request the server refuses is a finding.

OpenAPI 3.0 has no way to say that one query parameter needs another (`within_m` needs
`near`; `lat` and `lon` go together; the hours are asked for a `date` or at an instant `at`,
which names its own day), that `from` comes before `to`, that Esfand 30th and February 29th
exist in leap years only, that a pull cursor is one the server issued, or that a WatermelonDB
migration spec is JSON. The descriptions say so; these hooks mend a
request Schemathesis generated as valid, and leave invalid ones alone.

tests/fuzz/test_openapi_fuzz.py imports them; for a run against a real server:

    SCHEMATHESIS_HOOKS=tests.fuzz.openapi_hooks schemathesis run http://…/api/v1/openapi.json
"""

import re

import schemathesis

from app.hours import calendar
from schemas import patterns
from schemas.fields import InstantError, read_instant
from schemas.normalize import ascii_digits

SOMEWHERE = {"lat": 35.7, "lon": 51.4}  # central Tehran
A_DAY = "1405-01-05"
JALALI_DATE = re.compile(patterns.whole(patterns.JALALI_DATE))
INSTANT = re.compile(patterns.whole(patterns.INSTANT))


@schemathesis.hook
def map_query(context, query):
    # The routing solver takes up to `budget_s` seconds by design; a tenth is enough here.
    if context.operation.path.endswith("/visit-list") and isinstance(query.get("budget_s"), int | float):
        query["budget_s"] = min(query["budget_s"], 0.1)
    return query


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.query is None:
        case.query = {}
    path, query = case.operation.path, case.query
    if path == "/api/v1/offices" and "within_m" in query:
        query.setdefault("near", f"{SOMEWHERE['lat']},{SOMEWHERE['lon']}")
    if path == "/api/v1/visit-list" and ("lat" in query) != ("lon" in query):
        query.update({name: query.get(name, value) for name, value in SOMEWHERE.items()})
    if path.endswith("/mandated-hours") and "at" in query:
        query.pop("date", None)  # the instant names its day; a date beside it must be that day
    elif path.endswith("/mandated-hours"):
        query.setdefault("date", A_DAY)
    for container in (query, case.body if isinstance(case.body, dict) else {}):
        for name, value in container.items():
            container[name] = not_a_leap_day(value)
    if path.startswith("/api/v1/coverage") and "from" in query and "to" in query:
        first, last = (calendar.parse_date(query[name]) for name in ("from", "to"))
        if first > last:
            query["from"], query["to"] = query["to"], query["from"]
    if path == "/api/v1/sync/pull" and isinstance(case.body, dict) and case.body.get("cursor"):
        case.body["cursor"] = None  # opaque: only a cursor the server issued is one
    if path == "/api/v1/sync/watermelon" and "migration" in query:
        query["migration"] = "null"  # WatermelonDB's migration spec is JSON, as the description says


def not_a_leap_day(value):
    """A Jalali date or instant the day before, if it is a leap day of a common year (its
    digits may be of any script, even mixed)."""
    if isinstance(value, str) and JALALI_DATE.match(value):
        try:
            calendar.parse_date(value)
        except calendar.CalendarError:
            return f"{ascii_digits(value).strip(patterns.BLANKS)[:4]}-12-29"
    if isinstance(value, str) and INSTANT.match(value):
        try:
            read_instant(value)
        except InstantError:
            return re.sub("-02-29([Tt ])", r"-02-28\1", ascii_digits(value), count=1)
    return value
