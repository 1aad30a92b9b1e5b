"""Rounds through the HTTP API: a head splits a district's offices among its inspectors,
every office exactly once; edits keep that true; phones get the rounds through the pull."""

import uuid

import pytest

from app.extensions import db
from app.models import User, UserDistrict
from tests.support import assert_problem

DAY = "1405-01-05"


def offices_of(client, district: int) -> list[dict]:
    return client.as_("admin").get(f"/api/v1/offices?district={district}&page_size=100").get_json()


def plan(client, user="head-2", **body) -> dict:
    response = client.as_(user).post("/api/v1/rounds", json={"date": DAY, "inspectors": ["inspector-2a",
                                                                                         "inspector-2b"], **body})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def office_ids(rounds: list[dict]) -> list[str]:
    return [stop["office_id"] for r in rounds for stop in r["stops"]]


def pull_rounds(client, user: str) -> dict:
    body = {"protocol": 1, "device_id": str(uuid.uuid4()), "cursor": None, "limit": 1000}
    response = client.as_(user).post("/api/v1/sync/pull", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["changes"]["rounds"]


def test_a_balanced_split_covers_every_office_of_the_district_exactly_once(client):
    split = plan(client)
    ids = office_ids(split["rounds"])
    assert sorted(ids) == sorted(o["id"] for o in offices_of(client, 2))
    assert len(ids) == len(set(ids))
    assert {r["inspector"] for r in split["rounds"]} == {"inspector-2a", "inspector-2b"}
    work = sorted(r["planned_minutes"] for r in split["rounds"])
    assert work[0] > 0 and work[1] <= 2 * work[0], work  # balanced, not everything to one
    for r in split["rounds"]:
        etas = [s["eta"] for s in r["stops"]]
        assert all(etas) and etas == sorted(etas)  # planned order is driving order
        assert "08:00" <= etas[0] and etas[-1] < "16:30"
    assert split["unassigned"] == []


@pytest.mark.parametrize("people", [["inspector-2a"], ["inspector-2a", "inspector-2b"]])
def test_balanced_split_for_one_or_two_inspectors(client, people):
    split = plan(client, inspectors=people)
    assert len(split["rounds"]) == len(people)
    assert sorted(office_ids(split["rounds"])) == sorted(o["id"] for o in offices_of(client, 2))


def test_planning_again_needs_replace_and_then_replaces(client):
    first = plan(client)
    assert_problem(client.as_("head-2").post("/api/v1/rounds", json={
        "date": DAY, "inspectors": ["inspector-2a"]}), 409)
    second = plan(client, inspectors=["inspector-2b"], replace=True)
    listed = client.as_("head-2").get(f"/api/v1/rounds?date={DAY}").get_json()
    assert [r["id"] for r in listed] == [second["rounds"][0]["id"]]
    assert first["rounds"][0]["id"] not in {r["id"] for r in listed}


def test_assignments_by_hand_are_checked_field_by_field(client):
    mine, other = offices_of(client, 2), offices_of(client, 3)
    head = client.as_("head-2")
    bad_office = head.post("/api/v1/rounds", json={"date": DAY, "assignments": [
        {"inspector": "inspector-2a", "offices": [mine[0]["id"], other[0]["id"]]}]})
    assert "district 3" in assert_problem(bad_office, 422, "assignments.0.offices.1")["detail"]
    twice = head.post("/api/v1/rounds", json={"date": DAY, "assignments": [
        {"inspector": "inspector-2a", "offices": [mine[0]["id"]]},
        {"inspector": "inspector-2b", "offices": [mine[0]["id"]]}]})
    assert_problem(twice, 422, "assignments.1.offices.0")
    stranger = head.post("/api/v1/rounds", json={"date": DAY, "assignments": [
        {"inspector": "inspector-3a", "offices": [mine[0]["id"]]}]})
    assert_problem(stranger, 422, "assignments.0.inspector")
    assert_problem(head.post("/api/v1/rounds", json={"date": DAY}), 422, "inspectors")
    assert_problem(head.post("/api/v1/rounds", json={"date": "1405-07-31", "inspectors": ["inspector-2a"]}),
                   422, "date")
    assert head.get(f"/api/v1/rounds?date={DAY}").get_json() == []  # nothing half-made


def test_by_hand_keeps_the_given_order_and_lists_the_rest_unassigned(client):
    mine = offices_of(client, 2)
    chosen = [mine[3]["id"], mine[0]["id"], mine[5]["id"]]
    response = client.as_("head-2").post("/api/v1/rounds", json={"date": DAY, "assignments": [
        {"inspector": "inspector-2a", "offices": chosen}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    split = response.get_json()
    assert office_ids(split["rounds"]) == chosen
    assert split["rounds"][0]["method"] == "manual"
    assert len(split["unassigned"]) == len(mine) - 3


def test_moving_an_office_takes_it_out_of_the_other_round(client):
    a, b = plan(client)["rounds"]
    moved = a["stops"][0]["office_id"]
    new_b = [s["office_id"] for s in b["stops"]] + [moved]
    response = client.as_("head-2").request("PATCH", f"/api/v1/rounds/{b['id']}",
                                            json={"version": b["version"], "offices": new_b})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [s["office_id"] for s in response.get_json()["stops"]] == new_b
    after = client.as_("head-2").get(f"/api/v1/rounds?date={DAY}").get_json()
    ids = office_ids(after)
    assert sorted(ids) == sorted(o["id"] for o in offices_of(client, 2)) and len(ids) == len(set(ids))
    a_after = next(r for r in after if r["id"] == a["id"])
    assert moved not in [s["office_id"] for s in a_after["stops"]] and a_after["version"] == a["version"] + 1
    stale = client.as_("head-2").request("PATCH", f"/api/v1/rounds/{b['id']}",
                                         json={"version": b["version"], "offices": []})
    assert assert_problem(stale, 409)["current"] == b["version"] + 1


def test_rounds_reach_the_district_phones_through_the_pull_and_leave_when_deleted(client):
    split = plan(client)
    pulled = pull_rounds(client, "inspector-2a")
    assert {r["id"] for r in pulled["upserted"]} == {r["id"] for r in split["rounds"]}
    assert all(r["stops"] and r["date"] == DAY for r in pulled["upserted"])
    assert pull_rounds(client, "inspector-3a")["upserted"] == []
    gone = split["rounds"][0]
    response = client.as_("head-2").delete(f"/api/v1/rounds/{gone['id']}", headers={"If-Match": str(gone["version"])})
    assert response.status_code == 204, response.get_data(as_text=True)
    pulled = pull_rounds(client, "inspector-2a")
    assert gone["id"] in pulled["deleted"]
    assert gone["id"] not in {r["id"] for r in pulled["upserted"]}


def test_the_visit_list_follows_the_inspector_round(client):
    split = plan(client)
    mine = next(r for r in split["rounds"] if r["inspector"] == "inspector-2a")
    listed = client.as_("inspector-2a").get(f"/api/v1/visit-list?date={DAY}&start=08:00").get_json()
    assert listed["round_id"] == mine["id"]
    planned = [s["office"]["id"] for s in listed["stops"]] + [d["office"]["id"] for d in listed["dropped"]]
    assert sorted(planned) == sorted(s["office_id"] for s in mine["stops"])


def test_an_inspector_whose_round_is_empty_gets_a_clear_answer(client):
    split = plan(client, inspectors=["inspector-2a"])
    (only,) = split["rounds"]
    emptied = client.as_("head-2").request("PATCH", f"/api/v1/rounds/{only['id']}",
                                           json={"version": only["version"], "offices": []})
    assert emptied.status_code == 200, emptied.get_data(as_text=True)
    response = client.as_("inspector-2a").get(f"/api/v1/visit-list?date={DAY}")
    assert "no offices" in assert_problem(response, 422, "inspector")["detail"]


def test_scope_heads_plan_their_district_inspectors_see_their_own(client):
    assert_problem(client.as_("head-3").post("/api/v1/rounds", json={
        "date": DAY, "district": 2, "inspectors": ["inspector-2a"]}), 403)
    split = plan(client)
    mine = client.as_("inspector-2a").get(f"/api/v1/rounds?date={DAY}").get_json()
    assert [r["inspector"] for r in mine] == ["inspector-2a"]
    other = next(r for r in split["rounds"] if r["inspector"] == "inspector-2b")
    assert_problem(client.as_("inspector-2a").get(f"/api/v1/rounds/{other['id']}"), 404)
    assert_problem(client.as_("head-3").get(f"/api/v1/rounds/{other['id']}"), 404)
    assert client.as_("committee1").get(f"/api/v1/rounds/{other['id']}").status_code == 200


def test_each_refusal_of_a_plan_has_its_own_problem_code(client):
    """A planned day, a stale version, a busy inspector and another district: four codes, not one."""
    a, _ = plan(client)["rounds"]
    head = client.as_("head-2")
    again = head.post("/api/v1/rounds", json={"date": DAY, "inspectors": ["inspector-2a"]})
    assert assert_problem(again, 409)["type"] == "/problems/round-exists"
    stale = head.request("PATCH", f"/api/v1/rounds/{a['id']}", json={"version": a["version"] + 1, "offices": []})
    assert assert_problem(stale, 409)["type"] == "/problems/stale-version"
    gone = head.delete(f"/api/v1/rounds/{a['id']}?version={a['version'] + 1}")
    assert assert_problem(gone, 409)["type"] == "/problems/stale-version"
    elsewhere = head.post("/api/v1/rounds", json={"date": DAY, "district": 3, "inspectors": ["inspector-3a"]})
    assert assert_problem(elsewhere, 403)["type"] == "/problems/out-of-scope"
    inspector = client.as_("inspector-2a").post("/api/v1/rounds", json={"date": DAY, "inspectors": ["inspector-2a"]})
    assert assert_problem(inspector, 403)["type"] == "/problems/forbidden"


def test_an_inspector_planned_in_one_district_is_busy_for_the_other(client):
    plan(client)
    person = db.session.scalar(db.select(User).where(User.username == "inspector-2a"))
    person.district_links.append(UserDistrict(district=3))
    db.session.commit()
    busy = client.as_("head-3").post("/api/v1/rounds", json={"date": DAY, "inspectors": ["inspector-2a"]})
    body = assert_problem(busy, 409)
    assert body["type"] == "/problems/inspector-busy" and "inspector-2a" in body["detail"]
