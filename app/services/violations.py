"""Flags and violation cases: judging reports as they land, re-judging when the hours change,
and the committee's decisions (DESIGN §6)."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from app.database import utcnow
from app.errors import Problem, invalid
from app.hours import calendar
from app.hours.reevaluation import affected_spans, tehran_instants
from app.hours.rules import Answer, DateSpan
from app.models import CaseEvent, HoursChange, Office, Report, User, ViolationCase
from app.models.violations import OPEN_STATUSES
from app.repositories import cases as case_repo
from app.repositories import offices as office_repo
from app.repositories import reports as report_repo
from app.services import end_read, signals, unit_of_work
from app.services.hours_book import HoursBook
from app.services.report_versions import new_version
from app.services.visibility import Visibility
from app.violations.judge import CLOSED_STATES, SOUND, Evidence, Finding, Verdict, judge

# The cases re-judging looks at: the undecided, and the withdrawn, which a later change of
# the hours may bring back (DESIGN §6). Decided cases stay as the committee left them.
REJUDGED_STATUSES = (*OPEN_STATUSES, "withdrawn")
TRANSITIONS = {"open": {"under_review"}, "under_review": {"confirmed", "dismissed"}}
NO_REPORT_LEFT = Finding("no_report_left", {}, "no report left in the case")


def verdict_for(report, office: Office, book: HoursBook) -> tuple[Verdict, Answer | None]:
    """The verdict on a report, and the hours it was judged against: None for a report not
    found closed, whose verdict does not depend on them (most of a round's reports)."""
    evidence = Evidence(report.office_state, report.evidence_time, report.evidence_time_source,
                        report.clock_skew_s, report.received_at, report.distance_to_office_m, report.accuracy_m)
    if report.office_state not in CLOSED_STATES:
        return judge(evidence, False, ""), None
    answer = book.answer(office, report.evidence_time)
    # A fix time too far from the phone's own is not the evidence time, but it is not
    # ignored either: the judge marks the report when the two disagree (DESIGN §6).
    gps_open = None
    if report.gps_fix_at is not None and report.evidence_time_source != "gps":
        gps_open = book.answer(office, report.gps_fix_at).must_be_open
    return judge(evidence, answer.must_be_open, answer.hours.reason, answer.hours.basis, gps_open), answer


def _rule_of(answer: Answer) -> dict | None:
    rule = answer.hours.rule
    if rule is None:
        return {"kind": "holiday", "titles": list(answer.hours.holidays)} if answer.hours.holidays else None
    window = answer.window or (answer.hours.windows[0] if answer.hours.windows else None)
    return {"kind": "rule", "id": rule.id, "name": rule.name, "scope": str(rule.scope),
            "window": None if window is None else f"{window.start:%H:%M}–{window.end:%H:%M}"}


def file_report(report, office: Office, book: HoursBook, cases: dict | None = None) -> Verdict:
    """Judge a report that is landing and put it in its case: a flagged report opens or joins
    the case of its office and Jalali day; any other report joins an open case of that day as
    context. A report that joins raises the case's version (a decision based on the case as
    it was is then a 409), and a sound finding reopens a dismissed case, any finding a
    withdrawn one (DESIGN §6). Sets the report's flags, violation_id and locked (written by
    the caller)."""
    verdict, answer = verdict_for(report, office, book)
    report.flags = verdict.flags
    day = calendar.format_date(calendar.tehran_day(report.evidence_time))
    key = (office.id, day)
    case = cases.get(key) if cases is not None else case_repo.lock_on_day(office.id, day)
    if verdict.flag:
        if case is None:
            case = ViolationCase(id=uuid.uuid4(), office_id=office.id, district=office.district, jalali_date=day,
                                 kind=verdict.flag, status="open", rule=_rule_of(answer), version=1,
                                 opened_at=utcnow(), updated_at=utcnow(), decision_note="", **_grounds(verdict))
            case_repo.create(case)
            _event(case, "opened", None, {"report_id": str(report.id), **_grounds(verdict)})
        else:
            if verdict.flag == SOUND and case.kind != SOUND:
                case.kind = SOUND
                _set_grounds(case, verdict)
            _event(case, "joined", None, {"report_id": str(report.id), "flag": verdict.flag, **_grounds(verdict)})
            _touch(case)
            # New evidence moves the case: a sound finding reopens a dismissed case, any
            # finding a withdrawn one (the hours now hold again).
            if case.status == "dismissed" and verdict.flag == SOUND:
                _reopen(case, "under_review", "sound_finding_joined", report)
            elif case.status == "withdrawn":
                _reopen(case, "open", "finding_joined", report)
    elif case is not None and case.status in OPEN_STATUSES:
        _event(case, "context", None, {"report_id": str(report.id), **_grounds(verdict)})
        _touch(case)
    else:
        return verdict
    if cases is not None:
        cases[key] = case
    report.violation_id = case.id
    report.locked = True
    return verdict


def _touch(case: ViolationCase) -> None:
    """The case changed: a decision based on what a member saw before is now stale (409)."""
    case.version += 1
    case.updated_at = utcnow()


# Why a case was reopened: a stable code (the committee page words it in Persian) and English.
REOPENED_BY = {"sound_finding_joined": "a sound finding joined the dismissed case",
               "finding_joined": "a finding joined the withdrawn case",
               "hours_mandate_again": "the hours now mandate the office open again"}


def _reopen(case: ViolationCase, status: str, cause: str, report=None) -> None:
    """Back in the committee's queue; the earlier decision stays in the case's history."""
    detail = {"before": _brief(case), "status": status, "cause": cause, "reason": REOPENED_BY[cause]}
    if report is not None:
        detail["report_id"] = str(report.id)
    _event(case, "reopened", None, detail)
    case.status = status
    case.penalty = case.decided_by = case.decided_at = None
    case.decision_note = ""
    _touch(case)


def _grounds(verdict: Verdict) -> dict:
    """A verdict's reasons in English words and as findings (codes with parameters), as a
    case and its events keep them."""
    return {"reasons": verdict.reasons, "findings": [f.as_dict() for f in verdict.findings]}


def _set_grounds(case: ViolationCase, verdict: Verdict) -> None:
    grounds = _grounds(verdict)
    case.reasons, case.findings = grounds["reasons"], grounds["findings"]


def cases_for(pairs: set[tuple[uuid.UUID, str]]) -> dict:
    """The cases of these (office, Jalali day) pairs, in one query, locked (see case_repo.lock_on_days)."""
    return case_repo.lock_on_days(pairs)


def _event(case: ViolationCase, action: str, user: User | None, detail: dict) -> None:
    case_repo.create_event(CaseEvent(case=case, action=action, user_id=user.id if user else None, detail=detail,
                                     at=utcnow()))


# ---------------------------------------------------------------- re-judging


def reevaluate_open_flags(change: HoursChange) -> int:
    """The hook every change to the hours calls in its transaction: re-judge the flags the
    change may affect (app.hours.reevaluation); returns how many reports were re-judged."""
    return rejudge(affected_spans(change))


def rejudge(spans: list[DateSpan]) -> int:
    """Re-judge, against the hours as they now are, every report on the days of `spans`
    whose verdict the change may move: the reports of every undecided or withdrawn case, and
    the closures in no case (found on a day that was off then). A case no report upholds any
    longer is withdrawn with the reason; a withdrawn case upheld again is reopened; a
    closure newly flagged opens or joins its case. Every report whose flags or lock change
    gets a new version (a merge base its phone can update from). Returns the reports
    re-judged.

    Runs in the transaction of the change to the hours (called by reevaluate_open_flags),
    which holds the whole city's change-feed lock, so no push moves these reports meanwhile;
    limited to the change's days, that lock is held for what the change can reach, not for
    the whole history."""
    book = HoursBook()
    now = utcnow()
    cases = case_repo.lock_on_spans(spans, REJUDGED_STATUSES)
    # Closures in no case, on the spans' days: an every-year span's in each year from the
    # earliest closure's to next year.
    years = _years_with_closures() if any(span.year is None for span in spans) else range(0)
    reports = report_repo.list_to_rejudge(spans, REJUDGED_STATUSES, tehran_instants(spans, years))
    offices = {o.id: o for o in office_repo.get_many({r.office_id for r in reports})}
    changed: dict = {}
    by_case: dict = {case_id: [] for case_id in cases}
    outside: list = []
    for report in reports:
        verdict, answer = verdict_for(report, offices[report.office_id], book)
        if verdict.flags != list(report.flags):
            report.flags = verdict.flags
            changed[report.id] = report
        if report.violation_id is None:
            if verdict.flag:
                outside.append(report)
        else:
            by_case[report.violation_id].append((report, verdict, answer))
    for case_id, case in cases.items():
        for report in _rejudge_case(case, by_case[case_id]):
            changed[report.id] = report
    # After the cases: a closure filed now may join (and reopen) one of them.
    for report in outside:
        file_report(report, offices[report.office_id], book)
        changed[report.id] = report
    for report in changed.values():
        new_version(report, now)
    return len(reports)


def _rejudge_case(case: ViolationCase, judged: list) -> list:
    """Bring a case in line with its reports' new verdicts; returns the reports whose lock changed."""
    flagged = [(v, a) for _, v, a in judged if v.flag]
    reports = [r for r, _, _ in judged]
    if not flagged:
        if case.status == "withdrawn":
            return []
        finding = judged[0][1].findings[-1] if judged else NO_REPORT_LEFT
        case.status = "withdrawn"
        _touch(case)
        _event(case, "withdrawn", None, {"reason": f"no longer holds: {finding.text}",
                                         "findings": [finding.as_dict()]})
        unlocked = [r for r in reports if r.locked]
        for report in unlocked:
            report.locked = False
        return unlocked
    relocked = []
    if case.status == "withdrawn":
        _reopen(case, "open", "hours_mandate_again")
        relocked = [r for r in reports if not r.locked]
        for report in relocked:
            report.locked = True
    kind = SOUND if any(v.flag == SOUND for v, _ in flagged) else flagged[0][0].flag
    best = next((v, a) for v, a in flagged if v.flag == kind)
    if kind != case.kind or best[0].reasons != case.reasons:
        _event(case, "rejudged", None, {"kind": kind, **_grounds(best[0]), "before": {
            "kind": case.kind, "reasons": case.reasons, "findings": case.findings}})
        case.kind, case.rule = kind, _rule_of(best[1])
        _set_grounds(case, best[0])
        _touch(case)
    return relocked


# ---------------------------------------------------------------- the committee


EXPORT_BATCH = 200


def list_cases(user: User, filters: dict, page) -> tuple[list[ViolationCase], int]:
    visibility = Visibility.of(user)
    return case_repo.list_page(visibility.districts, visibility.author_id, filters, page.offset, page.limit)


def export_rows(user: User, filters: dict) -> Iterator[tuple[sa.Row, int]]:
    """The cases a user may see, each with its office and number of reports, for the CSV.

    The query is made now, from the user the request loaded; it runs as the rows are asked
    for, in the session of whoever reads them: a streamed answer reads them after the
    request's session is gone. They come EXPORT_BATCH at a time, each batch (with one query
    counting its reports) read in a short transaction of its own and picked up after the
    last row of the one before (keyset on the sort order): a download over 2G holds no
    connection, cursor or snapshot while its rows travel."""
    visibility = Visibility.of(user)
    return _batches(case_repo.export_query(visibility.districts, visibility.author_id, filters, EXPORT_BATCH))


def _batches(query) -> Iterator[tuple[sa.Row, int]]:
    after = None
    while True:
        batch = case_repo.list_export_batch(query, after)
        counts = report_repo.count_by_case([row.id for row in batch])
        end_read()  # nothing is held while these rows are sent
        yield from ((row, counts.get(row.id, 0)) for row in batch)
        if len(batch) < EXPORT_BATCH:
            return
        after = batch[-1]


@dataclass(frozen=True)
class CaseDetail:
    """A case with its evidence, as a user may see it, and its office's systemic-monitoring
    signals of that day beside it: context, never evidence (DESIGN §10b)."""

    case: ViolationCase
    office: Office
    reports: list[Report]
    events: list[CaseEvent]
    signals: list[dict]


def case_detail(user: User, case_id: uuid.UUID) -> CaseDetail:
    """A case the user may see, its office, its reports (an inspector sees only their own),
    its history, and the signals of its office and day (`signals.context_of`: one per
    mandated window, `no_data` where the feed says nothing; none on a day the hours mandate
    no window, or for an office outside the user's districts)."""
    visibility = Visibility.of(user)
    case = case_repo.get_visible(case_id, visibility.districts, visibility.author_id)
    if case is None:
        raise Problem("not-found", f"There is no case {case_id}, or it is not yours to see.")
    # Read before the rest: the signals may be worked out again first, which commits (the
    # day's activity, hours or field reports moved since), and the evidence is then read
    # after that commit, as it stands now.
    # An inspector is told which field report spoke only if it is their own.
    shown = None if visibility.author_id is None else {
        str(report.id) for report in report_repo.list_of_case(case.id, visibility.author_id)}
    day = calendar.parse_date(case.jalali_date)
    context = signals.context_of(case.office_id, day, shown) if visibility.covers(case.district) else []
    reports = report_repo.list_of_case(case.id, visibility.author_id)
    return CaseDetail(case, office_repo.get(case.office_id), reports, case_repo.list_events(case.id), context)


def decide(user: User, case_id: uuid.UUID, version: int, status: str, penalty: str | None, note: str):
    with unit_of_work():
        case = case_repo.lock(case_id)
        if case is None:
            raise Problem("not-found", f"There is no case {case_id}.")
        if case.version != version:
            raise Problem("stale-version", f"The case is at version {case.version}, not {version}: someone "
                                           "else acted on it first. Reload it.", current=_brief(case))
        if status not in TRANSITIONS.get(case.status, set()):
            allowed = ", ".join(sorted(TRANSITIONS.get(case.status, set()))) or "nothing (it is decided)"
            raise Problem("case-transition-forbidden",
                          f"A case that is {case.status} can go to {allowed}, not {status}.", current=_brief(case))
        if status == "confirmed" and penalty is None:
            raise invalid("penalty", "Confirming a case needs a penalty: none, warning, fine or suspension.")
        if status != "confirmed" and penalty not in (None, "none"):
            raise invalid("penalty", "Only a confirmed case carries a penalty.")
        before = _brief(case)
        case.status = status
        if status in ("confirmed", "dismissed"):
            case.penalty = penalty or "none"
            case.decision_note = note
            case.decided_by = user.id
            case.decided_at = utcnow()
        _touch(case)
        _event(case, "decided" if status != "under_review" else "under_review", user,
               {"before": before, "status": status, "penalty": case.penalty, "note": note})
    return case


def _brief(case: ViolationCase) -> dict:
    return {"id": str(case.id), "status": case.status, "version": case.version, "penalty": case.penalty,
            "decision_note": case.decision_note}


def _years_with_closures() -> range:
    earliest = report_repo.earliest_closure_time()
    this_year = calendar.tehran_day(utcnow()).year
    first = calendar.tehran_day(earliest).year if earliest is not None else this_year
    return range(min(first, this_year), this_year + 2)
