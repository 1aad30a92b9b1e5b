"""Splitting a district into rounds and ordering one round, as pure code: no database, no Flask."""

import itertools
import random

import numpy as np
import pytest

from geo.rounds import _min_max_cut, balanced_split, plan_round
from geo.routing import PlannedStop, Visit, schedule
from geo.travel import StraightLineTravel, TravelMatrix

H = 3600
SERVICE_S = 15 * 60


def offices(seed: int, n: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.uniform(51.38, 51.46), rng.uniform(35.70, 35.78)) for _ in range(n)]


def minutes(rows: list[list[int]]) -> TravelMatrix:
    seconds = np.array(rows, dtype=np.int64) * 60
    return TravelMatrix(seconds * 5, seconds)


def work(ring: list[int], matrix: TravelMatrix, a: int, b: int, service_s: int) -> int:
    return sum(int(matrix.seconds[ring[k - 1]][ring[k]]) for k in range(a + 1, b)) + (b - a) * service_s


@pytest.mark.parametrize("seed, n, parts", [(1, 12, 2), (2, 17, 3), (3, 9, 4)])
def test_a_balanced_split_puts_every_office_in_exactly_one_group(seed, n, parts):
    groups = balanced_split(offices(seed, n), parts, SERVICE_S, StraightLineTravel())
    assert len(groups) == parts and all(groups)
    assert sorted(i for group in groups for i in group) == list(range(n))


def test_with_fewer_offices_than_inspectors_some_groups_are_empty():
    assert balanced_split(offices(4, 2), 3, SERVICE_S, StraightLineTravel()) == [[0], [1], []]
    assert balanced_split(offices(4, 5), 0, SERVICE_S, StraightLineTravel()) == []


def test_the_groups_are_arcs_of_similar_work():
    # Four tight clusters at the corners of a square: two inspectors take two corners each.
    corners = [(51.38, 35.70), (51.46, 35.70), (51.46, 35.78), (51.38, 35.78)]
    rng = random.Random(5)
    points = [(lon + rng.uniform(-0.002, 0.002), lat + rng.uniform(-0.002, 0.002))
              for lon, lat in corners for _ in range(4)]
    groups = balanced_split(points, 2, SERVICE_S, StraightLineTravel())
    assert sorted(len(g) for g in groups) == [8, 8]
    assert all(len({i // 4 for i in g}) == 2 for g in groups)  # whole clusters, two each


@pytest.mark.parametrize("parts", [1, 2, 3, 4])
def test_the_cut_is_the_best_contiguous_one(parts):
    rng = random.Random(parts)
    n = 7
    matrix = minutes([[0 if i == j else rng.randrange(1, 30) for j in range(n)] for i in range(n)])
    ring = [3, 4, 5, 6, 0, 1, 2]
    worst, cuts = _min_max_cut(ring, matrix, parts, SERVICE_S)
    assert cuts[0][0] == 0 and cuts[-1][1] == n and all(a < b for a, b in cuts)
    assert all(cuts[k][1] == cuts[k + 1][0] for k in range(parts - 1))
    assert worst == max(work(ring, matrix, a, b, SERVICE_S) for a, b in cuts)
    best = min(max(work(ring, matrix, a, b, SERVICE_S) for a, b in zip((0,) + inner, inner + (n,)))
               for inner in itertools.combinations(range(1, n), parts - 1))
    assert worst == best


def test_a_round_in_the_given_order_starts_at_its_first_office_when_the_first_window_opens():
    points = offices(6, 4)
    windows = [(9 * H, 17 * H), (8 * H, 17 * H), (8 * H, 17 * H), (8 * H, 17 * H)]
    plan = plan_round(StraightLineTravel(), points, windows, SERVICE_S, keep_order=True, time_budget_s=1.0)
    assert plan.order == [0, 1, 2, 3]
    assert plan.starts[0] == 9 * H  # at the first office at 8:00, waiting for it to open
    assert plan.starts == sorted(plan.starts)
    assert plan.work_s == plan.starts[-1] + SERVICE_S - 8 * H


def test_a_round_keeps_an_office_whose_window_is_missed_without_a_start():
    points = offices(7, 3)
    windows = [(8 * H, 17 * H), (8 * H, 8 * H + 60), (8 * H, 17 * H)]
    plan = plan_round(StraightLineTravel(), points, windows, SERVICE_S, keep_order=True, time_budget_s=1.0)
    assert plan.order == [0, 1, 2] and plan.starts[1] is None
    assert plan.starts[0] == 8 * H and plan.starts[2] > plan.starts[0] + SERVICE_S


def test_a_round_the_solver_orders_keeps_every_office():
    points = offices(8, 10)
    windows = [(8 * H, 16 * H)] * 9 + [(8 * H, 8 * H + 1)]  # the last cannot be reached: dropped by the solver
    plan = plan_round(StraightLineTravel(), points, windows, SERVICE_S, keep_order=False, time_budget_s=1.0)
    assert sorted(plan.order) == list(range(10)) and plan.order[-1] == 9 and plan.starts[-1] is None
    assert all(s is not None for s in plan.starts[:-1])


def test_an_empty_round_is_no_work():
    plan = plan_round(StraightLineTravel(), [], [], SERVICE_S, keep_order=False, time_budget_s=1.0)
    assert (plan.order, plan.starts, plan.work_s) == ([], [], 0)


def test_a_missed_window_breaks_a_plan_but_only_skips_a_given_order():
    travel = minutes([[0, 10, 10], [10, 0, 10], [10, 10, 0]])
    visits = [Visit("a", (8 * H, 8 * H + 300), 600, 3), Visit("b", (8 * H, 17 * H), 600, 3)]
    with pytest.raises(RuntimeError):
        schedule(travel, visits, [0, 1], 8 * H)
    stops = schedule(travel, visits, [0, 1], 8 * H, skip_missed=True)
    assert stops == [None, PlannedStop("b", 8 * H + 600, 8 * H + 600, 3000, 600)]  # straight from the start
