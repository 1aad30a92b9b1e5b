"""The suspected closures lead the day (geo.routing.plan_day_suspects_first): driven to
before any other visit, the rest planned from the last of them, nothing lost or doubled."""

import numpy as np

from geo.routing import Visit, plan_day, plan_day_suspects_first
from geo.travel import TravelMatrix

DAY = (8 * 3600, 16 * 3600)


def line(n: int) -> TravelMatrix:
    """The start at 0 and visits 1 km apart along a line: 1 km is 3 minutes."""
    at = np.arange(n + 1) * 1000
    metres = np.abs(at[:, None] - at[None, :]).astype(np.int64)
    return TravelMatrix(metres, metres * 180 // 1000)


def test_the_suspects_come_first_however_far_and_the_rest_follow_from_the_last_of_them():
    visits = [Visit(f"v{i}", DAY, 600, 1) for i in range(5)] + [Visit("far", DAY, 600, 0)]
    assert plan_day(line(6), visits, 8 * 3600).stops[0].key == "v0"  # by distance alone, the near one first
    plan = plan_day_suspects_first(line(6), visits, 8 * 3600)
    assert [s.key for s in plan.stops] == ["far", "v4", "v3", "v2", "v1", "v0"]
    assert plan.stops[1].travel_m == 1000 and plan.stops[0].travel_m == 6000 and not plan.dropped


def test_with_no_suspect_or_only_suspects_it_is_the_plain_plan():
    plain = [Visit(f"v{i}", DAY, 600, 2) for i in range(4)]
    assert ([s.key for s in plan_day_suspects_first(line(4), plain, 8 * 3600).stops]
            == [s.key for s in plan_day(line(4), plain, 8 * 3600).stops])


def test_what_cannot_fit_after_the_suspects_is_dropped_in_the_order_given():
    visits = [Visit("a", (8 * 3600, 8 * 3600 + 900), 600, 1), Visit("s", DAY, 3600, 0), Visit("b", DAY, 600, 3)]
    plan = plan_day_suspects_first(line(3), visits, 8 * 3600)
    assert [s.key for s in plan.stops] == ["s", "b"] and [d.key for d in plan.dropped] == ["a"]
