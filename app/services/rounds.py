"""Rounds: a district head splits a district's offices for a day among its inspectors.

Split by hand (`assignments`) or balanced: the offices are swept by angle around the
district's centre, and the circle is cut into one arc per inspector so that the largest
estimated work (travel along the arc plus a service time per office) is as small as it
can be — an exact cut of the swept order, by dynamic programming over every starting
office. Each round is then put in driving order by the routing solver, with its ETAs.

Every office is in at most one round a day: the database's unique key on (day, office)
holds that, and moving an office to another round takes it out of the one it was in.
Rounds reach the phones through the sync pull (entity `rounds`, district-scoped).
"""

import math
import uuid
from dataclasses import dataclass

import jdatetime
import sqlalchemy as sa

from app.database import utcnow
from app.errors import Problem, invalid
from app.extensions import db
from app.hours import calendar
from app.models import Office, Role, Round, RoundStop, User
from app.repositories import users as user_repo
from app.services import changefeed, unit_of_work
from app.services.hours import DayRules
from app.services.scope import Scope
from app.services.visits import Settings, open_on, travel_model
from geo.geometry import lon_lat
from geo.routing import Visit, plan_day
from geo.travel import TravelMatrix


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
    query = sa.select(Round)
    if user.role == Role.INSPECTOR:
        query = query.where(Round.inspector_id == user.id)
    else:
        districts = Scope.of(user).narrowed_to(district)
        if districts is not None:
            query = query.where(Round.district.in_(sorted(districts)))
    if district is not None:
        query = query.where(Round.district == district)
    if day is not None:
        query = query.where(Round.jalali_date == calendar.format_date(day))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Round.jalali_date.desc(), Round.district, Round.inspector_id)
                              .offset(page.offset).limit(page.limit))
    return list(rows), total


def get_round(user: User, round_id: uuid.UUID) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None or not _may_see(user, round_):
        raise Problem("not-found", "There is no such round, or it is not yours to see.")
    return round_


def _may_see(user: User, round_: Round) -> bool:
    if user.role == Role.INSPECTOR:
        return round_.inspector_id == user.id
    return Scope.of(user).covers(round_.district)


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
        groups = balanced_split([lon_lat(o.location) for o in offices], len(people), settings.service_min * 60)
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
                      for o in _district_offices(district) if o.id not in assigned]
    return Split(rounds, unassigned)


def update_round(user: User, round_id: uuid.UUID, version: int, offices: list[uuid.UUID] | None,
                 inspector: str | None, settings: Settings) -> Round:
    """Change a round's offices (in the order given) or its inspector. An office taken
    from another round of the same day leaves that round."""
    with unit_of_work():
        changefeed.lock(Scope.of(user).districts)
        round_ = _locked(user, round_id, version)
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
        changefeed.lock(Scope.of(user).districts)
        round_ = _locked(user, round_id, version)
        changefeed.record("rounds", round_.id, district=round_.district, deleted=True)
        db.session.delete(round_)


# ---------------------------------------------------------------- checks


def _district_for(user: User, district: int | None) -> int:
    scope = Scope.of(user)
    if district is None:
        if scope.districts is None or len(scope.districts) != 1:
            raise invalid("district", "Name the district whose rounds these are.")
        return next(iter(scope.districts))
    scope.require(district)
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
    by_id = {o.id: o for o in db.session.scalars(sa.select(Office).where(Office.id.in_(ids)))}
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
    existing = list(db.session.scalars(sa.select(Round).where(Round.jalali_date == key, Round.district == district)))
    if existing and not replace:
        raise Problem("round-exists", f"District {district} already has {len(existing)} round(s) on {key}; "
                                      "send replace: true to plan them again, or edit them one by one.")
    for round_ in existing:
        changefeed.record("rounds", round_.id, district=district, deleted=True)
        db.session.delete(round_)
    db.session.flush()
    elsewhere = db.session.scalar(sa.select(Round).where(Round.jalali_date == key,
                                                         Round.inspector_id.in_(inspector_ids)))
    if elsewhere is not None:
        raise Problem("inspector-busy", f"Inspector {elsewhere.inspector.username} already has a round on "
                                        f"{key} in district {elsewhere.district}.")


def _refuse_second_round(day: jdatetime.date, person: User) -> None:
    key = calendar.format_date(day)
    if db.session.scalar(sa.select(Round.id).where(Round.jalali_date == key, Round.inspector_id == person.id)):
        raise invalid("inspector", f"Inspector «{person.username}» already has a round on {key}.")


def _locked(user: User, round_id: uuid.UUID, version: int) -> Round:
    round_ = db.session.scalar(sa.select(Round).where(Round.id == round_id).with_for_update())
    if round_ is None or not Scope.of(user).covers(round_.district):
        raise Problem("not-found", "There is no such round, or it is not yours to change.")
    if round_.version != version:
        raise Problem("stale-version", f"The round is at version {round_.version}, not {version}: "
                                       "read it again and redo your change.", current=round_.version)
    return round_


# ---------------------------------------------------------------- offices and stops


def _district_offices(district: int) -> list[Office]:
    return list(db.session.scalars(sa.select(Office).where(Office.district == district).order_by(Office.code)))


def _offices_open(day: jdatetime.date, district: int) -> tuple[list[Office], list[dict]]:
    open_, unassigned = open_on(day, _district_offices(district))
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
    db.session.add(round_)
    db.session.flush()
    _write_stops(round_, offices, settings, ordered)
    changefeed.record("rounds", round_.id, district=district)
    return round_


def _take_from_other_rounds(round_: Round, office_ids: list[uuid.UUID]) -> None:
    holding = sa.select(RoundStop.round_id).where(RoundStop.jalali_date == round_.jalali_date,
                                                  RoundStop.office_id.in_(office_ids))
    others = db.session.scalars(sa.select(Round).where(Round.id.in_(holding), Round.id != round_.id)
                                .order_by(Round.id).with_for_update())
    moved = set(office_ids)
    for other in list(others):
        kept = [(s.office_id, s.eta_minute) for s in other.stops if s.office_id not in moved]
        offices = {o.id: o for o in db.session.scalars(sa.select(Office).where(Office.id.in_([k for k, _ in kept])))}
        _replace_stops(other, [(offices[office_id], eta) for office_id, eta in kept])
        other.version += 1
        other.updated_at = utcnow()
        changefeed.record("rounds", other.id, district=other.district)


def _write_stops(round_: Round, offices: list[Office], settings: Settings, ordered: bool) -> None:
    """Put the offices in driving order (or keep the given one) and store them with ETAs."""
    day = calendar.parse_date(round_.jalali_date)
    loaded = DayRules(day)
    if not offices:
        _replace_stops(round_, [])
        round_.planned_minutes = 0
        return
    windows = []
    for office in offices:
        hours = loaded.hours(office)
        w = hours.windows[0] if hours.windows else None
        windows.append((calendar.seconds_of_day(w.start), calendar.seconds_of_day(w.end)) if w else (0, 24 * 3600))
    start_s = min(w[0] for w in windows)
    points = [lon_lat(o.location) for o in offices]
    matrix = travel_model().matrix([points[0]] + points)
    if ordered:
        order = list(range(len(offices)))
    else:
        visits = [Visit(key=str(i), window=w, service_s=settings.service_min * 60, tier=3)
                  for i, w in enumerate(windows)]
        plan = plan_day(matrix, visits, start_s=start_s, time_budget_s=settings.budget_s)
        order = [int(s.key) for s in plan.stops]
        order += [i for i in range(len(offices)) if i not in set(order)]  # dropped: still the round's
    etas, finish = timeline(matrix, order, windows, start_s, settings.service_min * 60)
    _replace_stops(round_, [(offices[i], eta // 60 if eta is not None else None) for i, eta in zip(order, etas)])
    round_.planned_minutes = round((finish - start_s) / 60)


def timeline(matrix: TravelMatrix, order: list[int], windows: list[tuple[int, int]], start_s: int,
             service_s: int) -> tuple[list[int | None], int]:
    """Arrival second of each office visited in `order` (index i is matrix row i + 1, row 0
    the start), waiting for a window to open; None once a window is missed."""
    etas, clock, here = [], start_s, 0
    for i in order:
        arrive = clock + int(matrix.seconds[here][i + 1])
        opens, closes = windows[i]
        begin = max(arrive, opens)
        if begin >= closes:
            etas.append(None)
            continue
        etas.append(begin)
        clock, here = begin + service_s, i + 1
    return etas, clock


def _replace_stops(round_: Round, stops: list[tuple[Office, int | None]]) -> None:
    # Deleted by SQL before the inserts: the ORM would insert first and trip the unique key.
    db.session.execute(sa.delete(RoundStop).where(RoundStop.round_id == round_.id))
    db.session.expire(round_, ["stops"])
    for seq, (office, eta) in enumerate(stops, start=1):
        db.session.add(RoundStop(round_id=round_.id, seq=seq, office_id=office.id, jalali_date=round_.jalali_date,
                                 eta_minute=eta))
    db.session.flush()
    db.session.refresh(round_, ["stops"])


# ---------------------------------------------------------------- the balanced split


def balanced_split(points: list[tuple[float, float]], parts: int, service_s: int) -> list[list[int]]:
    """Cut the offices into `parts` groups of similar work: a sweep by angle around their
    centre, cut into contiguous arcs minimising the largest arc's work (travel between
    consecutive offices plus service), trying every office as the start of the circle.
    Returns the groups as lists of indices into `points`; with fewer offices than parts,
    some groups are empty."""
    n = len(points)
    if parts <= 0:
        return []
    if n <= parts:
        return [[i] for i in range(n)] + [[] for _ in range(parts - n)]
    cx = sum(p[0] for p in points) / n
    cy = sum(p[1] for p in points) / n
    scale = math.cos(math.radians(cy))
    swept = sorted(range(n), key=lambda i: math.atan2(points[i][1] - cy, (points[i][0] - cx) * scale))
    matrix = travel_model().matrix([points[i] for i in swept])
    best: tuple[float, list[list[int]]] | None = None
    for shift in range(n):
        ring = [(shift + k) % n for k in range(n)]
        worst, cuts = _min_max_cut(ring, matrix, parts, service_s)
        if best is None or worst < best[0]:
            best = (worst, [[swept[ring[k]] for k in range(a, b)] for a, b in cuts])
    return best[1]


def _min_max_cut(ring: list[int], matrix: TravelMatrix, parts: int, service_s: int):
    """Contiguous cut of `ring` into `parts` non-empty arcs minimising the largest arc work."""
    n = len(ring)
    step = [0] + [int(matrix.seconds[ring[k - 1]][ring[k]]) for k in range(1, n)]
    prefix = [0] * (n + 1)
    for k in range(n):
        prefix[k + 1] = prefix[k] + step[k]

    def work(a: int, b: int) -> int:  # arc ring[a:b]: travel inside it plus service
        return prefix[b] - prefix[a + 1] + (b - a) * service_s

    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(parts + 1)]
    back = [[0] * (n + 1) for _ in range(parts + 1)]
    cost[0][0] = 0
    for p in range(1, parts + 1):
        for b in range(p, n + 1):
            for a in range(p - 1, b):
                value = max(cost[p - 1][a], work(a, b))
                if value < cost[p][b]:
                    cost[p][b], back[p][b] = value, a
    cuts, b = [], n
    for p in range(parts, 0, -1):
        a = back[p][b]
        cuts.append((a, b))
        b = a
    return cost[parts][n], list(reversed(cuts))
