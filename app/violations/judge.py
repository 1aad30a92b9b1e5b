"""Judging one report (DESIGN §6): pure functions over plain data, no database.

A report is a finding when the office was found `closed` or `open_not_serving` while it was
mandated open at the report's evidence time. The finding is sound when the phone was within
200 m of the office, its fix was better than 100 m, and its clock is explained; then it is
`closed_during_mandated_hours`. A finding with weaker evidence is `needs_verification`: the
committee must not punish an office for a GPS fix two streets away. Every verdict carries
its reasons, in words a committee member can read.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

CLOSED_STATES = ("closed", "open_not_serving")
SOUND = "closed_during_mandated_hours"
WEAK = "needs_verification"
MAX_DISTANCE_M = 200.0
MAX_ACCURACY_M = 100.0
# A corrected clock is explained; one that is a day or more off, or that puts the
# observation after the report reached the server, is not.
MAX_EXPLAINED_SKEW = timedelta(hours=24)
FUTURE_TOLERANCE = timedelta(minutes=2)


@dataclass(frozen=True)
class Evidence:
    office_state: str
    evidence_time: datetime
    evidence_time_source: str
    clock_skew_s: float
    received_at: datetime
    distance_to_office_m: float | None
    accuracy_m: float | None


@dataclass(frozen=True)
class Verdict:
    flag: str | None  # SOUND, WEAK or None
    reasons: list[str] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        return [self.flag] if self.flag else []


GPS_DISAGREES = ("the GPS fix time, far from the phone's own time, falls on the other side of the mandated "
                 "hours: judged on the phone's time, to be verified")


def judge(evidence: Evidence, must_be_open: bool, hours_reason: str, gps_must_be_open: bool | None = None) -> Verdict:
    """The verdict on one report, given whether the office had to be open at its evidence time,
    and, for a report whose GPS fix time was not taken as its evidence time (too far from the
    phone's corrected time), whether it had to be open at that fix time."""
    if evidence.office_state not in CLOSED_STATES:
        return Verdict(None, [f"found {evidence.office_state}"])
    gps_disagrees = gps_must_be_open is not None and gps_must_be_open != must_be_open
    if not must_be_open:
        reason = f"found {evidence.office_state}, but no opening was mandated then: {hours_reason}"
        # Neither time can be trusted over the other: not a finding, not nothing either.
        return Verdict(WEAK, [reason, GPS_DISAGREES]) if gps_disagrees else Verdict(None, [reason])
    reasons = [f"found {evidence.office_state} while mandated open: {hours_reason}"]
    weak = _weaknesses(evidence) + ([GPS_DISAGREES] if gps_disagrees else [])
    if weak:
        return Verdict(WEAK, reasons + weak)
    return Verdict(SOUND, reasons + ["evidence sound: "
                                     f"{evidence.distance_to_office_m:.0f} m from the office, "
                                     f"fix ±{evidence.accuracy_m:.0f} m, time from {evidence.evidence_time_source}"])


def _weaknesses(evidence: Evidence) -> list[str]:
    out = []
    if evidence.distance_to_office_m is None:
        out.append("no phone position: cannot show the inspector was at the office")
    elif evidence.distance_to_office_m > MAX_DISTANCE_M:
        out.append(f"phone {evidence.distance_to_office_m:.0f} m from the office (over {MAX_DISTANCE_M:.0f} m)")
    if evidence.accuracy_m is None:
        out.append("no GPS accuracy given")
    elif evidence.accuracy_m >= MAX_ACCURACY_M:
        out.append(f"GPS accuracy ±{evidence.accuracy_m:.0f} m (must be under {MAX_ACCURACY_M:.0f} m)")
    if abs(evidence.clock_skew_s) >= MAX_EXPLAINED_SKEW.total_seconds() and evidence.evidence_time_source != "gps":
        out.append(f"phone clock off by {evidence.clock_skew_s / 3600:.1f} h with no GPS time to confirm it")
    if evidence.evidence_time > evidence.received_at + FUTURE_TOLERANCE:
        out.append("evidence time is after the report reached the server")
    return out
