"""The visit list through the HTTP API: windows kept, priorities first, visited offices skipped.

Dates are Nowruz 1405 (mandated 08:00–16:30 every day, DESIGN §6) and past, so that the
plan depends only on what the test creates.
"""

from datetime import datetime, timedelta

import pytest

from app.hours import calendar
from tests.support import assert_problem
from tests.sync.helpers import envelope, op, report_data

DAY = "1405-01-05"
CENTRE_2 = (35.7600, 51.4100)  # lat, lon inside district 2


def at(day: str, clock: str) -> datetime:
    return calendar.tehran_instant(calendar.parse_date(day), calendar.parse_time(clock))


def offices_of(client, district: int) -> list[dict]:
    return client.as_("admin").get(f"/api/v1/offices?district={district}&page_size=100").get_json()


def push_report(client, office: dict, when: datetime, state: str, user: str = "inspector-2a") -> dict:
    body = envelope([op(data=report_data(office, state=state, observed_at=when), changed_at=when)])
    (result,) = client.as_(user).post("/api/v1/sync/push", json=body).get_json()["results"]
    assert result["status"] == "applied", result
    return result["record"]


def visit_list(client, user="inspector-2a", **params) -> dict:
    query = {"date": DAY, "lat": CENTRE_2[0], "lon": CENTRE_2[1], "start": "08:00", **params}
    response = client.as_(user).get("/api/v1/visit-list?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def minutes(instant: str) -> float:
    clock = datetime.fromisoformat(instant).astimezone(calendar.TEHRAN)
    return clock.hour * 60 + clock.minute + clock.second / 60


def clock_minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def test_a_full_day_visits_every_office_inside_its_window_in_a_consistent_order(client):
    plan = visit_list(client)
    district = {o["id"] for o in offices_of(client, 2)}
    listed = [s["office"]["id"] for s in plan["stops"]] + [d["office"]["id"] for d in plan["dropped"]]
    assert sorted(listed) == sorted(district)  # every office once, nothing from elsewhere
    assert len(plan["stops"]) == len(district), plan["dropped"]  # 11 offices fit in 8½ hours
    previous_end = clock_minutes("08:00")
    for stop in plan["stops"]:
        window = stop["window"]
        assert window == {"start": "08:00", "end": "16:30"}
        visit = minutes(stop["visit_at"])
        assert clock_minutes(window["start"]) <= visit < clock_minutes(window["end"])
        assert minutes(stop["eta"]) >= previous_end + stop["travel_min"] - 1  # travel takes its time
        assert visit >= minutes(stop["eta"])
        previous_end = visit + plan["solver"]["service_min"]
    assert plan["totals"]["stops"] == len(plan["stops"])
    assert plan["totals"]["travel_m"] == sum(s["travel_m"] for s in plan["stops"])
    assert plan["solver"]["name"] and plan["solver"]["time_budget_s"] == 1.0
    assert plan["start"]["position_source"] == "given"


def test_the_plan_is_shorter_than_visiting_in_code_order(client):
    plan = visit_list(client)
    by_code = sorted(plan["stops"], key=lambda s: s["office"]["code"])
    from geo.travel import StraightLineTravel
    points = [(CENTRE_2[1], CENTRE_2[0])] + [(s["office"]["lon"], s["office"]["lat"]) for s in by_code]
    matrix = StraightLineTravel().matrix(points)
    naive = sum(int(matrix.metres[i][i + 1]) for i in range(len(points) - 1))
    assert plan["totals"]["travel_m"] < naive


def test_a_suspected_closure_is_planned_first_when_the_day_is_short(client):
    offices = offices_of(client, 2)
    suspect = offices[-1]
    flagged = push_report(client, suspect, at("1405-01-06", "10:00"), "closed")
    assert flagged["violation_id"], flagged  # a case is open against it
    plan = visit_list(client, date="1405-01-07", start="15:45")  # 45 minutes left: room for two or three visits
    ranks = {s["office"]["id"]: s["priority"] for s in plan["stops"]}
    assert ranks.get(suspect["id"]) == "suspected_closure", plan
    assert plan["dropped"], "a short day must drop offices"
    assert all(d["priority_rank"] >= 1 and d["reason"] for d in plan["dropped"])
    assert len(plan["stops"]) + len(plan["dropped"]) == len(offices)


def test_offices_never_visited_come_before_routine_ones(client):
    offices = offices_of(client, 2)
    for office in offices[:-2]:  # visited in the look-back period, found open: routine
        push_report(client, office, at("1405-01-02", "10:00"), "open")
    plan = visit_list(client, start="16:00")  # 30 minutes: one or two visits
    kept = {s["office"]["id"] for s in plan["stops"]}
    assert kept and kept <= {offices[-1]["id"], offices[-2]["id"]}, plan["stops"]
    assert {d["priority"] for d in plan["dropped"]} >= {"routine"}


def test_asked_again_mid_round_it_plans_only_what_is_left(client):
    offices = offices_of(client, 2)
    for office in offices[:4]:
        push_report(client, office, at(DAY, "09:00"), "open")
    plan = visit_list(client, start="10:30")
    done = {d["office"]["id"] for d in plan["done"]}
    assert done == {o["id"] for o in offices[:4]}
    planned = {s["office"]["id"] for s in plan["stops"]} | {d["office"]["id"] for d in plan["dropped"]}
    assert planned == {o["id"] for o in offices[4:]}
    assert all(minutes(s["visit_at"]) >= clock_minutes("10:30") for s in plan["stops"])


def test_a_holiday_has_nothing_to_visit(client):
    response = client.as_("inspector-2a").get(f"/api/v1/visit-list?date=1405-01-13&lat={CENTRE_2[0]}"
                                              f"&lon={CENTRE_2[1]}")
    body = assert_problem(response, 422, "date")
    assert "holiday" in body["detail"]


@pytest.mark.parametrize(("lat", "lon"), [(35.40, 51.40), (51.40, 35.70)], ids=["Qom road", "lat/lon swapped"])
def test_a_position_outside_tehran_is_refused(client, lat, lon):
    response = client.as_("inspector-2a").get(f"/api/v1/visit-list?date={DAY}&lat={lat}&lon={lon}")
    body = assert_problem(response, 422, "lat")
    assert "outside Tehran" in body["errors"]["lat"][0]


def test_bad_and_missing_fields_are_named(client):
    user = client.as_("inspector-2a")
    assert_problem(user.get("/api/v1/visit-list"), 422, "date")
    assert_problem(user.get("/api/v1/visit-list?date=1405-13-01"), 422, "date")
    assert_problem(user.get(f"/api/v1/visit-list?date={DAY}&lat=35.7"), 422, "lon")
    assert_problem(user.get(f"/api/v1/visit-list?date={DAY}&start=25:00"), 422, "start")
    assert_problem(user.get(f"/api/v1/visit-list?date={DAY}&budget_s=60"), 422, "budget_s")


def test_without_a_position_it_starts_from_the_centre_of_the_offices(client):
    response = client.as_("inspector-2a").get(f"/api/v1/visit-list?date={DAY}")
    assert response.status_code == 200, response.get_data(as_text=True)
    plan = response.get_json()
    assert plan["start"]["position_source"] == "offices_centre"
    assert plan["stops"][0]["visit_at"].startswith(calendar.to_gregorian(calendar.parse_date(DAY)).isoformat()
                                                   + "T08:")


def test_a_district_head_plans_for_an_inspector_of_their_district_only(client):
    assert visit_list(client, user="head-2", inspector="inspector-2b")["inspector"] == "inspector-2b"
    assert_problem(client.as_("head-3").get(f"/api/v1/visit-list?date={DAY}&inspector=inspector-2b"), 403)
    assert_problem(client.as_("head-2").get(f"/api/v1/visit-list?date={DAY}"), 422, "inspector")
    assert_problem(client.as_("head-2").get(f"/api/v1/visit-list?date={DAY}&inspector=nobody"), 422, "inspector")
    assert_problem(client.as_("inspector-2a").get(f"/api/v1/visit-list?date={DAY}&inspector=inspector-2b"), 403)


def test_another_districts_inspector_is_out_of_scope_and_another_inspectors_list_a_role_refusal(client):
    # A head of another district could see the list if it were theirs: the district is the
    # obstacle. An inspector may never see another's: their role is.
    refused = client.as_("head-3").get(f"/api/v1/visit-list?date={DAY}&inspector=inspector-2b")
    assert assert_problem(refused, 403)["type"] == "/problems/out-of-scope"
    refused = client.as_("inspector-2a").get(f"/api/v1/visit-list?date={DAY}&inspector=inspector-2b")
    assert assert_problem(refused, 403)["type"] == "/problems/forbidden"


def test_today_without_a_start_time_starts_now(client):
    day = calendar.format_date(calendar.tehran_day(datetime.now(calendar.TEHRAN)))
    response = client.as_("inspector-2a").get(f"/api/v1/visit-list?date={day}")
    if response.status_code == 422:  # today has no mandated hours (a Friday or holiday)
        assert "date" in response.get_json()["errors"]
        return
    plan = response.get_json()
    started = datetime.fromisoformat(plan["start"]["at"])
    assert abs(started - datetime.now(calendar.TEHRAN)) < timedelta(minutes=2)
