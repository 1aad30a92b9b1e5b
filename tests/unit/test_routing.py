"""Planning one inspector's day: windows kept, priorities strict, drops explained."""

import random

import numpy as np
import pytest

from geo.routing import (CLOSED_AT_START, NO_ROOM, PAST_DAY_END, REASONS, UNREACHABLE, Plan, Visit, plan_day,
                         prizes)
from geo.travel import StraightLineTravel, TravelMatrix

H = 3600
DAY = (8 * H, 16 * H + 1800)


def line_travel(minutes: list[list[int]], metres_per_minute: int = 300) -> TravelMatrix:
    """A travel matrix given in whole minutes (metres in proportion)."""
    seconds = np.array(minutes, dtype=np.int64) * 60
    return TravelMatrix(seconds * metres_per_minute // 60, seconds)


def random_day(seed: int, n: int = 12):
    rng = random.Random(seed)
    points = [(rng.uniform(51.38, 51.46), rng.uniform(35.70, 35.78)) for _ in range(n + 1)]
    windows = [DAY, (9 * H, 11 * H), (13 * H, 15 * H), (8 * H, 10 * H), (10 * H, 12 * H + 1800)]
    visits = [Visit(f"o{i}", rng.choice(windows), 15 * 60, rng.randrange(4)) for i in range(n)]
    return StraightLineTravel().matrix(points), visits


def assert_consistent(plan: Plan, travel: TravelMatrix, visits, start_s: int, day_end_s=None):
    """Every visit is planned or dropped exactly once, and the stops can be driven as written."""
    by_key = {v.key: (i + 1, v) for i, v in enumerate(visits)}
    assert sorted([s.key for s in plan.stops] + [d.key for d in plan.dropped]) == sorted(by_key)
    assert all(d.reason in REASONS for d in plan.dropped)
    here, free_at = 0, start_s
    for stop in plan.stops:
        there, visit = by_key[stop.key]
        assert stop.travel_m == travel.metres[here, there] and stop.travel_s == travel.seconds[here, there]
        assert stop.arrival_s == free_at + travel.seconds[here, there]
        assert stop.start_s == max(stop.arrival_s, visit.window[0])
        assert visit.window[0] <= stop.start_s < visit.window[1]
        free_at = stop.start_s + visit.service_s
        here = there
    if day_end_s is not None:
        assert free_at <= day_end_s


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_stop_starts_within_its_window_and_the_etas_follow_the_matrix(seed):
    travel, visits = random_day(seed)
    plan = plan_day(travel, visits, start_s=8 * H)
    assert_consistent(plan, travel, visits, 8 * H)
    assert len(plan.stops) >= 6 and plan.solver.startswith("pyvrp ")
    assert plan.travel_m == sum(s.travel_m for s in plan.stops)


def test_the_day_end_bounds_the_last_visit():
    travel, visits = random_day(4)
    plan = plan_day(travel, visits, start_s=8 * H, day_end_s=11 * H)
    assert_consistent(plan, travel, visits, 8 * H, day_end_s=11 * H)
    assert 0 < len(plan.stops) < len(visits)


def test_the_route_does_not_pay_for_a_way_back_to_the_start():
    # From the start, a is 10 min and b 30; a and b are 10 min apart. Driving back would
    # favour b first (b→start 60 min, a→start 5); the open route goes to a first.
    travel = line_travel([[0, 10, 30], [5, 0, 10], [60, 10, 0]])
    visits = [Visit("b", DAY, 600, 3), Visit("a", DAY, 600, 3)]
    plan = plan_day(travel, [visits[1], visits[0]], start_s=8 * H)
    assert [s.key for s in plan.stops] == ["a", "b"] and plan.travel_m == 20 * 300


def test_a_visit_reached_at_its_closing_second_through_another_is_not_made():
    # a then b reaches b at 08:25, the second its window closes; b then a misses a. So only
    # one of the two can be made, though each is reachable on its own.
    travel = line_travel([[0, 10, 20], [10, 0, 10], [20, 10, 0]])
    visits = [Visit("a", (8 * H, 8 * H + 660), 300, 0), Visit("b", (8 * H, 8 * H + 1500), 300, 0)]
    plan = plan_day(travel, visits, start_s=8 * H)
    assert len(plan.stops) == 1 and [d.reason for d in plan.dropped] == [NO_ROOM]
    assert_consistent(plan, travel, visits, 8 * H)


@pytest.mark.parametrize(("near_tier", "far_tier", "kept"), [(3, 0, "far"), (0, 3, "near"), (2, 1, "far")])
def test_a_more_important_visit_is_kept_over_a_cheaper_less_important_one(near_tier, far_tier, kept):
    # Both must start before 08:30; near is 5 min away, far 20 min, and they are 40 min
    # apart: only one of them fits, whichever order.
    travel = line_travel([[0, 5, 20], [5, 0, 40], [20, 40, 0]])
    window = (8 * H, 8 * H + 1800)
    visits = [Visit("near", window, 900, near_tier), Visit("far", window, 900, far_tier)]
    plan = plan_day(travel, visits, start_s=8 * H)
    assert [s.key for s in plan.stops] == [kept]
    (dropped,) = plan.dropped
    assert dropped.key != kept and dropped.reason == NO_ROOM


def test_one_important_visit_outweighs_many_lesser_ones_and_the_shorter_drive():
    # A tier-1 visit alone at the far end, or five tier-2 visits next door: not both.
    minutes = [[0] + [2] * 5 + [25]] + [[2] + [1] * 5 + [25] for _ in range(5)] + [[25] * 6 + [0]]
    for i in range(1, 6):
        minutes[i][i] = 0
    travel = line_travel(minutes)
    window = (8 * H, 9 * H)
    visits = [Visit(f"near{i}", window, 10 * 60, 2) for i in range(5)] + [Visit("far", window, 10 * 60, 1)]
    plan = plan_day(travel, visits, start_s=8 * H)
    assert_consistent(plan, travel, visits, 8 * H)
    assert "far" in [s.key for s in plan.stops]
    assert len(plan.stops) < 6  # the lesser ones paid for it


def test_prizes_are_lexicographic():
    tiers = [0, 1, 1, 2, 3, 3, 3]
    prize = dict(zip(range(len(tiers)), prizes(tiers, max_route_cost=1000)))
    by_tier = {t: prize[tiers.index(t)] for t in set(tiers)}
    for t in (0, 1, 2):
        lower = sum(p for i, p in prize.items() if tiers[i] > t)
        assert by_tier[t] > lower + 1000
    assert by_tier[3] > 1000


def test_each_impossible_visit_is_dropped_with_its_own_reason():
    travel = line_travel([[0, 5, 30, 5, 5], [5, 0, 30, 5, 5], [30, 30, 0, 30, 30], [5, 5, 30, 0, 5],
                          [5, 5, 30, 5, 0]])
    start = 10 * H
    visits = [
        Visit("closed-already", (8 * H, 10 * H), 900, 0),  # closed at the very second the day starts
        Visit("too-far", (8 * H, 10 * H + 1200), 900, 0),  # 30 min away, closes in 20
        Visit("too-long", (8 * H, 16 * H), 3 * H, 0),  # fits its window, not the day ending at noon
        Visit("fine", (8 * H, 16 * H), 900, 3),
    ]
    plan = plan_day(travel, visits, start_s=start, day_end_s=12 * H)
    reasons = {d.key: d.reason for d in plan.dropped}
    assert reasons == {"closed-already": CLOSED_AT_START, "too-far": UNREACHABLE, "too-long": PAST_DAY_END}
    assert [s.key for s in plan.stops] == ["fine"]


def test_a_window_that_closes_the_second_the_inspector_arrives_is_missed():
    travel = line_travel([[0, 10], [10, 0]])
    at_close = plan_day(travel, [Visit("a", (8 * H, 8 * H + 600), 60, 0)], start_s=8 * H)
    one_second_more = plan_day(travel, [Visit("a", (8 * H, 8 * H + 601), 60, 0)], start_s=8 * H)
    assert at_close.dropped[0].reason == UNREACHABLE and not at_close.stops
    assert [s.start_s for s in one_second_more.stops] == [8 * H + 600]


def test_waiting_for_a_window_to_open_is_allowed():
    travel = line_travel([[0, 10], [10, 0]])
    plan = plan_day(travel, [Visit("a", (9 * H, 10 * H), 900, 3)], start_s=8 * H)
    (stop,) = plan.stops
    assert stop.arrival_s == 8 * H + 600 and stop.start_s == 9 * H


def test_an_empty_visit_list_plans_an_empty_day():
    plan = plan_day(TravelMatrix(np.zeros((1, 1), np.int64), np.zeros((1, 1), np.int64)), [], start_s=8 * H)
    assert plan.stops == [] and plan.dropped == [] and plan.travel_m == 0


def test_a_matrix_of_the_wrong_size_is_refused():
    travel = line_travel([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="2×2|3×3"):
        plan_day(travel, [Visit("a", DAY, 60, 0), Visit("b", DAY, 60, 0)], start_s=8 * H)
    with pytest.raises(ValueError, match="tier"):
        plan_day(travel, [Visit("a", DAY, 60, 4)], start_s=8 * H)


def test_the_same_seed_gives_the_same_plan():
    travel, visits = random_day(5, n=15)
    first, second = (plan_day(travel, visits, start_s=8 * H, seed=3) for _ in range(2))
    assert first.stops == second.stops and first.dropped == second.dropped
    assert first.elapsed_s < first.time_budget_s  # it converged, so the budget did not cut it short
