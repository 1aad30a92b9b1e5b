"""Judging one report (DESIGN §6): pure functions over plain data, no database.

A report is a finding when the office was found `closed` or `open_not_serving` while it was
mandated open at the report's evidence time. The finding is sound when the phone was within
200 m of the office, its fix was better than 100 m, and its clock is explained; then it is
`closed_during_mandated_hours`. A finding with weaker evidence is `needs_verification`: the
committee must not punish an office for a GPS fix two streets away. Every verdict carries
its findings: each a stable code with its parameters, which a page words in Persian, and the
same in English words (the API's `reasons`, kept for the clients that read them).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# What a visit finds that counts as found closed: the states a closure is judged on (the
# coverage map counts the same).
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


# Every finding code, with its parameters: the OpenAPI document lists them, and the committee
# page has a Persian sentence for each (tests/violations/test_findings.py checks both).
CODES = {
    "found_state": "found in `state`, which is not a closure (`state`)",
    "found_closed_not_mandated": "found `state` (closed or open_not_serving), but no opening was mandated then "
                                 "(`state`, `hours`)",
    "found_closed_while_mandated": "found `state` (closed or open_not_serving) while mandated open (`state`, `hours`)",
    "evidence_sound": "the evidence holds: phone `distance_m` m from the office, fix ±`accuracy_m` m, time from "
                      "`time_source` (`distance_m`, `accuracy_m`, `time_source`)",
    "no_position": "no phone position: nothing shows the inspector was at the office",
    "too_far": "phone `distance_m` m from the office, over `max_m` m (`distance_m`, `max_m`)",
    "no_accuracy": "no GPS accuracy given",
    "poor_accuracy": "GPS fix ±`accuracy_m` m, not under `max_m` m (`accuracy_m`, `max_m`)",
    "clock_unexplained": "phone clock off by `skew_h` hours with no GPS time to confirm it (`skew_h`)",
    "evidence_after_receipt": "the evidence time is after the report reached the server",
    "gps_time_disagrees": "the GPS time disagrees with the corrected device time about the mandated window",
    "no_report_left": "no report is left in the case (a withdrawal's reason)",
}
HOURS_DOC = ("`hours` says what decided the day's hours: {basis: rule, rule, scope (city, district:N, "
             "category:C, office:ID), windows [\"HH:MM–HH:MM\"] (empty: closed by the rule), on_holiday}, "
             "{basis: holiday, holidays [titles]} or {basis: none}")


@dataclass(frozen=True)
class Finding:
    """One reason of a verdict: a stable code (CODES) and its parameters, for people to read in
    their own language, and the same in English words."""

    code: str
    params: dict
    text: str

    def as_dict(self) -> dict:
        return {"code": self.code, "params": self.params, "text": self.text}


@dataclass(frozen=True)
class Verdict:
    flag: str | None  # SOUND, WEAK or None
    findings: list[Finding] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [f.text for f in self.findings]

    @property
    def flags(self) -> list[str]:
        return [self.flag] if self.flag else []


GPS_DISAGREES = Finding("gps_time_disagrees", {}, "the GPS fix time, far from the phone's own time, falls on the "
                        "other side of the mandated hours: judged on the phone's time, to be verified")


def judge(evidence: Evidence, must_be_open: bool, hours_reason: str, hours: dict | None = None,
          gps_must_be_open: bool | None = None) -> Verdict:
    """The verdict on one report, given whether the office had to be open at its evidence time
    and why (`hours_reason` in words, `hours` as data: app.hours.rules.DayHours.basis), and,
    for a report whose GPS fix time was not taken as its evidence time (too far from the
    phone's corrected time), whether it had to be open at that fix time."""
    state = evidence.office_state
    if state not in CLOSED_STATES:
        return Verdict(None, [Finding("found_state", {"state": state}, f"found {state}")])
    basis = {"state": state, "hours": hours or {"basis": "none"}}
    gps_disagrees = gps_must_be_open is not None and gps_must_be_open != must_be_open
    if not must_be_open:
        found = Finding("found_closed_not_mandated", basis,
                        f"found {state}, but no opening was mandated then: {hours_reason}")
        # Neither time can be trusted over the other: not a finding, not nothing either.
        return Verdict(WEAK, [found, GPS_DISAGREES]) if gps_disagrees else Verdict(None, [found])
    findings = [Finding("found_closed_while_mandated", basis, f"found {state} while mandated open: {hours_reason}")]
    weak = _weaknesses(evidence) + ([GPS_DISAGREES] if gps_disagrees else [])
    if weak:
        return Verdict(WEAK, findings + weak)
    distance, accuracy = round(evidence.distance_to_office_m), round(evidence.accuracy_m)
    return Verdict(SOUND, findings + [Finding(
        "evidence_sound", {"distance_m": distance, "accuracy_m": accuracy, "time_source": evidence.evidence_time_source},
        f"evidence sound: {distance} m from the office, fix ±{accuracy} m, time from {evidence.evidence_time_source}")])


def _weaknesses(evidence: Evidence) -> list[Finding]:
    out = []
    limit_m, fix_limit_m = round(MAX_DISTANCE_M), round(MAX_ACCURACY_M)
    if evidence.distance_to_office_m is None:
        out.append(Finding("no_position", {}, "no phone position: cannot show the inspector was at the office"))
    elif evidence.distance_to_office_m > MAX_DISTANCE_M:
        distance = round(evidence.distance_to_office_m)
        out.append(Finding("too_far", {"distance_m": distance, "max_m": limit_m},
                           f"phone {distance} m from the office (over {limit_m} m)"))
    if evidence.accuracy_m is None:
        out.append(Finding("no_accuracy", {}, "no GPS accuracy given"))
    elif evidence.accuracy_m >= MAX_ACCURACY_M:
        accuracy = round(evidence.accuracy_m)
        out.append(Finding("poor_accuracy", {"accuracy_m": accuracy, "max_m": fix_limit_m},
                           f"GPS accuracy ±{accuracy} m (must be under {fix_limit_m} m)"))
    if abs(evidence.clock_skew_s) >= MAX_EXPLAINED_SKEW.total_seconds() and evidence.evidence_time_source != "gps":
        hours = round(evidence.clock_skew_s / 3600, 1)
        out.append(Finding("clock_unexplained", {"skew_h": hours},
                           f"phone clock off by {hours:.1f} h with no GPS time to confirm it"))
    if evidence.evidence_time > evidence.received_at + FUTURE_TOLERANCE:
        out.append(Finding("evidence_after_receipt", {}, "evidence time is after the report reached the server"))
    return out
