"""Evidence time and clock skew (DESIGN §5.3): when did the inspector really see the office?

A phone's clock may be hours wrong; a wrong clock must never make or hide a violation.
The GPS fix carries satellite time, so it is trusted when it is plausible: recent, and
close to the phone's own (corrected) time. A fix far from it is not the evidence time;
the judge marks the report when the two disagree about the mandated window. Otherwise the
device time is corrected by the skew measured at push time (server receive time minus the
phone's `sent_at`) when that skew is over two minutes: the phone's clock error is assumed
the same at observation and at push, which holds for a clock set wrong (the usual case).
"""

from datetime import datetime, timedelta

SKEW_THRESHOLD_S = 120.0
GPS_FUTURE_TOLERANCE = timedelta(minutes=2)
GPS_MAX_AGE = timedelta(days=7)  # a report pushed after a week offline is still plausible
# A fix further than this from the (skew-corrected) observation is not of it: a cached
# fix, a wrong one, or a hostile one. Minutes, not hours (DESIGN §6): a fix hours away
# used to override a correct clock, making or hiding a violation.
GPS_MAX_GAP = timedelta(minutes=10)


def clock_skew_s(received_at: datetime, sent_at: datetime) -> float:
    """Server receive time minus the phone's send time, in seconds (positive: phone is slow)."""
    return round((received_at - sent_at).total_seconds(), 3)


def evidence_time(observed_at: datetime, gps_fix_at: datetime | None, skew_s: float,
                  received_at: datetime) -> tuple[datetime, str]:
    """(instant, source) with source `gps`, `corrected_device` or `device`."""
    corrected = observed_at + timedelta(seconds=skew_s) if abs(skew_s) > SKEW_THRESHOLD_S else observed_at
    if gps_fix_at is not None and _plausible_fix(gps_fix_at, corrected, received_at):
        return gps_fix_at, "gps"
    if abs(skew_s) > SKEW_THRESHOLD_S:
        return corrected, "corrected_device"
    return observed_at, "device"


def _plausible_fix(fix: datetime, corrected_observation: datetime, received_at: datetime) -> bool:
    return (received_at - GPS_MAX_AGE <= fix <= received_at + GPS_FUTURE_TOLERANCE
            and abs(fix - corrected_observation) <= GPS_MAX_GAP)


def corrected_edit_time(changed_at: datetime, skew_s: float) -> datetime:
    """An edit's time on the server's clock, for `latest_edit` comparisons."""
    return changed_at + timedelta(seconds=skew_s)
