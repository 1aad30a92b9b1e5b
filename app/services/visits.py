"""Visit lists (DESIGN §7): the offices an inspector should visit on a day, in driving order.

The list is built from what the server knows, then handed to the routing solver
(`geo.routing`): which offices are the inspector's (their round that day, or their
districts), which are already done (reported that day), which are closed that day (no
mandated hours: nothing to check), each office's mandated window, and its priority:

  0  suspected closure   an open case against the office, or the platform's activity
                         (DESIGN §10b: silent in its window that day, not cleared by a visit)
  1  not visited         no report in the look-back period
  2  past violation      a confirmed violation on record
  3  routine             the rest

The solver never drops a higher priority to fit a lower one (see geo.routing), and the
suspected closures are driven to first: a suspicion is of now. Asked again
mid-round with the current position and time, the list plans only what is left.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import jdatetime
from flask import current_app

from app.database import utcnow
from app.errors import Problem, invalid
from app.hours import calendar
from app.hours.rules import DayHours, Window
from app.models import Office, Role, Round, User
from app.models.places import OfficeStatus
from app.models.violations import OPEN_STATUSES as OPEN_CASE
from app.repositories import cases as case_repo
from app.repositories import districts as district_repo
from app.repositories import offices as office_repo
from app.repositories import reports as report_repo
from app.repositories import rounds as round_repo
from app.repositories import users as user_repo
from app.services import signals
from app.services.hours_book import HoursBook
from app.services.visibility import Visibility
from geo.geometry import lon_lat
from geo.routing import Plan, Visit, plan_day_suspects_first
from geo.travel import StraightLineTravel, TravelModel

PRIORITIES = {0: "suspected_closure", 1: "not_visited", 2: "past_violation", 3: "routine"}
MAX_OUTSIDE_M = 5_000  # a start this far beyond the city's districts is a wrong position


@dataclass(frozen=True)
class Settings:
    """What visit lists and rounds read from the config, read once per request: the pure
    planners (geo.routing, geo.rounds) are given these values, never the config."""

    service_min: int
    budget_s: float
    look_back_days: int
    travel: TravelModel

    @classmethod
    def from_config(cls, service_min: int | None = None, budget_s: float | None = None) -> "Settings":
        config = current_app.config
        return cls(service_min if service_min is not None else config["VISIT_SERVICE_MINUTES"],
                   budget_s if budget_s is not None else config["ROUTE_TIME_BUDGET_S"],
                   config["VISIT_LOOK_BACK_DAYS"], travel_model())


def travel_model() -> TravelModel:
    config = current_app.config
    return StraightLineTravel(detour=config["TRAVEL_DETOUR_FACTOR"], speed_kmh=config["TRAVEL_SPEED_KMH"])


@dataclass
class Candidate:
    office: Office
    hours: DayHours
    window: Window | None = None  # the day's window it is planned in
    priority: int = 3
    reason: str = ""


@dataclass
class VisitList:
    inspector: User
    day: jdatetime.date
    start: datetime
    position: tuple[float, float]  # lon, lat
    position_source: str
    round: Round | None
    settings: Settings
    plan: Plan | None
    candidates: dict[str, Candidate]
    done: list[dict] = field(default_factory=list)
    closed: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- who and where


def inspector_for(user: User, username: str | None) -> User:
    """The inspector whose list is asked for: the caller, or one a head or admin names."""
    visibility = Visibility.of(user)
    if visibility.author_id is not None:  # an inspector: their own work only
        if username not in (None, user.username):
            raise Problem("forbidden", "An inspector may ask only for their own visit list.")
        return user
    if username is None:
        raise invalid("inspector", "Name the inspector whose visit list you want.")
    inspector = user_repo.get_by_username(username)
    if inspector is None or inspector.role != Role.INSPECTOR or not inspector.active:
        raise invalid("inspector", f"There is no active inspector «{username}».")
    if not visibility.covers_any(inspector.districts):
        raise Problem("out-of-scope", f"Inspector «{username}» works outside your districts.")
    return inspector


def check_in_tehran(lon: float, lat: float) -> None:
    """Refuse a start position that is not in (or just beside) one of Tehran's districts."""
    gap = district_repo.gap_m(lon, lat)
    if gap is not None and gap > MAX_OUTSIDE_M:
        message = (f"({lat:.5f}, {lon:.5f}) is {gap / 1000:.1f} km outside Tehran's districts; "
                   "give the inspector's position in the city (latitude first).")
        raise Problem("validation-failed", f"Invalid field: lat/lon. {message}",
                      errors={"lat": [message], "lon": [message]})


# ---------------------------------------------------------------- what to visit


def _offices_of(inspector: User, round_: Round | None) -> list[Office]:
    if round_ is not None:
        ids = [stop.office_id for stop in round_.stops]
        by_id = {o.id: o for o in office_repo.get_many(ids)}
        return [by_id[i] for i in ids if i in by_id]
    return office_repo.list_in_districts(inspector.districts)


def round_of(inspector: User, day: jdatetime.date) -> Round | None:
    return round_repo.get_for(inspector.id, calendar.format_date(day))


def _day_bounds(day: jdatetime.date) -> tuple[datetime, datetime]:
    start = calendar.tehran_instant(day, time(0))
    return start, calendar.tehran_instant(day + timedelta(days=1), time(0))


def _cases(office_ids: list[uuid.UUID], before_day: str) -> tuple[dict, dict]:
    """Open cases, and the latest confirmed violation, per office (up to the day)."""
    open_cases: dict[uuid.UUID, str] = {}
    confirmed: dict[uuid.UUID, str] = {}
    for office_id, status, day in case_repo.statuses_up_to(office_ids, before_day, OPEN_CASE + ("confirmed",)):
        (open_cases if status in OPEN_CASE else confirmed)[office_id] = day
    return open_cases, confirmed


def _prioritise(candidates: list[Candidate], day: jdatetime.date, look_back_days: int) -> None:
    ids = [c.office.id for c in candidates]
    day_start, _ = _day_bounds(day)
    since_day = day - timedelta(days=look_back_days)
    last_visits = report_repo.latest_by_office(ids, calendar.tehran_instant(since_day, time(0)), day_start)
    open_cases, confirmed = _cases(ids, calendar.format_date(day))
    suspected = signals.suspicions(day, [c.office for c in candidates])
    for c in candidates:
        office_id = c.office.id
        if office_id in open_cases:
            c.priority, c.reason = 0, f"suspected closure: case of {open_cases[office_id]} still open"
        elif office_id in suspected:
            c.priority, c.reason = 0, signals.reason_en(suspected[office_id])
        elif office_id not in last_visits:
            c.priority, c.reason = 1, f"not visited since {calendar.format_date(since_day)}"
        elif office_id in confirmed:
            c.priority, c.reason = 2, f"violation confirmed on {confirmed[office_id]}"
        else:
            seen = calendar.format_date(calendar.tehran_day(last_visits[office_id][1]))
            c.priority, c.reason = 3, f"routine: last visited {seen}"


def open_on(day: jdatetime.date, offices: list[Office]) -> tuple[list[tuple[Office, DayHours]], list[dict]]:
    """The offices that must be open on `day`, with their hours, and the others with why
    (suspended or closed for good; no mandated hours: a holiday, a closure rule)."""
    loaded = HoursBook(day)
    open_, closed = [], []
    for office in offices:
        hours = loaded.hours(office)
        if office.status != OfficeStatus.ACTIVE:
            closed.append({"office": office, "reason": f"office is {office.status}"})
        elif not hours.windows:
            closed.append({"office": office, "reason": hours.reason})
        else:
            open_.append((office, hours))
    return open_, closed


def _window(hours: DayHours, after: time) -> Window:
    """The day's window to visit in: the first that is still open at `after`, else the last."""
    return next((w for w in hours.windows if w.end > after), hours.windows[-1])


# ---------------------------------------------------------------- the list


def visit_list(user: User, day: jdatetime.date, position: tuple[float, float] | None, start: time | None,
               inspector_name: str | None, settings: Settings) -> VisitList:
    inspector = inspector_for(user, inspector_name)
    round_ = round_of(inspector, day)
    offices = _offices_of(inspector, round_)
    if not offices:
        why = ("their round that day has no offices" if round_ is not None
               else "their districts have no offices")
        raise invalid("inspector", f"{inspector.username} has no offices to visit on {calendar.format_date(day)}: "
                                   f"{why}.")
    if position is not None:
        check_in_tehran(*position)

    day_start, day_end = _day_bounds(day)
    today = report_repo.latest_by_office([o.id for o in offices], day_start, day_end)
    result = VisitList(inspector, day, day_start, position or (0.0, 0.0), "given", round_, settings, None, {})
    for office in offices:
        if office.id in today:
            report_id, at, state = today[office.id]
            result.done.append({"office": office, "report_id": report_id, "at": at, "office_state": state})
    open_, result.closed = open_on(day, [o for o in offices if o.id not in today])
    candidates = [Candidate(office, hours) for office, hours in open_]
    if not candidates and not result.done:
        reason = result.closed[0]["reason"] if result.closed else "no mandated hours"
        raise invalid("date", f"No office of {inspector.username}'s must be open on "
                              f"{calendar.format_date(day)} ({reason}): there is nothing to visit.")

    clock = start or _default_start(day, candidates)
    result.start = calendar.tehran_instant(day, clock)
    if position is None:
        result.position = _centre([c.office for c in candidates] or [d["office"] for d in result.done])
        result.position_source = "offices_centre"
    if not candidates:
        return result

    _prioritise(candidates, day, settings.look_back_days)
    points = [result.position] + [lon_lat(c.office.location) for c in candidates]
    matrix = settings.travel.matrix(points)
    visits = []
    for c in candidates:
        c.window = _window(c.hours, clock)
        window = (calendar.seconds_of_day(c.window.start), calendar.seconds_of_day(c.window.end))
        visits.append(Visit(key=str(c.office.id), window=window, service_s=settings.service_min * 60,
                            tier=c.priority))
    result.plan = plan_day_suspects_first(matrix, visits, start_s=calendar.seconds_of_day(clock),
                                          time_budget_s=settings.budget_s)
    result.candidates = {str(c.office.id): c for c in candidates}
    return result


def _default_start(day: jdatetime.date, candidates: list[Candidate]) -> time:
    """Now (to the minute) when planning today; otherwise the earliest opening of the day."""
    now = utcnow().astimezone(calendar.TEHRAN)
    if calendar.tehran_day(now) == day:
        return now.time().replace(second=0, microsecond=0)
    openings = [c.hours.windows[0].start for c in candidates]
    return min(openings) if openings else time(8, 0)


def _centre(offices: list[Office]) -> tuple[float, float]:
    points = [lon_lat(o.location) for o in offices]
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


# ---------------------------------------------------------------- the answer


def describe(result: VisitList) -> dict:
    """The visit list as the wire form (schemas.visits.VisitListSchema) expects it."""
    day, plan, settings = result.day, result.plan, result.settings
    at = lambda seconds: calendar.tehran_instant(day, time(0)) + timedelta(seconds=seconds)  # noqa: E731
    stops, dropped = [], []
    if plan is not None:
        for seq, stop in enumerate(plan.stops, start=1):
            c = result.candidates[stop.key]
            stops.append({"seq": seq, "eta": at(stop.arrival_s), "visit_at": at(stop.start_s),
                          "wait_min": round((stop.start_s - stop.arrival_s) / 60), "travel_m": stop.travel_m,
                          "travel_min": round(stop.travel_s / 60), **_planned(c, c.reason)})
        dropped = [_planned(result.candidates[drop.key], drop.reason) for drop in plan.dropped]
    finish = at(plan.stops[-1].start_s + settings.service_min * 60) if plan and plan.stops else None
    model = settings.travel
    travel = {"kind": type(model).__name__, **{k: v for k, v in vars(model).items() if not k.startswith("_")}}
    return {
        "date": day, "inspector": result.inspector.username,
        "round_id": result.round.id if result.round else None,
        "start": {"at": result.start, "lon": result.position[0], "lat": result.position[1],
                  "position_source": result.position_source},
        "stops": stops, "dropped": dropped,
        "done": [{**d, "office": _brief(d["office"])} for d in result.done],
        "closed": [{**d, "office": _brief(d["office"])} for d in result.closed],
        "totals": {"stops": len(stops), "dropped": len(dropped), "done": len(result.done),
                   "closed": len(result.closed), "travel_m": sum(s["travel_m"] for s in stops),
                   "travel_min": round(sum(s.travel_s for s in plan.stops) / 60) if plan else 0,
                   "service_min": settings.service_min * len(stops), "finish_at": finish},
        "solver": None if plan is None else {
            "name": plan.solver, "time_budget_s": plan.time_budget_s, "elapsed_s": round(plan.elapsed_s, 3),
            "service_min": settings.service_min, "travel_model": travel},
    }


def _brief(office: Office) -> dict:
    lon, lat = lon_lat(office.location)
    return {"id": office.id, "code": office.code, "name": office.name, "district": office.district,
            "address": office.address, "lat": lat, "lon": lon}


def _planned(c: Candidate, reason: str) -> dict:
    """What a stop and a dropped office both say of the office."""
    window = {"start": f"{c.window.start:%H:%M}", "end": f"{c.window.end:%H:%M}"}
    return {"office": _brief(c.office), "window": window, "priority": PRIORITIES[c.priority],
            "priority_rank": c.priority, "reason": reason}
