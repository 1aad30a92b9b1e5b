"""The hook that re-judges flags when mandated hours change.

Every published, changed or withdrawn rule, and every added or cancelled holiday, calls
`reevaluate_open_flags` in the same transaction as the change, so that a flag never
outlives the rule that raised it, nor a withdrawal the rule that caused it: the reports of
every undecided or withdrawn case, and closures in no case, on the days the change can
reach, are judged again (app.services.violations.rejudge).
"""

import jdatetime

from app.extensions import db
from app.hours.calendar import month_length
from app.hours.rules import DateSpan, RuleError, parse_span
from app.models import HoursChange


def affected_spans(change: HoursChange) -> list[DateSpan]:
    """The Jalali days the change can move a verdict on: the rule's dates before and after it
    (a rule's reach within them — scope, exemptions, precedence — is left to the judge, who
    asks the question again), or the holiday's date."""
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


def reevaluate_open_flags(change: HoursChange) -> int:
    """Re-judge the flags the change may affect; returns how many reports were re-judged."""
    from app.services.violations import rejudge

    db.session.flush()
    return rejudge(affected_spans(change))
