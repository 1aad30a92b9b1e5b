"""Splitting a district's offices into rounds, and ordering one round, as pure code.

    groups = balanced_split(points, parts, service_s, travel)
    plan = plan_round(travel, points, windows, service_s, keep_order, time_budget_s)

`points` are (lon, lat); `travel` is a `geo.travel.TravelModel`; windows are
`(open_s, close_s)` in seconds since midnight. The caller (app/services/rounds.py) loads
the offices and their mandated hours and stores what comes back.
"""

import math
from dataclasses import dataclass

from geo.routing import Visit, plan_day, schedule
from geo.travel import TravelMatrix, TravelModel


@dataclass(frozen=True)
class RoundPlan:
    order: list[int]  # indices into the points, in driving order
    starts: list[int | None]  # the second each visit starts (after any wait); None once its window is missed
    work_s: int  # from the first opening to the end of the last visit


def balanced_split(points: list[tuple[float, float]], parts: int, service_s: int,
                   travel: TravelModel) -> list[list[int]]:
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
    matrix = travel.matrix([points[i] for i in swept])
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


def plan_round(travel: TravelModel, points: list[tuple[float, float]], windows: list[tuple[int, int]],
               service_s: int, keep_order: bool, time_budget_s: float) -> RoundPlan:
    """One round in driving order (the solver's, or the order given), starting at the first
    office when the first window opens. Unlike a visit list, a round keeps every office:
    one the solver drops goes at the end, and one whose window is missed has no start."""
    if not points:
        return RoundPlan([], [], 0)
    start_s = min(w[0] for w in windows)
    matrix = travel.matrix([points[0]] + points)
    visits = [Visit(key=str(i), window=w, service_s=service_s, tier=3) for i, w in enumerate(windows)]
    if keep_order:
        order = list(range(len(points)))
    else:
        plan = plan_day(matrix, visits, start_s=start_s, time_budget_s=time_budget_s)
        order = [int(s.key) for s in plan.stops]
        order += [i for i in range(len(points)) if i not in set(order)]  # dropped: still the round's
    stops = schedule(matrix, visits, order, start_s, skip_missed=True)
    kept = [stop for stop in stops if stop is not None]
    finish = kept[-1].start_s + service_s if kept else start_s
    return RoundPlan(order, [stop.start_s if stop else None for stop in stops], finish - start_s)
