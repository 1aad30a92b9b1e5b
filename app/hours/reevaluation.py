"""The hook that re-judges open flags when mandated hours change.

Every published, changed or withdrawn rule, and every added or cancelled holiday, calls
`reevaluate_open_flags` in the same transaction as the change, so that a flag never
outlives the rule that raised it: the reports of every open case are judged again, and a
case that no longer holds is withdrawn with the reason (app.services.violations).
"""

from app.extensions import db
from app.models import HoursChange


def reevaluate_open_flags(change: HoursChange) -> int:
    """Re-judge the open flags the change may affect; returns how many reports were re-judged.

    Every open case is re-judged, not only those on the changed rule's days: open cases are
    few (a Nowruz has a few hundred), and a rule's reach (scope, exemptions, precedence over
    other rules) is simplest to get right by asking the question again."""
    from app.services.violations import rejudge_open_cases

    db.session.flush()
    return rejudge_open_cases()
