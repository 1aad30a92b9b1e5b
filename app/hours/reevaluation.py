"""The hook that re-judges open flags when mandated hours change.

Every published, changed or withdrawn rule, and every added or cancelled holiday, calls
`reevaluate_open_flags` in the same transaction as the change, so that a flag never
outlives the rule that raised it. Flags and cases arrive with issue 5; until then there is
nothing to re-judge and the hook answers 0 (tested as such).
"""

from app.models import HoursChange


def reevaluate_open_flags(change: HoursChange) -> int:
    """Re-judge the open flags the change may affect; returns how many were re-judged."""
    return 0
