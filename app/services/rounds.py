"""Rounds: a district head splits a district's offices for a day among its inspectors.

Split by hand (`assignments`) or balanced: the offices are swept by angle around the
district's centre, and the circle is cut into one arc per inspector so that the largest
estimated work (travel along the arc plus a service time per office) is as small as it
can be (`geo.rounds.balanced_split`). Each round is then put in driving order by the
routing solver, with its ETAs (`geo.rounds.plan_round`).

Every office is in at most one round a day: the database's unique key on (day, office)
holds that, and moving an office to another round takes it out of the one it was in.
Rounds reach the phones through the sync pull (entity `rounds`, district-scoped).
"""

import uuid
from dataclasses import dataclass

import jdatetime

from app.database import utcnow
from app.errors import Problem, invalid
from app.hours import calendar
from app.models import Office, Role, Round, User
from app.repositories import offices as office_repo
from app.repositories import rounds as repo
from app.repositories import users as user_repo
from app.services import changefeed, unit_of_work
from app.services.hours_book import HoursBook
from app.services.visibility import Visibility
from app.services.visits import Settings, open_on
from geo.geometry import lon_lat
from geo.rounds import balanced_split, plan_round


@dataclass(frozen=True)
class Assignment:
    inspector: str
    offices: list[uuid.UUID]


@dataclass
class Split:
    rounds: list[Round]
    unassigned: list[dict]  # {"office": Office, "reason": str}


# ---------------------------------------------------------------- reading


def list_rounds(user: User, day: jdatetime.date | None, district: int | None, page):
    visibility = Visibility.of(user)
    # An inspector sees their own rounds, in whatever district; the others, their districts'.
    inspector = visibility.author_id
    districts = None if inspector is not None else visibility.narrowed_to(district)
    return repo.list_page(inspector_id=inspector, districts=districts, district=district,
                          jalali_date=calendar.format_date(day) if day is not None else None,
                          offset=page.offset, limit=page.limit)


def get_round(user: User, round_id: uuid.UUID) -> Round:
    round_ = repo.get(round_id)
    if round_ is None or not Visibility.of(user).sees_work(round_.district, round_.inspector_id):
        raise Problem("not-found", "There is no such round, or it is not yours to see.")
    return round_


# ---------------------------------------------------------------- planning


def plan_rounds(user: User, day: jdatetime.date, district: int | None, inspectors: list[str],
                replace: bool, settings: Settings) -> Split:
    """Split the district's offices that must be open on `day` among `inspectors`, balanced."""
    district = _district_for(user, district)
    people = _inspectors(inspectors, district, "inspectors")
    with unit_of_work():
        changefeed.lock([district])
        _clear(day, district, replace, [p.id for p in people])
        offices, unassigned = _offices_open(day, district)
        groups = balanced_split([lon_lat(o.location) for o in offices], len(people), settings.service_min * 60,
                                settings.travel)
        rounds = [_create(user, day, district, person, [offices[i] for i in group], "balanced", settings, ordered=False)
                  for person, group in zip(people, groups)]
    return Split(rounds, unassigned)


def assign_rounds(user: User, day: jdatetime.date, district: int | None, assignments: list[Assignment],
                  replace: bool, settings: Settings) -> Split:
    """Rounds as the head wrote them: each inspector's offices, in the order given."""
    district = _district_for(user, district)
    people = _inspectors([a.inspector for a in assignments], district, "assignments", key="inspector")
    with unit_of_work():
        changefeed.lock([district])
        _clear(day, district, replace, [p.id for p in people])
        seen: dict[uuid.UUID, str] = {}
        rounds = []
        for i, (person, assignment) in enumerate(zip(people, assignments)):
            offices = _own_offices(assignment.offices, district, f"assignments.{i}.offices", seen)
            rounds.append(_create(user, day, district, person, offices, "manual", settings, ordered=True))
        assigned = {o for a in assignments for o in a.offices}
        unassigned = [{"office": o, "reason": "not in any assignment"}
                      for o in office_repo.list_in_districts([district]) if o.id not in assigned]
    return Split(rounds, unassigned)


def update_round(user: User, round_id: uuid.UUID, version: int, offices: list[uuid.UUID] | None,
                 inspector: str | None, settings: Settings) -> Round:
    """Change a round's offices (in the order given) or its inspector. An office taken
    from another round of the same day leaves that round."""
    with unit_of_work():
        visibility = Visibility.of(user)
        changefeed.lock(visibility.districts)
        round_ = _locked(visibility, round_id, version)
        day = calendar.parse_date(round_.jalali_date)
        if inspector is not None:
            person = _inspectors([inspector], round_.district, "inspector", single=True)[0]
            if person.id != round_.inspector_id:
                _refuse_second_round(day, person)
                round_.inspector_id = person.id
        if offices is not None:
            chosen = _own_offices(offices, round_.district, "offices", {})
            _take_from_other_rounds(round_, [o.id for o in chosen])
            _write_stops(round_, chosen, settings, ordered=True)
        round_.version += 1
        round_.updated_at = utcnow()
        changefeed.record("rounds", round_.id, district=round_.district)
    return round_


def delete_round(user: User, round_id: uuid.UUID, version: int) -> None:
    with unit_of_work():
        visibility = Visibility.of(user)
        changefeed.lock(visibility.districts)
        round_ = _locked(visibility, round_id, version)
        changefeed.record("rounds", round_.id, district=round_.district, deleted=True)
        repo.delete([round_])


# ---------------------------------------------------------------- checks


def _district_for(user: User, district: int | None) -> int:
    visibility = Visibility.of(user)
    if district is None:
        if visibility.districts is None or len(visibility.districts) != 1:
            raise invalid("district", "Name the district whose rounds these are.")
        return next(iter(visibility.districts))
    visibility.require(district)
    return district


def _inspectors(names: list[str], district: int, field: str, key: str | None = None,
                single: bool = False) -> list[User]:
    people, seen = [], set()
    for i, name in enumerate(names):
        where = field if single else (f"{field}.{i}.{key}" if key else f"{field}.{i}")
        person = user_repo.get_by_username(name)
        if person is None or person.role != Role.INSPECTOR or not person.active:
            raise invalid(where, f"There is no active inspector «{name}».")
        if district not in person.districts:
            raise invalid(where, f"Inspector «{name}» is not assigned to district {district}.")
        if person.id in seen:
            raise invalid(where, f"Inspector «{name}» is named twice.")
        seen.add(person.id)
        people.append(person)
    return people


def _own_offices(ids: list[uuid.UUID], district: int, field: str, seen: dict) -> list[Office]:
    by_id = {o.id: o for o in office_repo.get_many(ids)}
    offices = []
    for i, office_id in enumerate(ids):
        office = by_id.get(office_id)
        if office is None:
            raise invalid(f"{field}.{i}", f"There is no office {office_id}.")
        if office.district != district:
            raise invalid(f"{field}.{i}", f"Office {office.code} is in district {office.district}, not {district}.")
        if office_id in seen:
            raise invalid(f"{field}.{i}", f"Office {office.code} is already in {seen[office_id]}'s round.")
        seen[office_id] = field
        offices.append(office)
    return offices


def _clear(day: jdatetime.date, district: int, replace: bool, inspector_ids: list[int]) -> None:
    """Make room for new rounds: refuse, or (with `replace`) delete the day's rounds."""
    key = calendar.format_date(day)
    existing = repo.list_on(key, district)
    if existing and not replace:
        raise Problem("round-exists", f"District {district} already has {len(existing)} round(s) on {key}; "
                                      "send replace: true to plan them again, or edit them one by one.")
    for round_ in existing:
        changefeed.record("rounds", round_.id, district=district, deleted=True)
    repo.delete(existing)
    elsewhere = repo.first_of(inspector_ids, key)
    if elsewhere is not None:
        raise Problem("inspector-busy", f"Inspector {elsewhere.inspector.username} already has a round on "
                                        f"{key} in district {elsewhere.district}.")


def _refuse_second_round(day: jdatetime.date, person: User) -> None:
    key = calendar.format_date(day)
    if repo.has_round(person.id, key):
        raise invalid("inspector", f"Inspector «{person.username}» already has a round on {key}.")


def _locked(visibility: Visibility, round_id: uuid.UUID, version: int) -> Round:
    round_ = repo.lock(round_id)
    if round_ is None or not visibility.covers(round_.district):
        raise Problem("not-found", "There is no such round, or it is not yours to change.")
    if round_.version != version:
        raise Problem("stale-version", f"The round is at version {round_.version}, not {version}: "
                                       "read it again and redo your change.", current=round_.version)
    return round_


# ---------------------------------------------------------------- offices and stops


def _offices_open(day: jdatetime.date, district: int) -> tuple[list[Office], list[dict]]:
    open_, unassigned = open_on(day, office_repo.list_in_districts([district]))
    offices = [office for office, _ in open_]
    if not offices:
        reason = unassigned[0]["reason"] if unassigned else "no offices"
        raise invalid("date", f"No office of district {district} must be open on "
                              f"{calendar.format_date(day)} ({reason}).")
    return offices, unassigned


def _create(user: User, day: jdatetime.date, district: int, person: User, offices: list[Office], method: str,
            settings: Settings, ordered: bool) -> Round:
    round_ = Round(id=uuid.uuid4(), district=district, jalali_date=calendar.format_date(day),
                   inspector_id=person.id, method=method, created_by=user.id)
    repo.create(round_)
    _write_stops(round_, offices, settings, ordered)
    changefeed.record("rounds", round_.id, district=district)
    return round_


def _take_from_other_rounds(round_: Round, office_ids: list[uuid.UUID]) -> None:
    moved = set(office_ids)
    for other in repo.lock_holding(round_, office_ids):
        kept = [(s.office_id, s.eta_minute) for s in other.stops if s.office_id not in moved]
        offices = {o.id: o for o in office_repo.get_many([k for k, _ in kept])}
        repo.update_stops(other, [(offices[office_id], eta) for office_id, eta in kept])
        other.version += 1
        other.updated_at = utcnow()
        changefeed.record("rounds", other.id, district=other.district)


def _write_stops(round_: Round, offices: list[Office], settings: Settings, ordered: bool) -> None:
    """Put the offices in driving order (or keep the given one) and store them with ETAs."""
    loaded = HoursBook(calendar.parse_date(round_.jalali_date))
    windows = []
    for office in offices:
        hours = loaded.hours(office)
        w = hours.windows[0] if hours.windows else None
        windows.append((calendar.seconds_of_day(w.start), calendar.seconds_of_day(w.end)) if w else (0, 24 * 3600))
    plan = plan_round(settings.travel, [lon_lat(o.location) for o in offices], windows, settings.service_min * 60,
                      keep_order=ordered, time_budget_s=settings.budget_s)
    repo.update_stops(round_, [(offices[i], start // 60 if start is not None else None)
                               for i, start in zip(plan.order, plan.starts)])
    round_.planned_minutes = round(plan.work_s / 60)
