"""What a change to the mandated hours can reach: its days, and their instants in Tehran.

Every published, changed or withdrawn rule, and every added or cancelled holiday, re-judges
the flags on these days in the same transaction as the change
(app.services.violations.reevaluate_open_flags), so that a flag never outlives the rule
that raised it, nor a withdrawal the rule that caused it.
"""

from datetime import datetime, time, timedelta

import jdatetime

from app.hours import calendar
from app.hours.calendar import month_length
from app.hours.rules import DateSpan, RuleError, parse_span


def affected_spans(change) -> list[DateSpan]:
    """The Jalali days a change (an HoursChange: its entity, and its before and after
    snapshots) can move a verdict on: the rule's dates before and after it (a rule's reach
    within them — scope, exemptions, precedence — is left to the judge, who asks the question
    again), or the holiday's date."""
    spans = []
    for state in (change.before, change.after):
        if not state:
            continue
        if change.entity == "holiday":
            day = jdatetime.date(*map(int, state["date"].split("-")))
            spans.append(DateSpan(day.year, (day.month, day.day), (day.month, day.day)))
        else:
            try:
                spans.append(parse_span(state["date_from"], state["date_to"]))
            except RuleError:  # a snapshot the rules of today would not take: reach everything
                return [DateSpan(None, (1, 1), (12, 30))]
    return spans


def day_bounds(span: DateSpan, year: int) -> tuple[jdatetime.date, jdatetime.date]:
    """The first and last day of a span in a Jalali year (Esfand 30 in a year without it: the 29th)."""
    (from_month, from_day), (to_month, to_day) = span.start, span.end
    return (jdatetime.date(year, from_month, min(from_day, month_length(year, from_month))),
            jdatetime.date(year, to_month, min(to_day, month_length(year, to_month))))


def tehran_instants(spans: list[DateSpan], years: range) -> list[tuple[datetime, datetime]]:
    """The first and last instant of the spans' days in Tehran: a dated span's in its year,
    an every-year span's in each of `years`."""
    ranges = []
    for span in spans:
        for year in [span.year] if span.year is not None else years:
            first, last = day_bounds(span, year)
            ranges.append((calendar.tehran_instant(first, time(0, 0)),
                           calendar.tehran_instant(last + timedelta(days=1), time(0, 0)) - timedelta(microseconds=1)))
    return ranges
