"""Coverage maps (DESIGN §8): where inspections happened in a period, where they did not,
and which offices were found closed, for a district head's district or the whole city; and
which ones systemic monitoring suspects of closure (DESIGN §10b), beside what visits found."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import jdatetime
import orjson

from app.database import utcnow
from app.errors import Problem
from app.hours import calendar
from app.models import User
from app.repositories import coverage as coverage_repo
from app.services import signals
from app.services.visibility import Visibility
from app.violations.judge import CLOSED_STATES

FOUND_CLOSED = (*CLOSED_STATES, "permanently_closed")


@dataclass(frozen=True)
class Period:
    """Jalali days [first, last], both included, as Tehran reckons them."""

    first: jdatetime.date
    last: jdatetime.date

    @property
    def start(self) -> datetime:
        return calendar.tehran_instant(self.first, time(0))

    @property
    def end(self) -> datetime:
        """The first instant after the period: midnight in Tehran after its last day."""
        return calendar.tehran_instant(self.last + timedelta(days=1), time(0))


@dataclass(frozen=True)
class DistrictCoverage:
    number: int
    name_fa: str
    name_en: str
    geometry: dict  # GeoJSON
    offices: int
    offices_visited: int
    visits: int
    closures_found: int
    open_cases: int
    coverage_pct: float | None


@dataclass(frozen=True)
class Suspicion:
    """An office's open suspicion of closure in the period (systemic monitoring, §10b): its
    latest, not cleared by a field report. Drawn around the office's mark, never instead of
    it: it is a lead for a visit, not a finding."""

    day: jdatetime.date
    window: str
    silent_from: datetime
    silent_to: datetime
    expected: float
    observed: int
    confidence: float
    reason: str  # in Persian
    field_status: str | None  # confirmed: a report of that day found the office closed


@dataclass(frozen=True)
class OfficeCoverage:
    id: object
    code: str
    name: str
    district: int
    category: str
    status: str
    address: str
    location: object
    visits: int
    closures_found: int
    open_cases: int
    last_visit_at: datetime | None
    last_visit_date: jdatetime.date | None
    last_state: str | None
    days_since_last_visit: int | None
    mark: str
    signal: Suspicion | None

    @property
    def open_case(self) -> bool:
        return self.open_cases > 0


@dataclass(frozen=True)
class CoverageMap:
    period: Period
    as_of: jdatetime.date  # the day "days since last visit" counts to
    # The day of the latest report in these districts up to today (wherever the period is),
    # so that a page showing an empty period can offer the last one with reports.
    latest_report_date: jdatetime.date | None
    districts: list[DistrictCoverage]
    offices: list[OfficeCoverage]

    @property
    def totals(self) -> dict:
        total = {name: sum(getattr(d, name) for d in self.districts)
                 for name in ("offices", "offices_visited", "visits", "closures_found", "open_cases")}
        total["coverage_pct"] = percent(total["offices_visited"], total["offices"])
        return total


DEFAULT_DAYS = 30


def today() -> jdatetime.date:
    return calendar.tehran_day(utcnow())


def period_of(first: jdatetime.date | None, last: jdatetime.date | None) -> Period:
    """The period asked for: `to` defaults to today, `from` to 30 days ending at `to`."""
    last = last or max(today(), first or today())
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        message = (f"The period must not end ({calendar.format_date(last)}) before it starts "
                   f"({calendar.format_date(first)}).")
        raise Problem("validation-failed", f"Invalid fields: from, to. {message}",
                      errors={"from": [message], "to": [message]})
    return Period(first, last)


def coverage(user: User, period: Period, district: int | None) -> CoverageMap:
    """The coverage of the caller's districts (or of `district`, if it is theirs) in `period`."""
    districts = Visibility.of(user).narrowed_to(district)
    # First, since reading the signals may work a day's out again and commit them (its
    # activity, hours or field reports changed): the coverage is read after, on its own.
    suspected = signals.suspected_in(period.first, period.last, districts)
    suspected = {office_id: _suspicion(row) for office_id, row in suspected.items()}
    bounds = (period.start, period.end, calendar.format_date(period.first), calendar.format_date(period.last))
    as_of = min(period.last, today())
    latest = coverage_repo.latest_report_at(districts, calendar.tehran_instant(today() + timedelta(days=1), time(0)))
    district_rows = coverage_repo.list_districts(districts, *bounds)
    office_rows = coverage_repo.list_offices(districts, *bounds)
    return CoverageMap(
        period=period,
        as_of=as_of,
        latest_report_date=calendar.tehran_day(latest) if latest else None,
        districts=[DistrictCoverage(d.number, d.name_fa, d.name_en, orjson.loads(d.geometry), d.offices,
                                    d.offices_visited, d.visits, d.closures, d.open_cases,
                                    percent(d.offices_visited, d.offices))
                   for d in district_rows],
        offices=[_office(row, as_of, suspected.get(row.id)) for row in office_rows],
    )


def _suspicion(row) -> Suspicion:
    return Suspicion(calendar.parse_date(row.day), f"{row.window_start}–{row.window_end}", row.silent_from,
                     row.silent_to, row.expected, row.observed, row.confidence, signals.reason_fa(row),
                     row.field_status)


def _office(row, as_of: jdatetime.date, suspicion: Suspicion | None) -> OfficeCoverage:
    last_day = calendar.tehran_day(row.last_visit_at) if row.last_visit_at else None
    days = None if last_day is None else max(0, (as_of.togregorian() - last_day.togregorian()).days)
    return OfficeCoverage(row.id, row.code, row.name, row.district, row.category, row.status, row.address,
                          row.location, row.visits, row.closures, row.open_cases, row.last_visit_at, last_day,
                          row.last_state, days, mark(row.visits, row.last_state, row.open_cases), suspicion)


def mark(visits: int, last_state: str | None, open_cases: int) -> str:
    """How an office is drawn on the map (one of schemas.coverage.MARKS)."""
    if open_cases:
        return "case_open"
    if not visits:
        return "not_visited"
    if last_state in FOUND_CLOSED:
        return "closed"
    return "open" if last_state == "open" else "other"


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def picture(user: User, period: Period, district: int | None, font_dir: Path) -> bytes:
    """The same map as a PNG, with a Persian title, period, figures and legend, for a letter."""
    # matplotlib is imported here, not at start-up: only this use case needs it.
    from geo.coverage_map import Texts, draw_png, fa

    result = coverage(user, period, district)
    totals = result.totals
    if len(result.districts) == 1:
        title = f"پوشش بازرسی {result.districts[0].name_fa}"
    else:
        title = f"پوشش بازرسی {fa(len(result.districts))} منطقه شهر تهران"
    pct = "—" if totals["coverage_pct"] is None else f"{fa(totals['coverage_pct'])}٪"
    texts = Texts(
        title=title,
        period=f"از {_day(period.first)} تا {_day(period.last)}",
        summary=(f"دفاتر: {fa(totals['offices'])} · بازدیدشده: {fa(totals['offices_visited'])} · پوشش: {pct} · "
                 f"بازدیدها: {fa(totals['visits'])} · تعطیلی یافته‌شده: {fa(totals['closures_found'])} · "
                 f"پرونده باز: {fa(totals['open_cases'])}"),
        footer=f"سامانه بازرس · تهیه‌شده در {_day(today())}",
    )
    return draw_png(result.districts, result.offices, texts, font_dir)


def _day(day: jdatetime.date) -> str:
    from geo.coverage_map import fa

    return fa(calendar.format_date(day).replace("-", "/"))
