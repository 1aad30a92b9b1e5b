"""Routing benchmark: the solver of geo/routing.py on instances with known optima, and on
typical inspection days through `plan_day` against a 30 s solve of the same day.

    .venv/bin/python bench/route_bench.py            # everything (about 15 minutes)
    .venv/bin/python bench/route_bench.py --quick    # fewer days, a 10 s reference (about 3 minutes)
    .venv/bin/python bench/route_bench.py --compare  # the same tables for OR-Tools too
                                                     # (.venv/bin/pip install -e '.[compare]')

- TSPLIB (bench/data/tsplib): distances are TSPLIB's EUC_2D, nint(euclid); the gap is to
  the proven optimum. One vehicle, city 1 as the depot.
- Solomon (bench/data/solomon): the hierarchical objective, fewest vehicles then distance,
  capacity and windows hard, 100 customers, routes back to the depot. The solver sees
  distances ×1000 rounded (travel times rounded up, so its plans are feasible in real
  numbers too); each result is re-evaluated here with real-valued distances and checked.
- Typical days: 25 of the 28 fixture offices of districts 1, 2 and 3 (neighbours in the
  north of Tehran), windows 08:00–16:30 with about a third narrower, 15 min per visit,
  random tiers, the inspector starting at 08:00 somewhere among them; StraightLineTravel.
  Each is planned by `plan_day` at its default budget (stopping early once converged), and
  again with `stop_early=False` for the whole reference budget; the two must keep the same
  visits and drive the same metres. With --compare, OR-Tools (1 s) is held to PyVRP's
  reference, by the same lexicographic measure (visits per tier, then metres).

Time is wall-clock. Memory is how far the peak resident set grew during the solve (Linux
VmHWM, reset before each run, each solve in a forked child): it includes the solver's C++
side, which Python's tracemalloc cannot see.
"""

import argparse
import math
import os
import pickle
import random
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvrp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.routing import SOLVER, Visit, plan_day, solve  # noqa: E402
from geo.travel import StraightLineTravel  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[1]

TSPLIB = {"eil51": 426, "berlin52": 7542, "st70": 675, "eil76": 538, "pr76": 108159, "kroA100": 21282,
          "ch150": 6528, "a280": 2579}
SOLOMON = {"C101": (10, 828.94), "R101": (19, 1650.80), "RC101": (14, 1696.94),
           "C201": None, "R201": None, "RC201": None}
SCALE = 1000  # Solomon: the solver's integer units per real unit


# --- measuring ---------------------------------------------------------------------------

def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def measured(fn: Callable):
    """(result, wall seconds, CPU seconds, peak memory growth in MB) of one call, made in a forked child
    so that each solve starts from the same heap (memory freed by an earlier solve would
    otherwise hide the next one's growth)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, send, leave without running the parent's cleanup
        try:
            try:
                Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            except OSError:
                pass
            before = _status_kb("VmRSS")
            began, cpu_began = time.perf_counter(), time.process_time()
            result = fn()
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
            peak = _status_kb("VmHWM")
            grown = (peak - before) / 1024 if peak is not None and before is not None else float("nan")
            with os.fdopen(write, "wb") as out:
                pickle.dump((result, elapsed, cpu, grown), out)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        data = answer.read()
    os.waitpid(pid, 0)
    if not data:
        raise RuntimeError("the measured call failed in the child process")
    return pickle.loads(data)


# --- TSPLIB ------------------------------------------------------------------------------

def read_tsplib(name: str) -> np.ndarray:
    lines = (DATA / "tsplib" / f"{name}.tsp").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("NODE_COORD_SECTION")) + 1
    rows = [line.split() for line in lines[start:] if line.strip() and line.strip() != "EOF"]
    return np.array([(float(x), float(y)) for _, x, y in rows])


def nint_matrix(xy: np.ndarray) -> np.ndarray:
    """TSPLIB EUC_2D: nint(sqrt(dx² + dy²)), i.e. (int)(d + 0.5)."""
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    return np.floor(d + 0.5).astype(np.int64)


def opt_tour_length(name: str, matrix: np.ndarray) -> int:
    lines = (DATA / "tsplib" / f"{name}.opt.tour").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "TOUR_SECTION") + 1
    tour = []
    for line in lines[start:]:
        for token in line.split():
            if token in ("-1", "EOF"):
                break
            tour.append(int(token) - 1)
    return int(sum(matrix[a, b] for a, b in zip(tour, tour[1:] + tour[:1])))


def tsp_problem(matrix: np.ndarray) -> pyvrp.ProblemData:
    n = len(matrix)
    return pyvrp.ProblemData(
        locations=[pyvrp.Location(0, 0) for _ in range(n)],
        clients=[pyvrp.Client(location=i) for i in range(1, n)],
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[pyvrp.VehicleType(num_available=1)],
        distance_matrices=[matrix],
        duration_matrices=[np.zeros_like(matrix)],
    )


def pyvrp_tsp(matrix: np.ndarray, budget: float, seed: int) -> int:
    best = solve(tsp_problem(matrix), budget, seed).best
    assert best.is_feasible() and best.num_clients() == len(matrix) - 1
    return int(best.distance())


# --- Solomon -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Solomon:
    name: str
    vehicles: int
    capacity: int
    rows: np.ndarray  # id, x, y, demand, ready, due, service; row 0 the depot

    @property
    def real(self) -> np.ndarray:
        xy = self.rows[:, 1:3]
        return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))


def read_solomon(name: str) -> Solomon:
    lines = (DATA / "solomon" / f"{name}.txt").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("NUMBER"))
    vehicles, capacity = map(int, lines[at + 1].split())
    rows = [list(map(float, line.split())) for line in lines[at + 2:] if len(line.split()) == 7
            and line.split()[0].isdigit()]
    return Solomon(name, vehicles, capacity, np.array(rows))


def vrptw_problem(inst: Solomon) -> pyvrp.ProblemData:
    real = inst.real
    distance = np.rint(real * SCALE).astype(np.int64)
    # Times rounded up: whatever is on time for the solver is on time in real numbers.
    duration = np.ceil(real * SCALE - 1e-9).astype(np.int64)
    r = inst.rows
    # Fewest vehicles first: a vehicle costs more than any set of routes can drive.
    fixed = int(distance.max(axis=0).sum() + distance[:, 0].max() * inst.vehicles) + 1
    return pyvrp.ProblemData(
        locations=[pyvrp.Location(float(x), float(y)) for x, y in r[:, 1:3]],
        clients=[pyvrp.Client(location=i, delivery=[int(r[i, 3])], service_duration=int(r[i, 6] * SCALE),
                              tw_early=int(r[i, 4] * SCALE), tw_late=int(r[i, 5] * SCALE))
                 for i in range(1, len(r))],
        depots=[pyvrp.Depot(location=0, tw_early=int(r[0, 4] * SCALE), tw_late=int(r[0, 5] * SCALE))],
        vehicle_types=[pyvrp.VehicleType(num_available=inst.vehicles, capacity=[inst.capacity], fixed_cost=fixed,
                                         tw_early=int(r[0, 4] * SCALE), tw_late=int(r[0, 5] * SCALE))],
        distance_matrices=[distance],
        duration_matrices=[duration],
    )


def evaluate(inst: Solomon, routes: list[list[int]]) -> tuple[int, float, bool]:
    """Vehicles, real-valued distance, and whether every customer is served once on time
    within capacity and every route is back at the depot by its closing time."""
    real, r = inst.real, inst.rows
    served = sorted(c for route in routes for c in route)
    ok = served == list(range(1, len(r)))
    distance = 0.0
    for route in routes:
        clock, here, load = r[0, 4], 0, 0.0
        for c in route:
            distance += real[here, c]
            clock = max(clock + real[here, c], r[c, 4])
            ok &= clock <= r[c, 5] + 1e-9
            clock += r[c, 6]
            load += r[c, 3]
            here = c
        distance += real[here, 0]
        ok &= clock + real[here, 0] <= r[0, 5] + 1e-9 and load <= inst.capacity
    return len(routes), distance, bool(ok)


def pyvrp_vrptw(inst: Solomon, budget: float, seed: int) -> list[list[int]]:
    best = solve(vrptw_problem(inst), budget, seed).best
    # Client i of the data is customer i + 1 (customer 0 is the depot).
    return [[a.idx + 1 for a in route if a.is_client()] for route in best.routes()]


def read_sol(path: Path) -> list[list[int]]:
    return [list(map(int, line.split(":")[1].split())) for line in path.read_text().splitlines()
            if line.startswith("Route")]


# --- typical days ------------------------------------------------------------------------

DISTRICTS = ("01", "02", "03")
MANDATED = (8 * 3600, 16 * 3600 + 1800)
NARROWER = [(9 * 3600, 12 * 3600), (13 * 3600, 16 * 3600), (8 * 3600, 11 * 3600), (10 * 3600, 14 * 3600),
            (8 * 3600 + 1800, 12 * 3600 + 1800)]


def fixture_offices() -> list[tuple[str, tuple[float, float]]]:
    import json
    features = json.loads((ROOT / "fixtures" / "offices.geojson").read_text())["features"]
    return [(f["properties"]["code"], tuple(f["geometry"]["coordinates"])) for f in features
            if f["properties"]["code"].split("-")[1] in DISTRICTS]


def typical_day(seed: int, offices, count: int = 25):
    rng = random.Random(seed)
    chosen = rng.sample(offices, count)
    lons, lats = [p[0] for _, p in chosen], [p[1] for _, p in chosen]
    start = (rng.uniform(min(lons), max(lons)), rng.uniform(min(lats), max(lats)))
    visits = [Visit(code, rng.choice(NARROWER) if rng.random() < 0.3 else MANDATED, 15 * 60,
                    rng.choices((0, 1, 2, 3), weights=(1, 2.5, 1.5, 5))[0]) for code, _ in chosen]
    return StraightLineTravel().matrix([start] + [p for _, p in chosen]), visits


def day_score(visits, kept_keys, metres) -> tuple:
    """Lexicographic: visits kept per tier (most important first), then fewer metres."""
    kept = set(kept_keys)
    return tuple(sum(1 for v in visits if v.tier == t and v.key in kept) for t in (0, 1, 2, 3)) + (-metres,)


def pyvrp_day(travel, visits, budget: float, seed: int, stop_early: bool = True):
    plan = plan_day(travel, visits, 8 * 3600, time_budget_s=budget, seed=seed, stop_early=stop_early)
    return [s.key for s in plan.stops], plan.travel_m


# --- the run -----------------------------------------------------------------------------

def table(title: str, header: list[str], rows: list[list]) -> None:
    print(f"\n{title}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def run_tsplib(label: str, tsp: Callable, budgets: list[float], seed: int) -> None:
    rows, gaps = [], {b: [] for b in budgets}
    for name, optimum in TSPLIB.items():
        matrix = nint_matrix(read_tsplib(name))
        assert opt_tour_length(name, matrix) == optimum, f"{name}: the optimal tour does not sum to {optimum}"
        row = [name, len(matrix), optimum]
        for budget in budgets:
            length, elapsed, cpu, mb = measured(lambda: tsp(matrix, budget, seed))
            gap = 100 * (length - optimum) / optimum
            if len(matrix) <= 100:
                gaps[budget].append(gap)
            row += [length, f"{gap:.2f} %", f"{elapsed:.2f} / {cpu:.2f} s", f"{mb:.1f}"]
        rows.append(row)
    header = ["instance", "n", "optimum"]
    for b in budgets:
        header += [f"{b:g} s: length", "gap", "wall / CPU", "MB"]
    table(f"TSPLIB, {label} (seed {seed})", header, rows)
    for b in budgets:
        print(f"  {b:g} s, n <= 100: mean gap {statistics.mean(gaps[b]):.2f} %, worst {max(gaps[b]):.2f} %")


def run_solomon(label: str, vrptw: Callable, budgets: list[float], seed: int) -> None:
    check = evaluate(read_solomon("C101"), read_sol(DATA / "solomon" / "C101.sol"))
    assert check[2] and abs(check[1] - 828.94) < 0.005, f"the evaluator reads C101.sol as {check}"
    rows = []
    for name, best_known in SOLOMON.items():
        inst = read_solomon(name)
        row = [name, f"{best_known[0]} / {best_known[1]:.2f}" if best_known else "-"]
        for budget in budgets:
            routes, elapsed, cpu, mb = measured(lambda: vrptw(inst, budget, seed))
            vehicles, distance, feasible = evaluate(inst, routes)
            gap = f"{100 * (distance - best_known[1]) / best_known[1]:+.2f} %" if best_known else ""
            row += [f"{vehicles} / {distance:.2f}", gap, "yes" if feasible else "NO", f"{elapsed:.2f} / {cpu:.2f} s",
                    f"{mb:.1f}"]
        rows.append(row)
    header = ["instance", "best known"]
    for b in budgets:
        header += [f"{b:g} s: vehicles / distance", "distance gap", "feasible", "wall / CPU", "MB"]
    table(f"Solomon, {label} (seed {seed})", header, rows)


def run_days(label: str, day_solver: Callable, days: range, reference_s: float, references: dict) -> None:
    """Each day at the default budget against the reference: the solve of `references`
    (filled here on the first call, so a second solver is held to the first one's)."""
    offices = fixture_offices()
    reference_label = f"{reference_s:g} s" if not references else f"{SOLVER} {reference_s:g} s"
    times, cpus, mbs, rows, outcome = [], [], [], [], {"same": 0, "worse": 0, "better": 0}
    for seed in days:
        travel, visits = typical_day(seed, offices)
        (keys, metres), elapsed, cpu, mb = measured(lambda: day_solver(travel, visits, 1.0, seed))
        if seed not in references:
            references[seed] = day_solver(travel, visits, reference_s, seed, stop_early=False)
        ref_keys, ref_metres = references[seed]
        same = sorted(keys) == sorted(ref_keys) and metres == ref_metres
        quick, slow = day_score(visits, keys, metres), day_score(visits, ref_keys, ref_metres)
        verdict = "same" if same else ("better" if quick > slow else "worse")
        outcome[verdict] += 1
        times.append(elapsed * 1000)
        cpus.append(cpu * 1000)
        mbs.append(mb)
        rows.append([seed, len(keys), metres, f"{elapsed * 1000:.0f} / {cpu * 1000:.0f} ms", f"{mb:.1f}",
                     len(ref_keys), ref_metres, verdict])
    table(f"Typical days, {label}: default budget vs {reference_label}", ["day", "visits", "metres", "wall / CPU",
          "MB", f"{reference_label}: visits", "metres", "default vs reference"], rows)
    print(f"  {len(days)} days: wall p50 {_p(times, 50):.0f} ms, p95 {_p(times, 95):.0f} ms, max {max(times):.0f} ms; "
          f"CPU p50 {_p(cpus, 50):.0f} ms, p95 {_p(cpus, 95):.0f} ms; same as the {reference_label} solve: "
          f"{outcome['same']}/{len(days)} (worse {outcome['worse']}, better {outcome['better']}); "
          f"peak memory growth max {max(mbs):.1f} MB")


def _p(values: list[float], q: int) -> float:
    """The q-th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 days, a 10 s reference, TSPLIB and Solomon at 1 s only")
    parser.add_argument("--compare", action="store_true", help="also run OR-Tools on the same instances")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int)
    parser.add_argument("--first-day", type=int, default=1, help="the first day's seed (days 1-20 by default)")
    parser.add_argument("--only", choices=["tsplib", "solomon", "days"])
    args = parser.parse_args()
    budgets = [1.0] if args.quick else [1.0, 5.0]
    days = range(args.first_day, args.first_day + (args.days or (5 if args.quick else 20)))
    reference_s = 10.0 if args.quick else 30.0

    solvers = [(SOLVER, pyvrp_tsp, pyvrp_vrptw, pyvrp_day)]
    if args.compare:
        import route_ortools
        solvers.append((route_ortools.SOLVER, route_ortools.tsp, route_ortools.vrptw, route_ortools.day))
    print(f"Routing benchmark: {', '.join(s[0] for s in solvers)}; timings are wall-clock on a shared machine")
    references: dict = {}
    for label, tsp, vrptw, day in solvers:
        if args.only in (None, "tsplib"):
            run_tsplib(label, tsp, budgets, args.seed)
        if args.only in (None, "solomon"):
            run_solomon(label, vrptw, budgets, args.seed)
        if args.only in (None, "days"):
            run_days(label, day, days, reference_s, references)


if __name__ == "__main__":
    main()
