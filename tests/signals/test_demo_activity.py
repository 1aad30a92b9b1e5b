"""The demo's synthetic platform feed (app/signals/demo.py, `flask seed --with-demo-activity`):
the same seed gives the same traffic, seeding again counts nothing twice, and the demo's
Nowruz days show the planned closures as suspicions, the reported ones confirmed, no
suspicion on the offices the feed never covers nor for the outage's silence."""

import json
from collections import Counter
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.errors import Problem
from app.extensions import db
from app.hours import calendar
from app.models import ActivityCount, ActivityHour, Office
from app.services import seed
from app.services.signals import LOOKBACK_WEEKS
from app.signals import demo

FRIDAY, SATURDAY = calendar.parse_date("1405-01-07"), calendar.parse_date("1405-01-08")
THURSDAY = calendar.parse_date("1404-12-21")  # an ordinary Thursday of the history
# The fixture's offices, their district read from their code (the seed places them by polygon).
OFFICES = [(f["properties"]["code"], int(f["properties"]["code"][4:6]))
           for f in json.loads((seed.FIXTURES / "offices.geojson").read_text(encoding="utf-8"))["features"]]


def _holidays():
    return {day for day, _ in seed._holiday_rows(seed.HOLIDAYS)}


def _plan(seed_value=demo.DEMO_SEED):
    return demo.make_plan(OFFICES, _holidays(), seed_value)


def _by_hour(minutes: dict) -> Counter:
    hours = Counter()
    for (code, minute), count in minutes.items():
        hours[(code, minute.astimezone(calendar.TEHRAN).replace(minute=0).astimezone(minute.tzinfo))] += count
    return hours


def test_the_same_seed_gives_the_same_traffic_and_another_seed_other_traffic():
    one, again, other = _plan(), _plan(), _plan(7)
    assert one == again and one != other
    for day in (FRIDAY, THURSDAY):
        assert demo.events(one, day) == demo.events(again, day) != demo.events(other, day)
        assert demo.hour_counts(one, day) == demo.hour_counts(again, day)
    # The history's hours are the minutes added up, whichever is drawn.
    assert _by_hour(demo.minute_counts(one, SATURDAY)) == Counter(demo.hour_counts(one, SATURDAY))
    assert demo.HISTORY_WEEKS == LOOKBACK_WEEKS


def test_the_traffic_keeps_the_calendar_the_closures_the_outage_and_the_uncovered_offices():
    plan = _plan()
    assert demo.events(plan, calendar.parse_date("1404-12-22")) == []  # an ordinary Friday
    assert demo.events(plan, calendar.parse_date("1405-01-02")) == []  # Nowruz, an official holiday
    assert demo.events(plan, calendar.parse_date("1404-11-22")) == []  # 22 Bahman, an official holiday
    thursday = demo.minute_counts(plan, THURSDAY)
    assert max(minute.astimezone(calendar.TEHRAN).hour for _, minute in thursday) == 12  # a half day
    friday = demo.minute_counts(plan, FRIDAY)
    assert sum(friday.values()) > 1.6 * sum(demo.minute_counts(plan, calendar.parse_date("1404-12-28")).values())
    assert not {code for code, _ in friday} & set(plan.uncovered) and len(plan.uncovered) == 2
    for closure in plan.closures:
        counts = demo.minute_counts(plan, closure.day)
        silent = [minute for (code, minute), _ in counts.items() if code == closure.code
                  and closure.covers(_clock(minute))]
        whole_day = (closure.start, closure.end) == (0, 24 * 60)
        assert silent == [] and (whole_day or any(code == closure.code for code, _ in counts)), closure
    saturday = demo.minute_counts(plan, SATURDAY)
    assert not [minute for _, minute in saturday if 10 * 60 <= _clock(minute) < 11 * 60]  # the outage
    assert len({code for code, _ in saturday}) == len(plan.offices) - 1  # all but the one closed all day


def _clock(minute: datetime) -> int:
    local = minute.astimezone(calendar.TEHRAN)
    return local.hour * 60 + local.minute


def _totals():
    return (tuple(db.session.execute(sa.select(sa.func.count(), sa.func.sum(ActivityCount.count))).one()),
            tuple(db.session.execute(sa.select(sa.func.count(), sa.func.sum(ActivityHour.count))).one()))


def test_seeding_the_demo_activity_twice_counts_nothing_twice(app, app_context, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_DAYS", (SATURDAY,))  # one day by the minute is enough here
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "--with-demo-activity"])
    assert first.exit_code == 0, first.output
    assert "history hours written" in first.output and " 0 history hours" not in first.output
    before = _totals()
    assert before[1][0] > 30_000 and before[1][1] > 900_000  # eight weeks of hours
    again = runner.invoke(args=["seed", "--with-demo-activity"])
    assert again.exit_code == 0, again.output
    assert "demo activity: 0 history hours written; 0 events counted" in again.output
    assert _totals() == before
    # Another seed is another feed: refused, not added to the first.
    with pytest.raises(Problem) as refused:
        seed.demo_activity(seed_value=7, days=())
    assert refused.value.type.code == "batch-mismatch"
    assert _totals() == before


def test_the_demo_days_show_the_planned_closures_and_no_other_suspicion(client, app_context):
    fed = seed.demo_activity(days=(FRIDAY, SATURDAY))
    assert fed.events > 50_000 and fed.duplicates == 0
    seed.demo_reports()
    offices = db.session.execute(sa.select(Office.code, Office.district)).all()
    codes = {code for code, _ in offices}
    plan = demo.make_plan(offices, _holidays())
    committee = client.as_("committee1")

    friday = {i["office_code"]: i for i in committee.get("/api/v1/signals?date=1405-01-07").get_json()["items"]}
    assert set(friday) == codes
    states = {code: item["state"] for code, item in friday.items()}
    planned = {c.code: c for c in plan.closures if c.day == FRIDAY}
    assert {code for code, state in states.items() if state == "suspected_closure"} == set(planned)
    assert {code for code, state in states.items() if state == "no_data"} == set(plan.uncovered)
    assert Counter(states.values())["normal"] == len(codes) - len(planned) - len(plan.uncovered)
    for code, closure in planned.items():  # the silence found is the closure, to a few minutes
        item = friday[code]
        start, end = _clock_of(item["silent_from"]), _clock_of(item["silent_to"])
        assert abs(start - max(closure.start, 8 * 60)) <= 10 and abs(end - min(closure.end, 16 * 60 + 30)) <= 10, item
    # District 1's and 2's first offices were found closed in the demo reports: confirmed.
    assert {code: (friday[code]["field"] or {}).get("status") for code in planned} == {
        code: "confirmed" if code in ("TEH-01-01", "TEH-02-01") else None for code in planned}

    saturday = {i["office_code"]: i for i in committee.get("/api/v1/signals?date=1405-01-08").get_json()["items"]}
    suspected = {code for code, item in saturday.items() if item["state"] == "suspected_closure"}
    assert suspected == {c.code for c in plan.closures if c.day == SATURDAY}
    outage = [item for item in saturday.values() if item["state"] == "outage"]
    assert len(outage) > len(codes) / 2  # every busy office's longest silence is the outage's hour
    for item in outage:
        assert _clock_of(item["silent_from"]) <= 10 * 60 and _clock_of(item["silent_to"]) >= 11 * 60, item
    assert {code for code, item in saturday.items() if item["state"] == "no_data"} == set(plan.uncovered)


def _clock_of(text: str) -> int:
    return _clock(datetime.fromisoformat(text))
