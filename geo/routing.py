"""One inspector's day: which offices to visit and in what order (DESIGN §7), as pure code.

    plan = plan_day(travel, visits, start_s=8 * 3600)

`travel` is a `geo.travel.TravelMatrix` over the inspector's start (index 0) and the
visits (index i + 1 is `visits[i]`). Times are whole seconds since midnight.

- The route is open: the day ends at the last visit, the inspector does not drive back.
- A visit's window is half-open, `[open, close)`: the inspector may arrive early and wait,
  and the visit must start before `close`. With `day_end_s`, every visit must also end by
  then.
- Every visit is optional, but priority is strict: a visit of a more important tier
  (0 suspected closure, 1 never visited this period, 2 past violation, 3 the rest) is
  never dropped to make room for any number of less important ones. Within that, the
  plan keeps as many visits as it can, tier by tier, then drives the fewest metres.
- What cannot be visited is returned in `Plan.dropped` with one of the `REASONS`.
- The search stops at `time_budget_s`, or once converged (`stop_early`). A fixed `seed`
  gives the same plan whenever it converged within the budget; a search cut short by the
  clock depends on how fast the machine was.

The solver is PyVRP (iterated local search over a prize-collecting VRP with time windows);
README "Routing (visit lists)" has the measurements it was chosen by. A day is planned as:
a greedy plan (`_Day.fill`), `RUNS` short PyVRP searches from it, and a local search of our
own on the best of them (`_Day.improve`). `solve` holds PyVRP's settings, shared with
`bench/route_bench.py` (whose TSPLIB and Solomon runs are single searches).
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
import pyvrp
from pyvrp.IteratedLocalSearch import IteratedLocalSearchParams
from pyvrp.search import NeighbourhoodParams
from pyvrp.solve import SolveParams
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from geo.travel import TravelMatrix

TIERS = (0, 1, 2, 3)

CLOSED_AT_START = "window closed before the day starts"
UNREACHABLE = "window closes before the inspector can get there"
PAST_DAY_END = "cannot be done before the day ends"
NO_ROOM = "no room in the day beside the visits kept"
REASONS = (CLOSED_AT_START, UNREACHABLE, PAST_DAY_END, NO_ROOM)

SOLVER = f"pyvrp {version('pyvrp')}"

# With stop_early, a search ends once this many iterations per client have passed
# without a better solution (or at the budget, whichever comes first). 24 is what a
# single search from PyVRP's random start needed (TSPLIB and Solomon in the bench still
# use it); a day is RUNS searches of DAY_NO_IMPROVEMENT_PER_CLIENT each instead.
NO_IMPROVEMENT_PER_CLIENT = 24
# A day: RUNS searches (seeds differ), each from the greedy plan and stopping after
# DAY_NO_IMPROVEMENT_PER_CLIENT iterations per client without a better solution, then
# `_Day.improve` on the best. Measured on the bench's typical days against a 30 s search,
# 3 seeds each (days 1-20 / held-out 101-120): one search of 24 per client from PyVRP's
# random start kept the 30 s plan in 56/60 and 55/60 runs (CPU p50 ~150-190 ms); from
# the greedy plan 59/60 and 58/60; one of 16 from the greedy plan 59/60 and 58/60 at
# ~110 ms; adding `_Day.improve` 59/60 and 59/60 at ~120 ms (one of 24: 59/60 and 59/60
# at ~165 ms); 3 searches of 8 plus it 60/60 and 59/60 at ~195 ms CPU p50 (2 searches of
# 12: 59/60 and 59/60 at ~180 ms; 4 of 6 without it: 59/60 and 57/60 at ~210 ms). The
# misses left are other local optima, which searches from different seeds escape.
RUNS = 3
DAY_NO_IMPROVEMENT_PER_CLIENT = 8


@dataclass(frozen=True)
class Visit:
    key: str
    window: tuple[int, int]
    service_s: int
    tier: int


@dataclass(frozen=True)
class PlannedStop:
    key: str
    arrival_s: int  # ETA
    start_s: int  # max(arrival_s, window open): the visit starts after any wait
    travel_m: int  # from the previous stop (or the start)
    travel_s: int


@dataclass(frozen=True)
class Dropped:
    key: str
    reason: str


@dataclass(frozen=True)
class Plan:
    stops: list[PlannedStop]  # in driving order
    dropped: list[Dropped]  # in the order of the visits given
    solver: str
    time_budget_s: float
    elapsed_s: float

    @property
    def travel_m(self) -> int:
        return sum(stop.travel_m for stop in self.stops)


def plan_day(travel: TravelMatrix, visits: Sequence[Visit], start_s: int, day_end_s: int | None = None,
             time_budget_s: float = 1.0, seed: int = 1, stop_early: bool = True) -> Plan:
    """The day's stops in driving order and the visits dropped, with why."""
    began = time.perf_counter()
    _check(travel, visits)
    dropped: dict[int, str] = {}
    for i, visit in enumerate(visits):
        reason = _alone_impossible(travel, i, visit, start_s, day_end_s)
        if reason:
            dropped[i] = reason
    candidates = [i for i in range(len(visits)) if i not in dropped]

    order: list[int] = []
    if candidates:
        data, day = _problem(travel, visits, candidates, start_s, day_end_s)
        order = [candidates[k] for k in _search(data, day, began + time_budget_s, seed, stop_early)]
    for i in set(candidates) - set(order):
        dropped[i] = NO_ROOM

    return Plan(stops=schedule(travel, visits, order, start_s, day_end_s),
                dropped=[Dropped(visits[i].key, dropped[i]) for i in sorted(dropped)],
                solver=SOLVER, time_budget_s=time_budget_s, elapsed_s=time.perf_counter() - began)


def plan_day_suspects_first(travel: TravelMatrix, visits: Sequence[Visit], start_s: int,
                            day_end_s: int | None = None, time_budget_s: float = 1.0, seed: int = 1,
                            stop_early: bool = True) -> Plan:
    """`plan_day`, but the suspected closures (tier 0) are driven to first, before any other
    visit: a suspicion is of now (the office silent, or a case still open), and a visit
    that comes when the office has reopened proves nothing. The suspects are planned from
    the start, then the rest from the last suspect, each with half the budget."""
    first = [i for i, visit in enumerate(visits) if visit.tier == 0]
    rest = [i for i, visit in enumerate(visits) if visit.tier != 0]
    if not first or not rest:
        return plan_day(travel, visits, start_s, day_end_s, time_budget_s, seed, stop_early)
    began = time.perf_counter()
    order = {visit.key: i for i, visit in enumerate(visits)}
    lead = plan_day(_among(travel, 0, first), [visits[i] for i in first], start_s, day_end_s,
                    time_budget_s / 2, seed, stop_early)
    origin, clock = 0, start_s
    if lead.stops:
        index = order[lead.stops[-1].key]
        origin, clock = index + 1, lead.stops[-1].start_s + visits[index].service_s
    then = plan_day(_among(travel, origin, rest), [visits[i] for i in rest], clock, day_end_s,
                    time_budget_s / 2, seed, stop_early)
    return Plan(stops=lead.stops + then.stops,
                dropped=sorted(lead.dropped + then.dropped, key=lambda d: order[d.key]),
                solver=SOLVER, time_budget_s=time_budget_s, elapsed_s=time.perf_counter() - began)


def _among(travel: TravelMatrix, origin: int, visits: list[int]) -> TravelMatrix:
    """The travel matrix over point `origin` (index 0) and these visits (i + 1 is visits[i])."""
    points = [origin] + [i + 1 for i in visits]
    return TravelMatrix(travel.metres[np.ix_(points, points)], travel.seconds[np.ix_(points, points)])


def _search(data: pyvrp.ProblemData, day: "_Day", deadline: float, seed: int, stop_early: bool) -> list[int]:
    """The clients (indices into `data.clients()`) of the best plan found, in driving order.

    Every search starts from the greedy plan, which is feasible (so is their best: PyVRP
    only takes a feasible solution as its best). Without stop_early, the time left is
    shared equally by the searches still to run."""
    greedy = day.fill([])
    initial = pyvrp.Solution(data, [greedy] if greedy else [])
    best, best_cost = greedy, day.cost(greedy)
    for run in range(RUNS):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        result = solve(data, left if stop_early else left / (RUNS - run),
                       seed if run == 0 else (seed * 1000 + run) % 2 ** 32, stop_early, initial_solution=initial,
                       no_improvement_per_client=DAY_NO_IMPROVEMENT_PER_CLIENT)
        if result.best.is_feasible():
            route = [activity.idx for r in result.best.routes() for activity in r if activity.is_client()]
            if day.cost(route) < best_cost:
                best, best_cost = route, day.cost(route)
    return day.improve(best, deadline)


def solve(data: pyvrp.ProblemData, time_budget_s: float, seed: int, stop_early: bool = True,
          initial_solution: pyvrp.Solution | None = None,
          no_improvement_per_client: int = NO_IMPROVEMENT_PER_CLIENT) -> pyvrp.Result:
    """PyVRP with the settings Bazres plans with: the time budget, or earlier once the
    search has stopped improving (most days converge long before the budget)."""
    stop = MaxRuntime(time_budget_s)
    if stop_early:
        stop = MultipleCriteria([stop, NoImprovement(no_improvement_per_client * data.num_clients)])
    return pyvrp.solve(data, stop=stop, seed=seed, collect_stats=False, display=False,
                       params=_params(data.num_clients), initial_solution=initial_solution)


def _params(num_clients: int) -> SolveParams:
    """PyVRP's defaults, scaled to the instance. Its late-acceptance history (300) suits
    runs of many thousand iterations; a 25-office day converges in a few hundred, and there
    a history as long as the number of clients missed the 30 s plan in 2 runs of 60 where
    300 missed it in 11, at the same cost. Each client tries moves with its nearest half
    (at least 12, at most PyVRP's 50) rather than with all: on the days that nearly halved the
    cost of an iteration and missed no more often. TSPLIB and Solomon
    (bench/route_bench.py) still meet their goals with these settings."""
    return SolveParams(ils=IteratedLocalSearchParams(history_length=max(num_clients, 1)),
                       neighbourhood=NeighbourhoodParams(num_neighbours=min(50, max(12, num_clients // 2))))


def prizes(tiers: Sequence[int], max_route_cost: int) -> list[int]:
    """Lexicographic prizes: each tier's prize exceeds every less important visit's prize
    together plus the dearest possible route, so no trade can drop a more important visit."""
    prize: dict[int, int] = {}
    lower = 0
    for tier in reversed(TIERS):
        prize[tier] = lower + max_route_cost + 1
        lower += prize[tier] * sum(1 for t in tiers if t == tier)
    return [prize[t] for t in tiers]


def _check(travel: TravelMatrix, visits: Sequence[Visit]) -> None:
    n = len(visits) + 1
    if travel.metres.shape != (n, n) or travel.seconds.shape != (n, n):
        raise ValueError(f"the travel matrix must be {n}×{n}: the start, then one row per visit")
    for visit in visits:
        opens, closes = visit.window
        if not opens < closes or visit.service_s < 0 or visit.tier not in TIERS:
            raise ValueError(f"visit {visit.key}: needs open < close, service_s >= 0 and a tier in {TIERS}")


def _alone_impossible(travel: TravelMatrix, i: int, visit: Visit, start_s: int,
                      day_end_s: int | None) -> str | None:
    """Why the visit could not be made even if it were the only one, going straight there.
    (Straight there is the earliest arrival as long as the matrix keeps the triangle
    inequality, which straight lines do and a road router's fastest paths do too.)"""
    opens, closes = visit.window
    if closes <= start_s:
        return CLOSED_AT_START
    arrival = start_s + int(travel.seconds[0, i + 1])
    if arrival >= closes:
        return UNREACHABLE
    if day_end_s is not None and max(arrival, opens) + visit.service_s > day_end_s:
        return PAST_DAY_END
    return None


def _problem(travel: TravelMatrix, visits: Sequence[Visit], candidates: list[int], start_s: int,
             day_end_s: int | None) -> tuple[pyvrp.ProblemData, "_Day"]:
    index = [0] + [i + 1 for i in candidates]
    metres = np.ascontiguousarray(travel.metres[np.ix_(index, index)], dtype=np.int64)
    seconds = np.ascontiguousarray(travel.seconds[np.ix_(index, index)], dtype=np.int64)
    # An open route: the way back to the start (the route's formal end) is free.
    metres[:, 0] = 0
    seconds[:, 0] = 0
    # No route can cost more than entering every visit by its dearest arc.
    max_route_cost = int(metres[:, 1:].max(axis=0).sum())
    prize = prizes([visits[i].tier for i in candidates], max_route_cost)
    end = {} if day_end_s is None else {"tw_late": day_end_s}
    clients = [pyvrp.Client(location=k + 1, service_duration=visits[i].service_s,
                            # half-open window: the last second a visit may start is close - 1
                            tw_early=visits[i].window[0], tw_late=visits[i].window[1] - 1,
                            prize=prize[k], required=False, name=visits[i].key)
               for k, i in enumerate(candidates)]
    day = _Day(metres.tolist(), seconds.tolist(), start_s, day_end_s,
               [(c.tw_early, c.tw_late, c.service_duration, c.prize) for c in clients])
    return pyvrp.ProblemData(
        locations=[pyvrp.Location(0, 0) for _ in index],  # coordinates are only for plots
        clients=clients,
        depots=[pyvrp.Depot(location=0, tw_early=start_s, **end)],
        vehicle_types=[pyvrp.VehicleType(num_available=1, tw_early=start_s, start_late=start_s, **end)],
        distance_matrices=[metres],
        duration_matrices=[seconds],
    ), day


class _Day:
    """The problem as given to PyVRP (matrices with the start at 0 and client k at k + 1,
    the way back free), for the greedy plan and the local search of our own. A route is a
    list of clients k, in driving order; its cost is PyVRP's: metres plus prizes left out."""

    def __init__(self, metres: list[list[int]], seconds: list[list[int]], start_s: int, day_end_s: int | None,
                 clients: list[tuple[int, int, int, int]]):
        self.metres, self.seconds, self.start_s, self.day_end_s = metres, seconds, start_s, day_end_s
        self.opens, self.last, self.service, self.prize = (list(column) for column in zip(*clients))
        self.total_prize = sum(self.prize)

    def feasible(self, route: list[int]) -> bool:
        clock, here = self.start_s, 0
        for k in route:
            clock = max(clock + self.seconds[here][k + 1], self.opens[k])
            if clock > self.last[k]:
                return False
            clock += self.service[k]
            here = k + 1
        return self.day_end_s is None or clock <= self.day_end_s

    def distance(self, route: list[int]) -> int:
        return sum(self.metres[a][b] for a, b in zip([0] + [k + 1 for k in route], [k + 1 for k in route]))

    def cost(self, route: list[int]) -> int:
        return self.distance(route) + self.total_prize - sum(self.prize[k] for k in route)

    def _arc(self, a: int, b: int | None) -> int:  # between client a and b (-1 the start, None the end)
        return 0 if b is None else self.metres[a + 1][b + 1]

    def fill(self, route: list[int]) -> list[int]:
        """Prize by prize (the most important tier first), the cheapest feasible insertion
        of any visit left out, until none fits; then the next tier."""
        route = list(route)
        for prize in sorted(set(self.prize), reverse=True):
            while True:
                out = [k for k in range(len(self.prize)) if self.prize[k] == prize and k not in route]
                ends = list(zip([-1] + route, route + [None]))
                tries = sorted((self._arc(a, k) + self._arc(k, b) - self._arc(a, b), i, k)
                               for k in out for i, (a, b) in enumerate(ends))
                for _, i, k in tries:
                    if self.feasible(route[:i] + [k] + route[i:]):
                        route.insert(i, k)
                        break
                else:
                    break
        return route

    def improve(self, route: list[int], deadline: float) -> list[int]:
        """First-improvement local search on the best route PyVRP found, until no move helps:
        insert a visit left out (`fill`); replace a kept visit by one left out of at least
        its prize; move a segment of 1-3 visits elsewhere, reversed or not (or-opt); reverse
        a segment (2-opt). PyVRP's operators have no intra-route reversal, and its replace
        tries fewer positions: on the bench's typical days this pass turned misses of the
        30 s plan into hits (e.g. a visit swapped for one next to it, a reversed run of five),
        at ~10 ms. It stops at the deadline too (a day of many more visits could take long)."""
        while time.perf_counter() < deadline:
            filled = self.fill(route)
            if len(filled) > len(route):
                route = filled
                continue
            moved = self._better(route, deadline)
            if moved is None:
                break
            route = moved
        return route

    def _better(self, route: list[int], deadline: float) -> list[int] | None:
        """The first route found by one move that is feasible and cheaper, or None (also
        once past the deadline)."""
        distance = self.distance(route)
        kept = set(route)
        out = [k for k in range(len(self.prize)) if k not in kept]
        for j, k in enumerate(route):  # replace
            if time.perf_counter() >= deadline:
                return None
            rest = route[:j] + route[j + 1:]
            for new in out:
                if self.prize[new] < self.prize[k]:
                    continue
                for i in range(len(route)):
                    moved = rest[:i] + [new] + rest[i:]
                    if ((self.prize[new] > self.prize[k] or self.distance(moved) < distance)
                            and self.feasible(moved)):
                        return moved
        for length in (1, 2, 3):  # or-opt
            for j in range(len(route) - length + 1):
                if time.perf_counter() >= deadline:
                    return None
                segment, rest = route[j:j + length], route[:j] + route[j + length:]
                for piece in (segment, segment[::-1]):
                    for i in range(len(rest) + 1):
                        moved = rest[:i] + piece + rest[i:]
                        if self.distance(moved) < distance and self.feasible(moved):
                            return moved
        for i in range(len(route)):  # 2-opt
            for j in range(i + 2, len(route) + 1):
                moved = route[:i] + route[i:j][::-1] + route[j:]
                if self.distance(moved) < distance and self.feasible(moved):
                    return moved
        return None


def schedule(travel: TravelMatrix, visits: Sequence[Visit], order: list[int], start_s: int,
             day_end_s: int | None = None, skip_missed: bool = False) -> list[PlannedStop | None]:
    """ETAs recomputed from the matrix (the solver's own times are not trusted to be ours),
    and every window checked again: in a plan, one that breaks a window is a bug, never an
    answer. With `skip_missed` (an order someone gave, e.g. a round written by hand), a
    visit whose window is missed is None and the day goes on from the stop before it."""
    stops: list[PlannedStop | None] = []
    clock, here = start_s, 0
    for i in order:
        visit, there = visits[i], i + 1
        metres, seconds = int(travel.metres[here, there]), int(travel.seconds[here, there])
        arrival = clock + seconds
        begins = max(arrival, visit.window[0])
        ends = begins + visit.service_s
        if begins >= visit.window[1] or (day_end_s is not None and ends > day_end_s):
            if not skip_missed:
                raise RuntimeError(f"the plan breaks the window of visit {visit.key}")
            stops.append(None)
            continue
        stops.append(PlannedStop(visit.key, arrival, begins, metres, seconds))
        clock, here = ends, there
    return stops
