"""The hook that re-judges open flags when mandated hours change.

Every published, changed or withdrawn rule, and every added or cancelled holiday, calls
`reevaluate_open_flags` in the same transaction as the change, so that a flag never
outlives the rule that raised it, nor a withdrawal the rule that caused it: the reports of
every undecided or withdrawn case, and closures in no case, are judged again
(app.services.violations.rejudge).
"""

from app.extensions import db
from app.models import HoursChange


def reevaluate_open_flags(change: HoursChange) -> int:
    """Re-judge the open flags the change may affect; returns how many reports were re-judged.

    Every undecided or withdrawn case is re-judged, and every closure in no case, not only
    those on the changed rule's days: they are few (a Nowruz has a few hundred), and a
    rule's reach (scope, exemptions, precedence over other rules) is simplest to get right
    by asking the question again."""
    from app.services.violations import rejudge

    db.session.flush()
    return rejudge()
