"""A case shows systemic monitoring's signals of its office and day beside its evidence, as
context (DESIGN §10b): never a violation by itself, and never a case of its own."""

import jsonschema_rs
import pytest

from app.extensions import db
from app.models import User, UserDistrict
from tests.support import assert_problem
from tests.violations import signals_scenario as scenario
from tests.violations.test_scenarios import at, report


@pytest.fixture
def offices(client) -> list[dict]:
    """Four offices of district 6; the first falls silent on the scenario's day."""
    return client.as_("inspector-6a").get("/api/v1/offices?district=6&page_size=5").get_json()


@pytest.fixture
def suspected(client, offices) -> dict:
    """The first office, suspected of being closed from 10:00 on 1405-01-07."""
    feed = client.as_("feed-platform")
    scenario.make_suspected(lambda url, body: feed.post(url, json=body).get_json(),
                            [o["code"] for o in offices[:4]], offices[0]["code"])
    return offices[0]


def signals_of(client, office: dict, user="committee1") -> list[dict]:
    listed = client.as_(user).get(f"/api/v1/signals?date={scenario.DAY}&district=6").get_json()["items"]
    return [s for s in listed if s["office_id"] == office["id"]]


def cases_of(client, office: dict) -> list[dict]:
    listed = client.as_("committee1").get(
        f"/api/v1/violations?date_from={scenario.DAY}&date_to={scenario.DAY}&district=6").get_json()
    return [c for c in listed if c["office_id"] == office["id"]]


def case(client, case_id: str, user="committee1") -> dict:
    response = client.as_(user).get(f"/api/v1/violations/{case_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_suspected_office_that_no_one_reported_has_no_case(client, suspected):
    (signal,) = signals_of(client, suspected)
    assert signal["state"] == "suspected_closure" and signal["field"] is None
    assert cases_of(client, suspected) == []  # the queue holds field evidence only


def test_a_case_shows_the_suspicion_its_report_confirmed_beside_the_evidence(client, suspected):
    record = report(client, suspected, at(scenario.DAY, "11:00"))
    body = case(client, record["violation_id"])
    (signal,) = body["signals"]
    assert signal["state"] == "suspected_closure" and signal["window"] == scenario.WINDOW
    assert signal["office_code"] == suspected["code"] and signal["date"] == scenario.DAY
    assert signal["silent_from"] == at(scenario.DAY, "09:56").isoformat()  # its last transaction at 09:55
    assert signal["silent_to"] == at(scenario.DAY, "16:30").isoformat()
    assert signal["expected"] > 400 and signal["observed"] == 5 * 24  # served 08:00–09:55
    assert signal["confidence"] >= 0.999 and "تعطیلی را تأیید کرد" in signal["reason"]
    assert signal["field"] == {"status": "confirmed", "office_state": "closed", "report_id": record["id"],
                               "evidence_time": at(scenario.DAY, "11:00").isoformat()}
    kinds = [event["kind"] for event in signal["history"]]
    assert kinds == ["suspected_closure", "confirmed"]
    assert signal["history"][1]["detail"]["report_id"] == record["id"]
    # The case itself stands on the report alone.
    assert [r["id"] for r in body["reports"]] == [record["id"]]
    assert body["kind"] == "closed_during_mandated_hours"


def test_a_suspicion_read_before_the_report_keeps_both_in_its_history(client, suspected):
    assert signals_of(client, suspected)[0]["state"] == "suspected_closure"
    record = report(client, suspected, at(scenario.DAY, "11:00"))
    (signal,) = case(client, record["violation_id"])["signals"]
    assert [event["kind"] for event in signal["history"]] == ["suspected_closure", "confirmed"]
    assert "report_id" not in signal["history"][0]["detail"]
    assert signal["history"][1]["detail"]["report_id"] == record["id"]
    assert signal["field"]["status"] == "confirmed"


def test_a_case_of_an_office_the_feed_never_covered_has_its_windows_no_data(client, suspected, offices):
    quiet = offices[4]  # in no batch
    record = report(client, quiet, at(scenario.DAY, "11:00"))
    (signal,) = case(client, record["violation_id"])["signals"]
    assert signal["state"] == "no_data" and signal["reason_code"] == "no_history"
    assert signal["confidence"] is None and signal["silent_from"] is None


def test_a_case_on_a_day_the_feed_sent_nothing_has_its_windows_no_data(client, offices):
    record = report(client, offices[0], at("1405-01-06", "10:00"))
    (signal,) = case(client, record["violation_id"])["signals"]
    assert signal["state"] == "no_data" and signal["reason_code"] == "feed_silent"
    assert signal["field"] is None and signal["history"] == []


def test_the_signals_are_seen_by_whoever_sees_the_case(client, suspected):
    record = report(client, suspected, at(scenario.DAY, "11:00"))
    for user in ("committee2", "head-6", "inspector-6a"):
        (signal,) = case(client, record["violation_id"], user)["signals"]
        assert signal["state"] == "suspected_closure" and signal["field"]["report_id"] == record["id"]
    for user in ("head-7", "inspector-6b"):
        assert_problem(client.as_(user).get(f"/api/v1/violations/{record['violation_id']}"), 404)


def test_an_inspector_moved_to_another_district_keeps_their_case_but_not_its_offices_signals(client, suspected):
    record = report(client, suspected, at(scenario.DAY, "11:00"))
    person = db.session.scalar(db.select(User).where(User.username == "inspector-6a"))
    person.district_links = [UserDistrict(district=7)]
    db.session.commit()
    body = case(client, record["violation_id"], "inspector-6a")
    assert [r["id"] for r in body["reports"]] == [record["id"]] and body["signals"] == []


def test_an_inspector_is_not_told_which_of_anothers_reports_confirmed_it(client, suspected):
    theirs = report(client, suspected, at(scenario.DAY, "10:30"), user="inspector-6b")
    mine = report(client, suspected, at(scenario.DAY, "11:00"), user="inspector-6a")
    assert mine["violation_id"] == theirs["violation_id"]
    (seen_by_committee,) = case(client, mine["violation_id"])["signals"]
    assert seen_by_committee["field"]["report_id"] == theirs["id"]  # the first that found it closed
    (seen_by_me,) = case(client, mine["violation_id"], "inspector-6a")["signals"]
    assert seen_by_me["field"] == seen_by_committee["field"] | {"report_id": None}
    assert theirs["id"] not in str(seen_by_me)
    assert [e["kind"] for e in seen_by_me["history"]] == ["suspected_closure", "confirmed"]


def test_the_document_describes_the_signals_as_context_and_admits_them(client, suspected):
    spec = client.get("/api/v1/openapi.json").get_json()
    answer = spec["paths"]["/api/v1/violations/{case_id}"]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    detail = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    described = detail["properties"]["signals"]
    assert "Context, not evidence" in described["description"]
    record = report(client, suspected, at(scenario.DAY, "11:00"))
    body = case(client, record["violation_id"])
    validator = jsonschema_rs.Draft4Validator({**described, "components": spec["components"]})
    assert validator.is_valid(body["signals"]), list(validator.iter_errors(body["signals"]))
