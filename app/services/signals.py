"""Systemic monitoring's signals (DESIGN §10b): each office's mandated windows of a day judged
against the platform's activity, kept with their history, and read by people.

A day's signals are worked out for the whole city at once (a platform outage is told by
every office at once) by `evaluate`, from:
- the hours engine: each active office's mandated windows that day (`HoursBook`); a day with
  none (a holiday, a closure rule) has no signal to give;
- each office's history: its transactions at the same weekday and Tehran hour over the
  `LOOKBACK_WEEKS` before (`activity_hours`), as a mean over the days the feed covered it,
  shrunk toward its district's mean where those days are few (`detector.shrunk_rate`);
- the day's minutes (`activity_counts`), read office by office as a stream;
- the field reports of that office and day, which confirm a suspicion (the office found
  closed) or clear it (found open).

They are worked out again, before they are read, when what they came from changed: the
day's activity (`signal_days.activity_seq`, raised by every batch taken in), the hours
(the last `hours_changes` row), the day's field reports (a digest of them); and, while the
day is not over, every `REFRESH` (a silence grows with the clock). Each change of a signal's
state, and each field report that confirmed or cleared it, is added to its history
(`signal_events`), which is never rewritten.
"""

import hashlib
from array import array
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import groupby

import jdatetime
import numpy as np

from app.database import utcnow
from app.hours import calendar
from app.models import Office, Signal, User
from app.models.places import OfficeStatus
from app.repositories import activity as activity_repo
from app.repositories import signals as repo
from app.services import unit_of_work
from app.services.hours_book import HoursBook
from app.services.visibility import Visibility
from app.signals import detector
from app.violations.judge import CLOSED_STATES
from schemas.normalize import persian_digits

LOOKBACK_WEEKS = 8  # an office's history: the same weekday over the eight weeks before
REFRESH = timedelta(minutes=2)  # a day not yet over is worked out again this often when read
MINUTE = timedelta(minutes=1)
STATES = ("suspected_closure", "outage", "no_data", "normal")  # the order a list is read in


@dataclass
class Judged:
    """One office's window as worked out: what a `Signal` row holds, before it is stored."""

    office: Office
    start: time
    end: time
    verdict: detector.Verdict
    judged_until: datetime
    field: tuple | None = None  # (confirmed | cleared, report id, state found, evidence time)

    @property
    def key(self) -> tuple:
        return (self.office.id, f"{self.start:%H:%M}")


@dataclass
class Keys:
    """What a day's signals were worked out from."""

    activity_seq: int
    hours_key: int
    reports_key: str
    reports: list = field(default_factory=list)  # (office_id, report id, evidence time, state)


# ---------------------------------------------------------------- reading


def signals_of(user: User, day: jdatetime.date, district: int | None) -> list[dict]:
    """The signals of `day` in the caller's districts (or one of them), suspicions first."""
    districts = Visibility.of(user).narrowed_to(district)
    rows = _current(day, districts)
    history = repo.events_of(calendar.format_date(day), [row.office_id for row in rows])
    hides_reports = Visibility.of(user).author_id is not None
    items = [_item(row, history.get((row.office_id, row.window_start), []), hides_reports) for row in rows]
    return sorted(items, key=lambda i: (STATES.index(i["state"]), i["district"], i["office_code"], i["window"]))


def suspicions(day: jdatetime.date, office_ids) -> dict:
    """{office id: its open suspicion's signal} on `day`, among these offices: suspected and
    not yet cleared by a field report. For the visit lists."""
    wanted = set(office_ids)
    rows = [row for row in _current(day, None) if row.office_id in wanted]
    return {row.office_id: row for row in rows
            if row.state == "suspected_closure" and row.field_status != "cleared"}


def suspected_in(first: jdatetime.date, last: jdatetime.date, districts) -> dict:
    """{office id: the latest open suspicion's signal} over the days [first, last] that have
    any activity: for the coverage map's own mark."""
    found = {}
    for day in repo.days_between(calendar.format_date(first), calendar.format_date(last)):
        for row in _current(calendar.parse_date(day), districts):
            if row.state == "suspected_closure" and row.field_status != "cleared":
                found[row.office_id] = row
    return found


def context_of(office_id, day: jdatetime.date) -> list[dict]:
    """The signals of one office and day with their history, beside a case (context only)."""
    rows = [row for row in _current(day, None, office_id=office_id)]
    history = repo.events_of(calendar.format_date(day), [office_id])
    return [_item(row, history.get((row.office_id, row.window_start), []), False) for row in rows]


def _current(day: jdatetime.date, districts, office_id=None) -> list:
    """The day's signals, worked out again first if what they came from has changed. A day
    the feed never reported is worked out but not stored (every window `no_data`)."""
    key = calendar.format_date(day)
    stored = repo.get_day(key)
    if stored is None:
        rows = [_as_row(j, key) for j in _work_out(day, utcnow(), None)]
    else:
        if _stale(stored, day):
            evaluate(day)
        rows = repo.signals_of_day(key, districts, office_id)
        return rows
    return [r for r in rows if (districts is None or r.district in districts)
            and (office_id is None or r.office_id == office_id)]


def _stale(stored, day: jdatetime.date) -> bool:
    if stored.evaluated_at is None or stored.evaluated_seq != stored.activity_seq:
        return True
    if stored.hours_key != repo.hours_key():
        return True
    now = utcnow()
    day_end = calendar.tehran_instant(day + timedelta(days=1), time(0))
    if stored.evaluated_at < day_end and now - stored.evaluated_at >= REFRESH:
        return True
    return stored.reports_key != _reports(day)[0]


# ---------------------------------------------------------------- working out


def evaluate(day: jdatetime.date, now: datetime | None = None) -> dict:
    """Work out the day's signals for every office and store them, their changes added to the
    history. Read first, then one short write: a reader meanwhile sees the last evaluation."""
    now = now or utcnow()
    key = calendar.format_date(day)
    reports_key, reports = _reports(day)
    keys = Keys(repo.activity_seq(key), repo.hours_key(), reports_key, reports)
    judged = _work_out(day, now, keys)
    with unit_of_work():
        stored = repo.lock_day(key)
        if stored.evaluated_at is not None and stored.evaluated_at > now:
            return {"day": key, "written": False}  # worked out meanwhile, from newer data
        changes = _store(key, judged, now)
        stored.evaluated_seq, stored.hours_key = keys.activity_seq, keys.hours_key
        stored.reports_key, stored.evaluated_at = keys.reports_key, now
    return {"day": key, "written": True, "signals": len(judged), "changes": changes,
            "suspected": sum(j.verdict.state == "suspected_closure" for j in judged)}


def _reports(day: jdatetime.date) -> tuple[str, list]:
    start, end = _bounds(day)
    reports = repo.reports_between(start, end)
    digest = hashlib.sha256(repr(sorted((str(r[1]), r[3]) for r in reports)).encode()).hexdigest()
    return digest, reports


def _bounds(day: jdatetime.date) -> tuple[datetime, datetime]:
    return calendar.tehran_instant(day, time(0)), calendar.tehran_instant(day + timedelta(days=1), time(0))


def _work_out(day: jdatetime.date, now: datetime, keys: Keys | None) -> list[Judged]:
    """Every active office's windows on `day` judged, up to `now`'s minute."""
    book = HoursBook(day)
    now = now.astimezone(UTC).replace(second=0, microsecond=0)
    offices = repo.offices()
    spans: dict[tuple[time, time], Span] = {}  # most of a city's offices share a window or two
    windows = []  # (office, start, end, its span)
    for office in offices:
        if office.status != OfficeStatus.ACTIVE:
            continue
        for window in book.hours(office).windows:
            key = (window.start, window.end)
            if key not in spans:
                spans[key] = Span.of(_minutes(day, window.start, window.end, now))
            windows.append((office, window.start, window.end, spans[key]))
    if not windows:
        return []
    day_start, day_end = _bounds(day)
    rates = _rates(day, {office.id: office.district for office, *_ in windows}) if keys is not None else {}
    activity, observed_total = _counts_by_office([o.id for o in offices], day_start, day_end) if keys is not None \
        else ({}, {})
    fed = sum(observed_total.values()) > 0
    outage = detector.outage_minutes(observed_total, _expected_totals(windows, rates)) if fed else set()
    fields = _fields(keys.reports if keys else [])
    judged = []
    for office, start, end, span in windows:
        hourly = rates.get(office.id)
        minutes = span.minutes
        until = minutes[-1] + MINUTE if minutes else calendar.tehran_instant(day, start)
        if not minutes:
            verdict = detector.Verdict("no_data", None, None, 0.0, 0, None, "not_started")
        elif not fed:
            verdict = detector.Verdict("no_data", None, None, 0.0, 0, None, "feed_silent")
        else:
            busy, observed = span.busy(*activity.get(office.id, ((), ())))
            minute_rates = span.rates(hourly) if hourly else [0.0] * len(minutes)
            verdict = detector.judge_busy(minutes, busy, observed, minute_rates, outage, hourly is not None)
        judged.append(Judged(office, start, end, verdict, until, fields.get(office.id)))
    return judged


@dataclass(frozen=True, eq=False)  # one span, many offices: known by identity
class Span:
    """A mandated window's minutes on a day, judged up to now, with what every office judged
    on them needs worked out once: their Tehran hours (an office's rate is by hour) and where
    they start (to place its busy minutes)."""

    minutes: list[datetime]
    first: int  # the first minute, as minutes since the epoch
    hours: list[tuple[int, int]]  # (a Tehran hour, how many of the minutes in a row fall in it), in order

    @classmethod
    def of(cls, minutes: list[datetime]) -> "Span":
        hours = [(hour, len(list(run))) for hour, run in groupby(minutes, key=_local_hour)]
        return cls(minutes, int(minutes[0].timestamp()) // 60 if minutes else 0, hours)

    def rates(self, hourly: list[float]) -> list[float]:
        """The expected count in each minute, at an office's rate for each Tehran hour."""
        rates: list[float] = []
        for hour, length in self.hours:
            rates += [hourly[hour]] * length
        return rates

    def busy(self, minutes, counts) -> tuple[list[int], int]:
        """(the indices of the span's minutes that had a transaction, how many there were), of
        an office's busy minutes (minutes since the epoch, in order) and their counts."""
        low = bisect_left(minutes, self.first)
        high = bisect_left(minutes, self.first + len(self.minutes), low)
        return [minute - self.first for minute in minutes[low:high]], sum(counts[low:high])


def _expected_totals(windows: list, rates: dict) -> dict[datetime, float]:
    """The platform's expected count at each minute judged: the rates of every office with a
    history added up, office after office in the windows' order, as floats are added (the
    outage test is to see the same sums however they are reached). Over an array of the
    day's minutes, a run of an hour at a time."""
    judged = [(rates[office.id], span) for office, _, _, span in windows if office.id in rates and span.minutes]
    if not judged:
        return {}
    first = min(span.first for _, span in judged)
    totals = np.zeros(max(span.first + len(span.minutes) for _, span in judged) - first)
    for hourly, span in judged:
        at = span.first - first
        for hour, length in span.hours:
            totals[at:at + length] += hourly[hour]
            at += length
    spans = {span for _, span in judged}
    return {minute: float(totals[span.first - first + i]) for span in spans for i, minute in enumerate(span.minutes)}


def _minutes(day: jdatetime.date, start: time, end: time, now: datetime) -> list[datetime]:
    first = calendar.tehran_instant(day, start).astimezone(UTC)
    last = min(calendar.tehran_instant(day, end).astimezone(UTC), now)
    count = int((last - first) / MINUTE)
    return [first + n * MINUTE for n in range(max(0, count))]


_HOURS: dict[datetime, int] = {}


def _local_hour(minute: datetime) -> int:
    half = minute.replace(minute=minute.minute - minute.minute % 30)
    hour = _HOURS.get(half)
    if hour is None:
        hour = _HOURS[half] = half.astimezone(calendar.TEHRAN).hour
        if len(_HOURS) > 100_000:
            _HOURS.clear()
    return hour


def _rates(day: jdatetime.date, districts: dict) -> dict:
    """{office id: [expected transactions a minute at each Tehran hour, 0-23]} for the offices
    with history: at `day`'s weekday over the LOOKBACK_WEEKS before, or, for an office the feed
    never saw on that weekday (a Nowruz Friday the hours mandate), over all their days;
    shrunk toward their district's where the days are few."""
    weekday = [_bounds(day - timedelta(weeks=k)) for k in range(1, LOOKBACK_WEEKS + 1)]
    own = _own_rates(activity_repo.hour_totals(None, weekday), districts)
    rest = {office: district for office, district in districts.items() if office not in own}
    if rest:
        every_day = [(_bounds(day - timedelta(weeks=LOOKBACK_WEEKS))[0], _bounds(day)[0])]
        own |= _own_rates(activity_repo.hour_totals(rest, every_day), rest)
    by_district: dict = defaultdict(list)
    for office, (hourly, _) in own.items():
        by_district[districts[office]].append(hourly)
    district_rate = {d: [sum(h[i] for h in rows) / len(rows) for i in range(24)] for d, rows in by_district.items()}
    return {office: [detector.shrunk_rate(hourly[i], days, district_rate[districts[office]][i]) for i in range(24)]
            for office, (hourly, days) in own.items()}


def _own_rates(rows, wanted: dict) -> dict:
    """{office id: ([its mean transactions a minute at each Tehran hour], days covered)}, the
    mean over the days the feed saw it at all."""
    totals: dict = defaultdict(lambda: [0] * 24)
    covered: dict = defaultdict(set)
    local_of: dict[int, tuple] = {}  # an hour (seconds since the epoch): its Tehran hour and day, worked out once
    for office_id, hour, count in rows:
        if office_id in wanted:
            local = local_of.get(hour)
            if local is None:
                at = datetime.fromtimestamp(hour, calendar.TEHRAN)
                local = local_of[hour] = (at.hour, at.date())
            totals[office_id][local[0]] += count
            covered[office_id].add(local[1])
    return {office: ([t / (len(covered[office]) * 60) for t in hourly], len(covered[office]))
            for office, hourly in totals.items()}


def _counts_by_office(office_ids: list, start: datetime, end: datetime) -> tuple[dict, dict[datetime, int]]:
    """The day's counts of these offices (all of them: the platform's totals count every
    office), read once: ({office id: (its busy minutes as minutes since the epoch, in order;
    their counts)}, {instant: the whole platform's count}). Kept for every office before any
    is judged, since the outage test needs the platform's totals first; as arrays of machine
    integers, not a dict of datetimes: a nationwide day is millions of busy minutes."""
    activity = {}
    totals: dict[int, int] = defaultdict(int)
    for office_id, rows in activity_repo.counts_by_office(office_ids, start, end):
        minutes, counts = array("q"), array("q")
        for seconds, count in rows:
            totals[seconds] += count
            if count and not seconds % 60:  # only an instant on the minute is one of a window's minutes
                minutes.append(seconds // 60)
                counts.append(count)
        activity[office_id] = (minutes, counts)
    return activity, {datetime.fromtimestamp(seconds, UTC): count for seconds, count in totals.items()}


def _fields(reports: list) -> dict:
    """{office id: (confirmed | cleared, report id, state, evidence time)}: the office found
    closed by any report of the day confirms; else found open by the latest clears."""
    found: dict = {}
    for office_id, report_id, at, state in sorted(reports, key=lambda r: r[2]):
        if found.get(office_id, ("",))[0] != "confirmed":
            found[office_id] = ("confirmed" if state in CLOSED_STATES else "cleared", report_id, state, at)
    return found


# ---------------------------------------------------------------- storing


def _store(day: str, judged: list[Judged], now: datetime) -> int:
    """Write the day's signals over the last ones; each change of state or of the field's
    word added to the history. Returns how many events were added. The rows are plain ones,
    written back a statement for all of each kind (added, kept, withdrawn)."""
    stored = {(row.office_id, row.window_start): row for row in repo.signal_rows(day)}
    events, added, kept = [], [], []
    for item in judged:
        v = item.verdict
        row = stored.pop(item.key, None)
        if row is None:
            row = repo.new_signal_row(office_id=item.office.id, day=day, window_start=item.key[1])
            added.append(row)
        else:
            kept.append(row)
        before_state = row.state
        row.district, row.window_end = item.office.district, f"{item.end:%H:%M}"
        row.state, row.reason_code, row.expected, row.observed = v.state, v.reason, v.expected, v.observed
        row.silent_from = v.silent_from
        row.silent_to = v.silent_to + MINUTE if v.silent_to else None
        row.confidence, row.judged_until, row.evaluated_at = v.confidence, item.judged_until, now
        if v.state == "suspected_closure" and row.suspected_at is None:
            row.suspected_at = now
        if before_state != v.state:
            events.append(_event(row, now, v.state, {
                "reason_code": v.reason, "expected": v.expected, "observed": v.observed,
                "confidence": v.confidence, "silent_from": _iso(row.silent_from), "silent_to": _iso(row.silent_to),
                "judged_until": _iso(item.judged_until)}))
        if row.suspected_at is not None:  # a field report speaks to a suspicion, now or before
            _field(row, item.field, now, events)
    for row in stored.values():  # a window the hours no longer mandate, or an office no longer active
        events.append(_event(row, now, "withdrawn", {"state": row.state}))
    repo.add_signals(added)
    repo.update_signals(kept)
    repo.delete_signals([row.id for row in stored.values()])
    repo.add_events(events)
    return len(events)


def _field(row: Signal, found: tuple | None, now: datetime, events: list) -> None:
    """What the day's field reports say of a suspicion, and the history's entry if it changed
    (`field_withdrawn`: the report that spoke was deleted or now says nothing)."""
    status, report_id, state, at = found or (None, None, None, None)
    if (status, report_id, state) == (row.field_status, row.field_report_id, row.field_state):
        return
    if status is None:
        events.append(_event(row, now, "field_withdrawn", {"report_id": str(row.field_report_id)}))
    else:
        events.append(_event(row, now, status, {"report_id": str(report_id), "office_state": state,
                                                "evidence_time": _iso(at)}))
    row.field_status, row.field_report_id, row.field_state, row.field_at = status, report_id, state, at


def _event(row: Signal, at: datetime, kind: str, detail: dict) -> dict:
    return {"office_id": row.office_id, "day": row.day, "window_start": row.window_start, "at": at,
            "kind": kind, "detail": detail}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(calendar.TEHRAN).isoformat()


def _as_row(item: Judged, day: str) -> Signal:
    v = item.verdict
    return Signal(office_id=item.office.id, office=item.office, district=item.office.district, day=day,
                  window_start=f"{item.start:%H:%M}", window_end=f"{item.end:%H:%M}", state=v.state,
                  reason_code=v.reason, silent_from=None, silent_to=None, expected=v.expected, observed=v.observed,
                  confidence=None, judged_until=item.judged_until, field_status=None)


# ---------------------------------------------------------------- the wire form


def _item(row: Signal, history: list, hides_reports: bool) -> dict:
    local = lambda at: None if at is None else at.astimezone(calendar.TEHRAN)  # noqa: E731
    field_ = None
    if row.field_status is not None:
        field_ = {"status": row.field_status, "office_state": row.field_state, "evidence_time": local(row.field_at),
                  "report_id": None if hides_reports else row.field_report_id}
    return {
        "office_id": row.office_id, "office_code": row.office.code, "office_name": row.office.name,
        "district": row.district, "date": calendar.parse_date(row.day),
        "window": f"{row.window_start}–{row.window_end}", "state": row.state,
        "silent_from": local(row.silent_from), "silent_to": local(row.silent_to),
        "expected": row.expected, "observed": row.observed, "confidence": row.confidence,
        "reason": reason_fa(row), "reason_code": row.reason_code, "judged_until": local(row.judged_until),
        "field": field_,
        "history": [{"at": local(e.at), "kind": e.kind, "detail": e.detail} for e in history],
    }


def _fa_clock(at: datetime) -> str:
    return persian_digits(f"{at.astimezone(calendar.TEHRAN):%H:%M}")


def _fa_number(value: float) -> str:
    return persian_digits(f"{round(value):,}".replace(",", "٬"))


def reason_fa(row: Signal) -> str:
    """The signal in Persian, for people."""
    code = row.reason_code
    if code == "silent_beyond_expectation":
        text = (f"از {_fa_clock(row.silent_from)} تا {_fa_clock(row.silent_to)} هیچ تراکنشی از این دفتر در سامانه "
                f"ثبت نشد، در حالی که در این ساعت‌ها معمولاً خدمت می‌دهد (حدود {_fa_number(row.expected)} تراکنش "
                f"در ساعت کار تا این لحظه انتظار می‌رفت و {_fa_number(row.observed)} ثبت شد). احتمال تعطیلی؛ "
                "این نشانه تخلف نیست و باید با بازدید میدانی بررسی شود.")
        if row.field_status == "confirmed":
            text += " بازدید میدانی تعطیلی را تأیید کرد."
        elif row.field_status == "cleared":
            text += " بازدید میدانی دفتر را باز یافت."
        return text
    if code == "platform_outage":
        return ("سامانه در این بازه برای بیشتر دفاتر ساکت بوده است (قطعی سامانه)؛ سکوت این دفتر نشانه تعطیلی "
                "نیست.")
    if code == "no_history":
        return "سامانه برای این دفتر سابقه‌ای ندارد؛ سکوت آن نشانه‌ای نیست."
    if code == "feed_silent":
        return "از سامانه برای این روز هنوز داده‌ای نرسیده است."
    if code == "not_started":
        return "ساعت کار مقرر این دفتر هنوز شروع نشده است."
    return (f"دفتر در ساعت کار مقرر خدمت داده است ({_fa_number(row.observed)} تراکنش ثبت شد، حدود "
            f"{_fa_number(row.expected)} انتظار می‌رفت).")


def reason_en(row: Signal) -> str:
    """The suspicion as a visit list gives its reasons (in English, as the list's others)."""
    return (f"suspected closure: no transaction on the platform {row.silent_from.astimezone(calendar.TEHRAN):%H:%M}"
            f"–{row.silent_to.astimezone(calendar.TEHRAN):%H:%M}, about {round(row.expected)} expected in the window "
            f"(confidence {row.confidence:.1%})")
