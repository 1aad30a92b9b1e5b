"""A labelled set of scenarios: is each report flagged, and how? Through the HTTP API.

Times are fixed Jalali instants in the past, pushed now with the phone's clock right
(sent_at = now), so the evidence time is the observed time unless a scenario says otherwise.
"""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Report
from app.hours import calendar
from tests.sync.helpers import envelope, first_office, op, report_data

TEHRAN = calendar.TEHRAN


def at(day: str, clock: str) -> datetime:
    return calendar.tehran_instant(calendar.parse_date(day), calendar.parse_time(clock))


def moved(location: dict, metres_north: float) -> dict:
    lon, lat = location["coordinates"]
    return {"type": "Point", "coordinates": [lon, lat + metres_north / 111_320]}


@pytest.fixture
def office(client):
    return first_office(client)


def report(client, office, when: datetime, state="closed", user="inspector-6a", sent_at=None, **extra) -> dict:
    data = report_data(office, state=state, observed_at=when) | extra
    body = envelope([op(data=data, changed_at=when)], sent_at=sent_at)
    (result,) = client.as_(user).post("/api/v1/sync/push", json=body).get_json()["results"]
    assert result["status"] in ("applied", "merged"), result
    return result["record"]


def cases_of(client, office, day: str) -> list[dict]:
    listed = client.as_("committee1").get(f"/api/v1/violations?date_from={day}&date_to={day}").get_json()
    return [c for c in listed if c["office_id"] == office["id"]]


SCENARIOS = [
    # (label, day, clock, state, extra data, expected flag)
    ("true closure in Nowruz hours", "1405-01-06", "10:00", "closed", {}, "closed_during_mandated_hours"),
    ("open but not serving in hours", "1405-01-05", "11:00", "open_not_serving", {}, "closed_during_mandated_hours"),
    ("closed on a holiday (Nature Day)", "1405-01-13", "10:00", "closed", {}, None),
    ("closed before 08:00", "1405-01-05", "07:59", "closed", {}, None),
    ("closed at 16:30:00, the end of the window", "1405-01-05", "16:30", "closed", {}, None),
    ("closed at 16:29, still in the window", "1405-01-05", "16:29", "closed", {}, "closed_during_mandated_hours"),
    ("closed on a Friday outside Nowruz", "1405-01-14", "10:00", "closed", {}, None),
    ("found open in hours", "1405-01-06", "10:00", "open", {}, None),
    ("GPS fix poor (±150 m)", "1405-01-06", "10:00", "closed", {"accuracy_m": 150.0}, "needs_verification"),
    ("no position at all", "1405-01-06", "10:00", "closed", {"location": None}, "needs_verification"),
]


@pytest.mark.parametrize(("day", "clock", "state", "extra", "flag"), [s[1:] for s in SCENARIOS],
                         ids=[s[0] for s in SCENARIOS])
def test_scenario(client, office, day, clock, state, extra, flag):
    record = report(client, office, at(day, clock), state=state, **extra)
    assert record["flags"] == ([flag] if flag else [])
    cases = cases_of(client, office, day)
    if flag:
        (case,) = cases
        assert case["kind"] == flag and case["status"] == "open" and record["locked"]
        assert record["violation_id"] == case["id"]
    else:
        assert cases == [] and not record["locked"]


def test_gps_900_m_away_needs_verification_with_the_reason(client, office):
    record = report(client, office, at("1405-01-06", "10:00"), location=moved(office["location"], 900))
    assert record["flags"] == ["needs_verification"]
    assert 890 < record["distance_to_office_m"] < 910
    (case,) = cases_of(client, office, "1405-01-06")
    assert any("m from the office" in reason for reason in case["reasons"])


def test_a_phone_two_hours_slow_is_flagged_at_the_real_time(client, office):
    # Really 09:00 on 1405-01-05 (mandated 08:00–16:30); the phone says 07:00 and is 2 h slow.
    now = datetime.now(timezone.utc)
    record = report(client, office, at("1405-01-05", "07:00"), sent_at=now - timedelta(hours=2))
    assert record["evidence_time_source"] == "corrected_device"
    assert datetime.fromisoformat(record["evidence_time"]) == at("1405-01-05", "09:00") or abs(
        datetime.fromisoformat(record["evidence_time"]) - at("1405-01-05", "09:00")) < timedelta(seconds=5)
    assert record["flags"] == ["closed_during_mandated_hours"]


def edit(client, record, sent_at=None, user="inspector-6a", **data) -> dict:
    body = envelope([op("update", id_=record["id"], base_version=record["version"], data=data)], sent_at=sent_at)
    (result,) = client.as_(user).post("/api/v1/sync/push", json=body).get_json()["results"]
    assert result["status"] == "applied", result
    return result["record"]


def test_an_edit_sent_once_the_clock_is_right_leaves_the_evidence_time_alone(client, office):
    """The phone was 3 h fast when it sent a closure it saw at 06:00 (its clock said 09:00):
    no violation. The clock set right, the inspector adds a note: the observation keeps the
    correction of the push that brought it, and no violation appears (DESIGN §5.3)."""
    now = datetime.now(timezone.utc)
    record = report(client, office, at("1405-01-05", "09:00"), sent_at=now + timedelta(hours=3))
    assert record["evidence_time_source"] == "corrected_device" and record["flags"] == []
    assert abs(datetime.fromisoformat(record["evidence_time"]) - at("1405-01-05", "06:00")) < timedelta(seconds=5)
    edited = edit(client, record, notes="the sign says 08:00-16:30")
    assert edited["notes"] == "the sign says 08:00-16:30" and edited["version"] == 2
    for field in ("evidence_time", "evidence_time_source", "clock_skew_s", "flags", "violation_id"):
        assert edited[field] == record[field], field
    assert cases_of(client, office, "1405-01-05") == []


def test_an_edit_of_the_observed_time_is_corrected_by_its_own_push(client, office):
    """A new `observed_at` was read from the clock of the push that brings it: a right clock
    now, so the time typed is the evidence, judged again (a closure in mandated hours)."""
    now = datetime.now(timezone.utc)
    record = report(client, office, at("1405-01-05", "09:00"), sent_at=now + timedelta(hours=3))
    edited = edit(client, record, observed_at=at("1405-01-05", "10:00").isoformat())
    assert edited["evidence_time_source"] == "device" and abs(edited["clock_skew_s"]) < 60
    assert datetime.fromisoformat(edited["evidence_time"]) == at("1405-01-05", "10:00")
    assert edited["flags"] == ["closed_during_mandated_hours"]
    (case,) = cases_of(client, office, "1405-01-05")
    assert edited["violation_id"] == case["id"]


def test_a_gps_fix_sent_in_a_later_push_is_recent_as_of_that_push(client, office, app_context):
    """A fix added by an edit is set beside the observation as corrected when it arrived, and
    is recent or not as of the push that brings it, not the one that brought the report: a
    fix 5 minutes after an observation the server had for 10 is the evidence."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    record = report(client, office, now - timedelta(minutes=10), state="open")
    assert record["evidence_time_source"] == "device"
    moved_back = db.session.execute(sa.update(Report).where(Report.id == uuid.UUID(record["id"]))
                                    .values(received_at=now - timedelta(minutes=9)))
    assert moved_back.rowcount == 1
    db.session.commit()
    edited = edit(client, record, gps_fix_at=(now - timedelta(minutes=5)).isoformat())
    assert edited["evidence_time_source"] == "gps", edited
    assert datetime.fromisoformat(edited["evidence_time"]) == now - timedelta(minutes=5)


def test_two_inspectors_one_office_one_day_make_one_case(client, office):
    first = report(client, office, at("1405-01-06", "09:30"), user="inspector-6a")
    second = report(client, office, at("1405-01-06", "11:00"), user="inspector-6b")
    (case,) = cases_of(client, office, "1405-01-06")
    assert first["violation_id"] == second["violation_id"] == case["id"]
    detail = client.as_("committee1").get(f"/api/v1/violations/{case['id']}").get_json()
    assert {r["id"] for r in detail["reports"]} == {first["id"], second["id"]}
    assert [e["action"] for e in detail["events"]] == ["opened", "joined"]


def test_an_open_report_later_that_day_is_kept_as_context(client, office):
    closed = report(client, office, at("1405-01-06", "09:30"))
    later = report(client, office, at("1405-01-06", "14:00"), state="open")
    assert later["flags"] == [] and later["violation_id"] == closed["violation_id"] and later["locked"]
    (case,) = cases_of(client, office, "1405-01-06")
    assert case["status"] == "open"
    detail = client.as_("committee1").get(f"/api/v1/violations/{case['id']}").get_json()
    assert [e["action"] for e in detail["events"]] == ["opened", "context"]


def test_a_closure_covered_by_a_rule_published_that_night_closes_the_case(client, office):
    report(client, office, at("1405-02-05", "10:00"))  # a Saturday: regular hours 08:00–16:00
    (case,) = cases_of(client, office, "1405-02-05")
    assert case["status"] == "open"
    rule = client.as_("admin").post("/api/v1/hours-rules", json={
        "name": "تعطیلی اضطراری ۵ اردیبهشت", "scope": "city", "date_from": "1405-02-05", "date_to": "1405-02-05",
        "kind": "closed"})
    assert rule.status_code == 201
    (case,) = cases_of(client, office, "1405-02-05")
    assert case["status"] == "withdrawn"
    detail = client.as_("committee1").get(f"/api/v1/violations/{case['id']}").get_json()
    (withdrawn,) = [e for e in detail["events"] if e["action"] == "withdrawn"]
    assert "no longer holds" in withdrawn["detail"]["reason"] and "تعطیلی اضطراری" in withdrawn["detail"]["reason"]
    assert detail["reports"][0]["flags"] == [] and not detail["reports"][0]["locked"]
    log = client.as_("admin").get(f"/api/v1/hours-changes?entity_id={rule.get_json()['id']}").get_json()
    assert log[0]["reevaluated_flags"] == 1


def test_a_locked_report_in_a_case_takes_amendments(client, office):
    record = report(client, office, at("1405-01-06", "10:00"))
    body = envelope([op("update", id_=record["id"], base_version=1, data={"office_state": "open"})])
    (result,) = client.as_("inspector-6a").post("/api/v1/sync/push", json=body).get_json()["results"]
    assert result["status"] == "merged" and result["record"]["office_state"] == "closed"
    assert result["record"]["amendments"][0]["value"] == "open"


def test_a_locked_report_refuses_a_change_of_office_as_any_report_does(client, office):
    """office_id is fixed at creation (DESIGN §5.4): on a report the committee holds, too, a
    change is rejected, naming the field, not answered `applied` with nothing done."""
    record = report(client, office, at("1405-01-06", "10:00"))
    assert record["locked"]
    other = client.as_("inspector-6a").get("/api/v1/offices?district=6&page_size=2").get_json()[1]
    body = envelope([op("update", id_=record["id"], base_version=1, data={"office_id": other["id"]})])
    (result,) = client.as_("inspector-6a").post("/api/v1/sync/push", json=body).get_json()["results"]
    assert result["status"] == "rejected" and list(result["errors"]) == ["data.office_id"], result
    quarantined = client.as_("inspector-6a").get("/api/v1/sync/quarantine").get_json()
    assert [q["op_id"] for q in quarantined] == [body["ops"][0]["op_id"]]


def test_a_change_of_hours_rejudges_only_the_days_it_can_reach(client, office):
    """Re-judging runs under the whole city's lock: a rule for days in Ordibehesht re-judges
    nothing of Nowruz, a rule over Nowruz (dated, or every year) re-judges its closure."""
    report(client, office, at("1405-01-06", "10:00"))

    def publish(date_from, date_to):
        rule = {"name": f"reach {date_from}", "scope": "district:6", "date_from": date_from, "date_to": date_to,
                "kind": "open", "windows": [{"start": "09:00", "end": "12:00"}]}
        assert client.as_("admin").post("/api/v1/hours-rules", json=rule).status_code == 201
        return client.as_("admin").get("/api/v1/hours-changes").get_json()[0]["reevaluated_flags"]

    assert publish("1405-02-10", "1405-02-12") == 0
    assert publish("01-05", "01-07") == 1
    assert publish("1405-01-06", "1405-01-06") == 1


def test_a_report_joining_a_case_reads_its_office_once_not_again_with_the_case(client, office, app_context):
    """A push has the offices of its reports; locking the cases they join must not load each
    case's office too (the model's selectin load: a second query of the offices a push)."""
    report(client, office, at("1405-01-06", "10:00"))
    statements = []

    def counted(connection, cursor, statement, *_):
        statements.append(" ".join(statement.split()))
    sa.event.listen(db.engine, "before_cursor_execute", counted)
    try:
        record = report(client, office, at("1405-01-06", "11:00"))  # joins the case the first opened
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counted)
    (case,) = cases_of(client, office, "1405-01-06")
    assert record["violation_id"] == case["id"]
    reads = [s for s in statements if s.startswith("SELECT") and " FROM offices" in s]
    assert len(reads) == 1, reads
