"""Flags and violation cases: judging reports as they land, re-judging when the hours change,
and the committee's decisions (DESIGN §6)."""

import uuid
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.database import utcnow
from app.errors import Problem, invalid
from app.extensions import db
from app.hours import calendar
from app.hours.reevaluation import day_bounds
from app.hours.rules import Answer, DateSpan, DayHours, answer_at, day_hours
from app.models import CaseEvent, Office, Report, User, ViolationCase
from app.models.violations import OPEN_STATUSES
from app.services import unit_of_work
from app.services.hours import office_facts, to_rule
from app.services.report_versions import new_version
from app.repositories import hours as hours_repo
from app.repositories import offices as office_repo
from app.violations.judge import CLOSED_STATES, SOUND, Evidence, Finding, Verdict, judge

# The cases re-judging looks at: the undecided, and the withdrawn, which a later change of
# the hours may bring back (DESIGN §6). Decided cases stay as the committee left them.
REJUDGED_STATUSES = (*OPEN_STATUSES, "withdrawn")
TRANSITIONS = {"open": {"under_review"}, "under_review": {"confirmed", "dismissed"}}
NO_REPORT_LEFT = Finding("no_report_left", {}, "no report left in the case")


class HoursBook:
    """Rules and holidays loaded once per year and day, and each office's hours decided once
    per Tehran day, for judging many reports in one transaction (a push: most of its reports
    share an office and a day; a re-judging: all of a case's reports do)."""

    def __init__(self):
        self._rules: dict[int, list] = {}
        self._holidays: dict[str, tuple] = {}
        self._hours: dict[tuple, DayHours] = {}

    def answer(self, office: Office, instant: datetime) -> Answer:
        # All that an office's hours depend on, and its day in Tehran (as a Gregorian date:
        # jdatetime's dates are slow to hash).
        local_day = instant.astimezone(calendar.TEHRAN).date()
        key = (office.id, office.district, office.category, local_day)
        hours = self._hours.get(key)
        if hours is None:
            day = calendar.from_gregorian(local_day)
            if day.year not in self._rules:
                self._rules[day.year] = [to_rule(r) for r in hours_repo.rules_in_force_for_year(day.year)]
            hours = self._hours[key] = day_hours(office_facts(office), day, self._rules[day.year],
                                                 self._holidays_on(day))
        return answer_at(hours, instant)

    def _holidays_on(self, day) -> tuple:
        key = calendar.format_date(day)
        if key not in self._holidays:
            self._holidays[key] = tuple(hours_repo.holiday_titles_on(key))
        return self._holidays[key]


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
    case = cases.get(key) if cases is not None else _case_of(office.id, day)
    if verdict.flag:
        if case is None:
            case = ViolationCase(id=uuid.uuid4(), office_id=office.id, district=office.district, jalali_date=day,
                                 kind=verdict.flag, status="open", rule=_rule_of(answer), version=1,
                                 opened_at=utcnow(), updated_at=utcnow(), decision_note="", **_grounds(verdict))
            db.session.add(case)
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


# A case a report joins is locked until the push commits: the join raises its version and
# may reopen it, and a committee decision (which locks it too) must see that, or answer 409,
# never decide on the case as it was before the report (PostgreSQL; SQLite's writes are serial).
def cases_for(pairs: set[tuple[uuid.UUID, str]]) -> dict:
    """The cases of these (office, Jalali day) pairs, in one query, locked."""
    if not pairs:
        return {}
    offices = {office for office, _ in pairs}
    days = {day for _, day in pairs}
    rows = db.session.scalars(sa.select(ViolationCase).where(ViolationCase.office_id.in_(list(offices)),
                                                            ViolationCase.jalali_date.in_(sorted(days)))
                              .with_for_update().execution_options(populate_existing=True))
    return {(c.office_id, c.jalali_date): c for c in rows}


def _case_of(office_id, day: str) -> ViolationCase | None:
    return db.session.scalar(sa.select(ViolationCase).where(ViolationCase.office_id == office_id,
                                                            ViolationCase.jalali_date == day)
                             .with_for_update().execution_options(populate_existing=True))


def _event(case: ViolationCase, action: str, user: User | None, detail: dict) -> None:
    db.session.add(CaseEvent(case=case, action=action, user_id=user.id if user else None, detail=detail,
                             at=utcnow()))


# ---------------------------------------------------------------- re-judging


def rejudge(spans: list[DateSpan]) -> int:
    """Re-judge, against the hours as they now are, every report on the days of `spans`
    whose verdict the change may move: the reports of every undecided or withdrawn case, and
    the closures in no case (found on a day that was off then). A case no report upholds any
    longer is withdrawn with the reason; a withdrawn case upheld again is reopened; a
    closure newly flagged opens or joins its case. Every report whose flags or lock change
    gets a new version (a merge base its phone can update from). Returns the reports
    re-judged.

    Runs in the transaction of the change to the hours (called by app.hours.reevaluation),
    which holds the whole city's change-feed lock, so no push moves these reports meanwhile;
    limited to the change's days, that lock is held for what the change can reach, not for
    the whole history."""
    book = HoursBook()
    now = utcnow()
    cases = {c.id: c for c in db.session.scalars(
        sa.select(ViolationCase).where(ViolationCase.status.in_(REJUDGED_STATUSES), _case_days(spans))
        .with_for_update())}
    in_cases = sa.select(ViolationCase.id).where(ViolationCase.status.in_(REJUDGED_STATUSES), _case_days(spans))
    reports = list(db.session.scalars(sa.select(Report).where(Report.deleted_at.is_(None), sa.or_(
        Report.violation_id.in_(in_cases),
        sa.and_(Report.violation_id.is_(None), Report.office_state.in_(CLOSED_STATES), _report_days(spans))))))
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


def visible(user: User):
    """A WHERE clause for the cases a user may see."""
    if user.citywide:
        return sa.true()
    if user.role == "district_head":
        return ViolationCase.district.in_(user.districts)
    mine = sa.select(Report.violation_id).where(Report.author_id == user.id, Report.violation_id.is_not(None))
    return ViolationCase.id.in_(mine)


CASE_ORDER = (ViolationCase.jalali_date.desc(), ViolationCase.opened_at.desc())  # newest day first
EXPORT_BATCH = 200


def _filters(user: User, filters: dict) -> list:
    """WHERE clauses for the cases a user may see, narrowed by the queue's filters."""
    clauses = [visible(user)]
    if "status" in filters:
        clauses.append(ViolationCase.status == filters["status"])
    if "kind" in filters:
        clauses.append(ViolationCase.kind == filters["kind"])
    if "district" in filters:
        clauses.append(ViolationCase.district == filters["district"])
    if "date_from" in filters:
        clauses.append(ViolationCase.jalali_date >= calendar.format_date(filters["date_from"]))
    if "date_to" in filters:
        clauses.append(ViolationCase.jalali_date <= calendar.format_date(filters["date_to"]))
    return clauses


def list_cases(user: User, filters: dict, page) -> tuple[list[ViolationCase], int]:
    query = sa.select(ViolationCase).where(*_filters(user, filters))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(*CASE_ORDER).offset(page.offset).limit(page.limit)).all()
    return rows, total


def export_rows(user: User, filters: dict) -> Iterator[tuple[sa.Row, int]]:
    """The cases a user may see, each with its office and number of reports, for the CSV.

    The query is made now, from the user the request loaded; it runs as the rows are asked
    for, in the session of whoever reads them: a streamed answer reads them after the
    request's session is gone. They come EXPORT_BATCH at a time, each batch (with one query
    counting its reports) read in a short transaction of its own and picked up after the
    last row of the one before (keyset on the sort order): a download over 2G holds no
    connection, cursor or snapshot while its rows travel."""
    query = (sa.select(ViolationCase.id, ViolationCase.jalali_date, ViolationCase.opened_at, ViolationCase.district,
                       Office.code.label("office_code"), Office.name.label("office_name"), ViolationCase.kind,
                       ViolationCase.status, ViolationCase.penalty, ViolationCase.decided_at,
                       ViolationCase.decision_note)
             .join(Office, Office.id == ViolationCase.office_id).where(*_filters(user, filters))
             .order_by(*CASE_ORDER, ViolationCase.id.desc()).limit(EXPORT_BATCH))
    return _batches(query)


# The export's sort order as one key (every part descending), to pick a batch up after a row.
EXPORT_KEY = (ViolationCase.jalali_date, ViolationCase.opened_at, ViolationCase.id)


def _batches(query) -> Iterator[tuple[sa.Row, int]]:
    after = None
    while True:
        page = query if after is None else query.where(sa.tuple_(*EXPORT_KEY) < sa.tuple_(*(
            sa.literal(getattr(after, column.key), column.type) for column in EXPORT_KEY)))
        batch = db.session.execute(page).all()
        counts = dict(db.session.execute(
            sa.select(Report.violation_id, sa.func.count()).where(Report.violation_id.in_([row.id for row in batch]))
            .group_by(Report.violation_id)).all()) if batch else {}
        db.session.rollback()  # read: nothing is held while these rows are sent
        yield from ((row, counts.get(row.id, 0)) for row in batch)
        if len(batch) < EXPORT_BATCH:
            return
        after = batch[-1]


def get_case(user: User, case_id: uuid.UUID) -> ViolationCase:
    case = db.session.scalar(sa.select(ViolationCase).where(ViolationCase.id == case_id, visible(user)))
    if case is None:
        raise Problem("not-found", f"There is no case {case_id}, or it is not yours to see.")
    return case


def case_reports(user: User, case: ViolationCase) -> list[Report]:
    query = sa.select(Report).where(Report.violation_id == case.id).order_by(Report.evidence_time)
    if user.role == "inspector":
        query = query.where(Report.author_id == user.id)
    return list(db.session.scalars(query))


def case_events(case: ViolationCase) -> list[CaseEvent]:
    return list(db.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def decide(user: User, case_id: uuid.UUID, version: int, status: str, penalty: str | None, note: str):
    with unit_of_work():
        case = db.session.scalar(sa.select(ViolationCase).where(ViolationCase.id == case_id).with_for_update()
                                 .execution_options(populate_existing=True))
        if case is None:
            raise Problem("not-found", f"There is no case {case_id}.")
        if case.version != version:
            raise Problem("conflict", f"The case is at version {case.version}, not {version}: someone else "
                                      "acted on it first. Reload it.", current=_brief(case))
        if status not in TRANSITIONS.get(case.status, set()):
            allowed = ", ".join(sorted(TRANSITIONS.get(case.status, set()))) or "nothing (it is decided)"
            raise Problem("conflict", f"A case that is {case.status} can go to {allowed}, not {status}.",
                          current=_brief(case))
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


def _case_days(spans: list[DateSpan]):
    """Cases on the spans' days (their Jalali date as text: a dated span compares whole
    dates, an every-year one the month and day)."""
    def one(span: DateSpan):
        md = lambda month_day: f"{month_day[0]:02d}-{month_day[1]:02d}"  # noqa: E731
        if span.year is None:
            return sa.func.substr(ViolationCase.jalali_date, 6, 5).between(md(span.start), md(span.end))
        return ViolationCase.jalali_date.between(f"{span.year:04d}-{md(span.start)}", f"{span.year:04d}-{md(span.end)}")

    return sa.or_(sa.false(), *(one(span) for span in spans))


def _report_days(spans: list[DateSpan]):
    """Reports whose evidence falls on the spans' days in Tehran: an every-year span in each
    year from the earliest closure's to next year."""
    ranges = []
    for span in spans:
        years = [span.year] if span.year is not None else _years_with_closures()
        for year in years:
            first, last = day_bounds(span, year)
            ranges.append(Report.evidence_time.between(
                calendar.tehran_instant(first, time(0, 0)),
                calendar.tehran_instant(last + timedelta(days=1), time(0, 0)) - timedelta(microseconds=1)))
    return sa.or_(sa.false(), *ranges)


def _years_with_closures() -> range:
    earliest = db.session.scalar(sa.select(sa.func.min(Report.evidence_time))
                                 .where(Report.office_state.in_(CLOSED_STATES)))
    this_year = calendar.tehran_day(utcnow()).year
    first = calendar.tehran_day(earliest).year if earliest is not None else this_year
    return range(min(first, this_year), this_year + 2)
