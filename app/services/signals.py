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
(the rules in force in its year and its holidays, digested), the day's field reports (a digest of them); and, while the
day is not over, every `REFRESH` (a silence grows with the clock). Each change of a signal's
state, and each field report that confirmed or cleared it, is added to its history
(`signal_events`), which is never rewritten.
"""

import hashlib
import math
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
from app.repositories import hours as hours_repo
from app.repositories import signals as repo
from app.services import activity, end_read, unit_of_work
from app.services.hours_book import HoursBook
from app.services.visibility import Visibility
from app.signals import detector
from app.violations.judge import CLOSED_STATES, MAX_DISTANCE_M
from schemas.normalize import persian_digits

LOOKBACK_WEEKS = 8  # an office's history: the same weekday over the eight weeks before
REFRESH = timedelta(minutes=2)  # a day not yet over is worked out again this often when read
MAP_FRESH_DAYS = 31  # the coverage map works out again only its period's last month
MINUTE = timedelta(minutes=1)
CONFIRMING_STATES = (*CLOSED_STATES, "permanently_closed")  # what a visit finds that confirms a silence
SPEAKS_AFTER = timedelta(minutes=detector.MIN_SILENCE_MINUTES)  # a visit just after a silence still speaks to it
RATE_Z = 1.645  # an office's rate is taken at the lower 95 % bound of what its history shows
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

    def __post_init__(self):
        # Kept as plain values: the rows they are written to are written after the read ends.
        self.office_id, self.district = self.office.id, self.office.district

    @property
    def key(self) -> tuple:
        return (self.office_id, f"{self.start:%H:%M}")


@dataclass
class Keys:
    """What a day's signals were worked out from."""

    activity_seq: int
    hours_key: str
    reports_key: str
    reports: list = field(default_factory=list)  # (office_id, report id, evidence time, state, metres)


# ---------------------------------------------------------------- reading


def signals_of(user: User, day: jdatetime.date, district: int | None) -> list[dict]:
    """The signals of `day` in the caller's districts (or one of them), suspicions first."""
    visibility = Visibility.of(user)
    rows = _current(day, visibility.narrowed_to(district))
    history = repo.events_of(calendar.format_date(day), [row.office_id for row in rows])
    shown = None if visibility.author_id is None else set()  # an inspector is told no report's id here
    items = [_item(row, history.get((row.office_id, row.window_start), []), shown) for row in rows]
    return sorted(items, key=lambda i: (STATES.index(i["state"]), i["district"], i["office_code"], i["window"]))


def suspicions(day: jdatetime.date, offices: list[Office]) -> dict:
    """{office id: its open suspicion's signal} on `day`, among these offices: suspected and
    not yet cleared by a field report. For the visit lists."""
    wanted = {office.id for office in offices}
    rows = [row for row in _current(day, {office.district for office in offices}) if row.office_id in wanted]
    return {row.office_id: row for row in rows
            if row.state == "suspected_closure" and row.field_status != "cleared"}


def suspected_in(first: jdatetime.date, last: jdatetime.date, districts) -> dict:
    """{office id: the latest open suspicion's signal} over the days [first, last] that have
    any activity: for the coverage map's own mark. Only the last MAP_FRESH_DAYS of the period
    are worked out again if stale; earlier days show as last worked out (a period of years
    must not work out every day in one request)."""
    found = {}
    fresh_from = calendar.format_date(last - timedelta(days=MAP_FRESH_DAYS - 1))
    for day in repo.days_between(calendar.format_date(first), calendar.format_date(last)):
        for row in _current(calendar.parse_date(day), districts, refresh=day >= fresh_from):
            if row.state == "suspected_closure" and row.field_status != "cleared":
                found[row.office_id] = row
    return found


def context_of(office_id, day: jdatetime.date, shown: set[str] | None = None) -> list[dict]:
    """The signals of one office and day with their history, beside a case (context only);
    the field reports named only if in `shown` (their ids; None: all)."""
    rows = _current(day, None, office_id=office_id)
    history = repo.events_of(calendar.format_date(day), [office_id])
    return [_item(row, history.get((row.office_id, row.window_start), []), shown) for row in rows]


def _current(day: jdatetime.date, districts, office_id=None, refresh: bool = True) -> list:
    """The day's signals, worked out again first if what they came from has changed (and
    `refresh`). A day the feed never reported is worked out but not stored (every window
    `no_data`)."""
    key = calendar.format_date(day)
    stored = repo.get_day(key)
    if stored is None:
        rows = [_as_row(j, key) for j in _work_out(day, utcnow(), None)]
    else:
        if (refresh or stored.evaluated_at is None) and _stale(stored, day):
            evaluate(day)
        rows = repo.signals_of_day(key, districts, office_id)
        return rows
    return [r for r in rows if (districts is None or r.district in districts)
            and (office_id is None or r.office_id == office_id)]


def _stale(stored, day: jdatetime.date) -> bool:
    now = utcnow()
    day_end = calendar.tehran_instant(day + timedelta(days=1), time(0))
    kept_from = now - timedelta(days=activity.COUNT_DAYS) + timedelta(weeks=LOOKBACK_WEEKS)
    if stored.evaluated_at is not None and day_end < kept_from:
        return False  # its history (or its minutes) is pruned: what was worked out from them stands
    if stored.evaluated_at is None or stored.evaluated_seq != stored.activity_seq:
        return True
    if stored.hours_key != _hours_key(day):
        return True
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
    keys = Keys(repo.activity_seq(key), _hours_key(day), reports_key, reports)
    judged = _work_out(day, now, keys)
    end_read()  # SQLite: a read then a write in one transaction fails if a batch landed between
    with unit_of_work():
        stored = repo.lock_day(key)
        if stored.evaluated_seq is not None and stored.evaluated_seq > keys.activity_seq:
            return {"day": key, "written": False}  # worked out meanwhile, from newer activity
        changes = _store(key, judged, now)
        stored.evaluated_seq, stored.hours_key = keys.activity_seq, keys.hours_key
        stored.reports_key, stored.evaluated_at = keys.reports_key, now
    return {"day": key, "written": True, "signals": len(judged), "changes": changes,
            "suspected": sum(j.verdict.state == "suspected_closure" for j in judged)}


def _hours_key(day: jdatetime.date) -> str:
    """What the day's windows are decided from, digested: the rules in force in its year (a
    rule made, changed or withdrawn) and its holidays. A change for another year or another
    day's holiday leaves the day's signals as they are."""
    rules = sorted((str(rule.id), rule.version) for rule in hours_repo.rules_in_force_for_year(day.year))
    holidays = sorted(hours_repo.holiday_titles_on(calendar.format_date(day)))
    return hashlib.sha256(repr((rules, holidays)).encode()).hexdigest()


def _reports(day: jdatetime.date) -> tuple[str, list]:
    start, end = _bounds(day)
    reports = repo.reports_between(start, end)
    digest = hashlib.sha256(repr(sorted((str(r[1]), r[2].isoformat(), r[3]) for r in reports)).encode()).hexdigest()
    return digest, reports


def _bounds(day: jdatetime.date) -> tuple[datetime, datetime]:
    return calendar.tehran_instant(day, time(0)), calendar.tehran_instant(day + timedelta(days=1), time(0))


def _work_out(day: jdatetime.date, now: datetime, keys: Keys | None) -> list[Judged]:
    """Every active office's windows on `day` judged up to its source's last reported minute
    (a feed a few minutes behind must not make its offices look silent), and never past now;
    an office whose source reported nothing that day is `no_data` (`source_silent`)."""
    day_start, day_end = _bounds(day)
    now = now.astimezone(UTC).replace(second=0, microsecond=0)
    offices = repo.offices()
    activity, observed_total = _counts_by_office([o.id for o in offices], day_start, day_end) if keys is not None \
        else ({}, {})
    fed = sum(observed_total.values()) > 0
    reported = min(now, max(observed_total) + MINUTE) if fed else now
    sources = activity_repo.sources_of_day(calendar.format_date(day)) if fed else {}
    covering = activity_repo.office_sources() if fed else {}
    book = HoursBook(day)
    spans: dict[tuple, Span] = {}  # most of a city's offices share a window or two, and a source
    windows = []  # (office, start, end, its span)
    silent_sources = set()  # offices whose source reported nothing that day
    for office in offices:
        if office.status != OfficeStatus.ACTIVE:
            continue
        source = covering.get(office.id)
        if source is not None and source not in sources:
            silent_sources.add(office.id)
        # An office no source has named (its history loaded by hand) is judged up to the platform's last minute.
        limit = min(now, sources[source] + MINUTE) if source in sources else reported
        for window in book.hours(office).windows:
            key = (window.start, window.end, limit)
            if key not in spans:
                spans[key] = Span.of(_minutes(day, window.start, window.end, limit))
            windows.append((office, window.start, window.end, spans[key]))
    if not windows:
        return []
    mandated: dict = defaultdict(set)  # {office id: the Tehran hours its windows reach}
    for office, start, end, _ in windows:
        mandated[office.id] |= set(range(start.hour, end.hour + (end.minute > 0)))
    rates = _rates(day, {office.id: office.district for office, *_ in windows}, mandated) if keys is not None else {}
    outage = detector.outage_minutes(observed_total, _expected_totals(windows, rates)) if fed else set()
    fields = _fields(keys.reports if keys else [])
    judged = []
    for office, start, end, span in windows:
        hourly = rates.get(office.id)
        minutes = span.minutes
        until = minutes[-1] + MINUTE if minutes else calendar.tehran_instant(day, start)
        if not fed:
            verdict = detector.Verdict("no_data", None, None, 0.0, 0, None, "feed_silent")
        elif office.id in silent_sources:
            verdict = detector.Verdict("no_data", None, None, 0.0, 0, None, "source_silent")
        elif not minutes:
            started = calendar.tehran_instant(day, start) <= now
            verdict = detector.Verdict("no_data", None, None, 0.0, 0, None, "awaiting_feed" if started else "not_started")
        else:
            busy, observed = span.busy(*activity.get(office.id, ((), ())))
            minute_rates = span.rates(hourly) if hourly else [0.0] * len(minutes)
            verdict = detector.judge_busy(minutes, busy, observed, minute_rates, outage, hourly is not None)
            verdict = _unless_habitual(office.id, day, verdict)
        window = (calendar.tehran_instant(day, start), calendar.tehran_instant(day, end))
        judged.append(Judged(office, start, end, verdict, until,
                             _field_of(fields.get(office.id, []), window, verdict, until)))
    return judged


def _unless_habitual(office_id, day: jdatetime.date, verdict: detector.Verdict) -> detector.Verdict:
    """A suspicion checked against the office's own minutes over the same clock span on the
    history days it served in the span's hours (the same weekday over LOOKBACK_WEEKS, or all
    its days there if it never did on that weekday, as its rates were learnt): a break it
    takes every day is `normal`, `habitual_silence`. Days known only by the hour (minutes
    pruned, or history loaded as hours) cannot tell. Read for the few suspects only."""
    if verdict.state != "suspected_closure":
        return verdict
    local = [at.astimezone(calendar.TEHRAN) for at in (verdict.silent_from, verdict.silent_to)]
    span_hours = set(range(local[0].hour, local[1].hour + 1))
    for step, count in ((timedelta(weeks=1), LOOKBACK_WEEKS), (timedelta(days=1), LOOKBACK_WEEKS * 7)):
        days = [day - step * k for k in range(1, count + 1)]
        served = {calendar.format_date(calendar.tehran_day(hour))
                  for hour in activity_repo.served_hours(office_id, [_bounds(d) for d in days])
                  if _local_hour(hour) in span_hours}
        if served:
            spans = [(calendar.tehran_instant(d, time(local[0].hour)),
                      calendar.tehran_instant(d, time(local[1].hour)) + timedelta(hours=1),
                      calendar.tehran_instant(d, local[0].time()), calendar.tehran_instant(d, local[1].time()) + MINUTE)
                     for d in days if calendar.format_date(d) in served]
            in_span = [total for total, known in activity_repo.office_span_totals(office_id, spans) if known]
            if in_span and detector.habitual(verdict, in_span):
                return detector.Verdict("normal", None, None, verdict.expected, verdict.observed, None,
                                        "habitual_silence")
            return verdict
    return verdict


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


def _rates(day: jdatetime.date, districts: dict, mandated: dict) -> dict:
    """{office id: [expected transactions a minute at each Tehran hour, 0-23]} for the offices
    with history: at `day`'s weekday over the LOOKBACK_WEEKS before; for an hour the hours
    mandate but the feed never saw the office serve on that weekday (the afternoon of a Nowruz
    Thursday, ordinarily a half day; a Nowruz Friday), over all its days there; shrunk toward
    their district's where the days are few."""
    weekday = [_bounds(day - timedelta(weeks=k)) for k in range(1, LOOKBACK_WEEKS + 1)]
    own, seen = _own_rates(activity_repo.hour_totals(None, weekday), districts)
    unseen = {office: mandated.get(office, set()) - seen[office] for office in districts}
    rest = {office: district for office, district in districts.items() if office not in own or unseen[office]}
    if rest:
        every_day = [(_bounds(day - timedelta(weeks=LOOKBACK_WEEKS))[0], _bounds(day)[0])]
        for office, (hourly, days) in _own_rates(activity_repo.hour_totals(rest, every_day), rest)[0].items():
            if office in own:
                mine, days = own[office]
                hourly = [hourly[h] if h in unseen[office] else mine[h] for h in range(24)]
            own[office] = (hourly, days)
    by_district: dict = defaultdict(list)
    for office, (hourly, _) in own.items():
        by_district[districts[office]].append(hourly)
    district_rate = {d: [sum(h[i] for h in rows) / len(rows) for i in range(24)] for d, rows in by_district.items()}
    return {office: [detector.shrunk_rate(hourly[i], days, district_rate[districts[office]][i]) for i in range(24)]
            for office, (hourly, days) in own.items()}


def _own_rates(rows, wanted: dict) -> tuple[dict, dict]:
    """({office id: ([its mean transactions a minute at each Tehran hour], days covered)}, the
    mean over the days the feed saw it at all; {office id: the Tehran hours it served in})."""
    totals: dict = defaultdict(lambda: [0] * 24)
    covered: dict = defaultdict(set)
    seen: dict = defaultdict(set)
    local_of: dict[int, tuple] = {}  # an hour (seconds since the epoch): its Tehran hour and day, worked out once
    for office_id, hour, count in rows:
        if office_id in wanted:
            local = local_of.get(hour)
            if local is None:
                at = datetime.fromtimestamp(hour, calendar.TEHRAN)
                local = local_of[hour] = (at.hour, at.date())
            totals[office_id][local[0]] += count
            covered[office_id].add(local[1])
            if count:
                seen[office_id].add(local[0])
    rates = {office: ([_lower_bound(t) / (len(covered[office]) * 60) for t in hourly], len(covered[office]))
             for office, hourly in totals.items()}
    return rates, seen


def _lower_bound(count: int) -> float:
    """The lower one-sided 95 % bound of a Poisson mean seen as `count`: a rate learnt from a
    few days is uncertain, and taken too high it would make an open office's lull look long."""
    return max(0.0, count - RATE_Z * math.sqrt(count))


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
    """{office id: [(report id, evidence time, state found, metres from the office)], in time
    order}: the day's reports."""
    found: dict = defaultdict(list)
    for office_id, report_id, at, state, metres in sorted(reports, key=lambda r: r[2]):
        found[office_id].append((report_id, at, state, metres))
    return found


def _field_of(found: list, window: tuple[datetime, datetime], verdict: detector.Verdict,
              until: datetime) -> tuple | None:
    """What the day's reports say of one window's silence: (confirmed | cleared, report id,
    state, evidence time), or None. Only a report made during the silence speaks to it (or
    up to MIN_SILENCE_MINUTES after it; any time after its start while it still runs): the
    first to find the office closed, not serving or closed for good confirms; else the
    latest to find it open, from within MAX_DISTANCE_M of it, clears. Inaccessible or
    relocated says nothing, nor does a visit before the silence or after it ended."""
    if verdict.silent_from is None:
        return None
    start, end = window
    last = end if verdict.silent_to + MINUTE >= until else verdict.silent_to + MINUTE + SPEAKS_AFTER
    during = [r for r in found if start <= r[1] < end and verdict.silent_from <= r[1] <= last]
    closed = [r for r in during if r[2] in CONFIRMING_STATES]
    if closed:
        report_id, at, state, _ = closed[0]
        return ("confirmed", report_id, state, at)
    seen_open = [r for r in during if r[2] == "open" and r[3] is not None and r[3] <= MAX_DISTANCE_M]
    if seen_open:
        report_id, at, state, _ = seen_open[-1]
        return ("cleared", report_id, state, at)
    return None


# ---------------------------------------------------------------- storing


def _store(day: str, judged: list[Judged], now: datetime) -> int:
    """Write the day's signals over the last ones; each change of state or of the field's
    word added to the history. Returns how many events were added. The rows are plain ones,
    written back a statement for all of each kind (added, changed, withdrawn)."""
    stored = {(row.office_id, row.window_start): row for row in repo.signal_rows(day)}
    events, added, kept = [], [], []
    for item in judged:
        v = item.verdict
        row = stored.pop(item.key, None)
        if row is None:
            row = repo.new_signal_row(office_id=item.office_id, day=day, window_start=item.key[1])
            added.append(row)
        before = vars(row).copy()
        before_state = row.state
        row.district, row.window_end = item.district, f"{item.end:%H:%M}"
        row.state, row.reason_code, row.expected, row.observed = v.state, v.reason, v.expected, v.observed
        row.silent_from = v.silent_from
        row.silent_to = v.silent_to + MINUTE if v.silent_to else None
        row.confidence, row.judged_until = v.confidence, item.judged_until
        if v.state == "suspected_closure" and row.suspected_at is None:
            row.suspected_at = now
        if before_state != v.state:
            events.append(_event(row, now, v.state, {
                "reason_code": v.reason, "expected": v.expected, "observed": v.observed,
                "confidence": v.confidence, "silent_from": _iso(row.silent_from), "silent_to": _iso(row.silent_to),
                "judged_until": _iso(item.judged_until)}))
        if row.suspected_at is not None:  # a field report speaks to a suspicion, now or before
            _field(row, item.field, now, events)
        if vars(row) != before:  # a row is written back only if it changed (evaluated_at: when it last did)
            row.evaluated_at = now
            if row.id is not None:
                kept.append(row)
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


def _item(row: Signal, history: list, shown: set[str] | None) -> dict:
    """The wire form; a field report's id only if in `shown` (None: all), else null in the
    field and left out of the history."""
    local = lambda at: None if at is None else at.astimezone(calendar.TEHRAN)  # noqa: E731
    named = lambda report_id: shown is None or str(report_id) in shown  # noqa: E731
    field_ = None
    if row.field_status is not None:
        field_ = {"status": row.field_status, "office_state": row.field_state, "evidence_time": local(row.field_at),
                  "report_id": row.field_report_id if named(row.field_report_id) else None}
    return {
        "office_id": row.office_id, "office_code": row.office.code, "office_name": row.office.name,
        "district": row.district, "date": calendar.parse_date(row.day),
        "window": f"{row.window_start}–{row.window_end}", "state": row.state,
        "silent_from": local(row.silent_from), "silent_to": local(row.silent_to),
        "expected": row.expected, "observed": row.observed, "confidence": row.confidence,
        "reason": reason_fa(row), "reason_code": row.reason_code, "judged_until": local(row.judged_until),
        "field": field_,
        "history": [{"at": local(e.at), "kind": e.kind,
                     "detail": {k: v for k, v in e.detail.items() if k != "report_id" or named(v)}}
                    for e in history],
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
                f"ثبت نشد، در حالی که در این ساعت‌ها معمولاً خدمت می‌دهد (در ساعت کار تا "
                f"{_fa_clock(row.judged_until)} حدود {_fa_number(row.expected)} تراکنش انتظار می‌رفت و "
                f"{_fa_number(row.observed)} ثبت شد). احتمال تعطیلی؛ "
                "این نشانه تخلف نیست و باید با بازدید میدانی بررسی شود.")
        if row.field_status == "confirmed":
            text += " بازدید میدانی تعطیلی را تأیید کرد."
        elif row.field_status == "cleared":
            text += " بازدید میدانی دفتر را باز یافت."
        return text
    if code == "habitual_silence":
        return ("دفتر در این ساعت‌ها تراکنشی نداشت، اما در روزهای پیشین هم در همین ساعت‌ها معمولاً تراکنشی ندارد "
                "(مانند وقت نماز و ناهار)؛ این سکوت نشانه تعطیلی نیست.")
    if code == "platform_outage":
        return ("سامانه در این بازه برای بیشتر دفاتر ساکت بوده است (قطعی سامانه)؛ سکوت این دفتر نشانه تعطیلی "
                "نیست.")
    if code == "no_history":
        return "سامانه برای این دفتر سابقه‌ای ندارد؛ سکوت آن نشانه‌ای نیست."
    if code == "source_silent":
        return "سامانه‌ای که فعالیت این دفتر را می‌فرستد برای این روز داده‌ای نفرستاده است؛ سکوت دفتر نشانه‌ای نیست."
    if code == "feed_silent":
        return "از سامانه برای این روز هنوز داده‌ای نرسیده است."
    if code == "awaiting_feed":
        return "داده سامانه برای ساعت کار این دفتر هنوز نرسیده است."
    if code == "not_started":
        return "ساعت کار مقرر این دفتر هنوز شروع نشده است."
    return (f"دفتر در ساعت کار مقرر خدمت داده است ({_fa_number(row.observed)} تراکنش ثبت شد، حدود "
            f"{_fa_number(row.expected)} انتظار می‌رفت).")


def reason_en(row: Signal) -> str:
    """The suspicion as a visit list gives its reasons (in English, as the list's others)."""
    return (f"suspected closure: no transaction on the platform {row.silent_from.astimezone(calendar.TEHRAN):%H:%M}"
            f"–{row.silent_to.astimezone(calendar.TEHRAN):%H:%M}, about {round(row.expected)} expected in the window "
            f"(confidence {row.confidence:.1%})")
