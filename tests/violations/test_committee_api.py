"""The committee's API: the queue, the evidence, decisions with optimistic concurrency, the CSV."""

import csv
import io
import threading
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CaseEvent, Change, LedgerEntry, Report, ReportVersion, ViolationCase
from tests.support import assert_problem
from tests.sync.helpers import envelope, first_office, op, report_data
from tests.violations.test_scenarios import at, report


@pytest.fixture
def case(client):
    office = first_office(client)
    record = report(client, office, at("1405-01-06", "10:00"), notes="<script>alert(1)</script>")
    return client.as_("committee1").get(f"/api/v1/violations/{record['violation_id']}").get_json()


def decide(client, case_id, user="committee1", **body):
    return client.as_(user).post(f"/api/v1/violations/{case_id}/decision", json=body)


def test_the_evidence_shows_reports_distances_time_sources_and_the_rule(client, case):
    (evidence,) = case["reports"]
    assert evidence["distance_to_office_m"] == 0.0 and evidence["evidence_time_source"] == "device"
    assert "clock_skew_s" in evidence and evidence["notes"] == "<script>alert(1)</script>"
    assert case["rule"]["name"] == "ساعات کاری نوروز ۱۴۰۵" and case["rule"]["window"] == "08:00–16:30"
    assert case["office"]["location"]["type"] == "Point" and case["date"] == "1405-01-06"


def test_a_case_goes_open_under_review_confirmed_with_a_penalty(client, case):
    reviewed = decide(client, case["id"], version=1, status="under_review")
    assert reviewed.status_code == 200 and reviewed.get_json()["status"] == "under_review"
    confirmed = decide(client, case["id"], version=2, status="confirmed", penalty="warning", note="first time")
    body = confirmed.get_json()
    assert body["status"] == "confirmed" and body["penalty"] == "warning" and body["decided_at"]
    assert [e["action"] for e in body["events"]][-2:] == ["under_review", "decided"]
    assert_problem(decide(client, case["id"], version=3, status="dismissed"), 409)


def test_a_decision_on_a_stale_version_is_409_with_the_current_state(client, case):
    decide(client, case["id"], version=1, status="under_review")
    body = assert_problem(decide(client, case["id"], version=1, status="under_review"), 409)
    assert body["current"]["status"] == "under_review" and body["current"]["version"] == 2


def test_a_stale_version_and_a_forbidden_transition_have_codes_of_their_own(client, case):
    decide(client, case["id"], version=1, status="under_review")
    stale = assert_problem(decide(client, case["id"], version=1, status="dismissed"), 409)
    assert stale["type"] == "/problems/stale-version" and stale["current"]["version"] == 2
    decide(client, case["id"], version=2, status="dismissed")
    final = assert_problem(decide(client, case["id"], version=3, status="under_review"), 409)
    assert final["type"] == "/problems/case-transition-forbidden" and final["current"]["status"] == "dismissed"


def test_if_match_carries_the_version(client, case):
    response = client.as_("committee2").post(f"/api/v1/violations/{case['id']}/decision",
                                             json={"status": "under_review"}, headers={"If-Match": '"1"'})
    assert response.status_code == 200
    assert_problem(client.as_("committee2").post(f"/api/v1/violations/{case['id']}/decision",
                                                 json={"status": "under_review"}), 422, "version")


def test_bad_decisions_are_refused(client, case):
    decide(client, case["id"], version=1, status="under_review")
    assert_problem(decide(client, case["id"], version=2, status="confirmed"), 422, "penalty")
    assert_problem(decide(client, case["id"], version=2, status="dismissed", penalty="fine"), 422, "penalty")
    assert_problem(decide(client, case["id"], version=2, status="closed"), 422, "status")
    assert_problem(decide(client, case["id"], version=2, status="confirmed", penalty="fine", user="head-6"), 403)


def test_who_sees_which_cases(client, case):
    listed = lambda user: [c["id"] for c in client.as_(user).get("/api/v1/violations").get_json()]  # noqa: E731
    assert case["id"] in listed("committee1") and case["id"] in listed("head-6")
    assert case["id"] in listed("inspector-6a")  # their own report's flag
    assert case["id"] not in listed("head-7") and case["id"] not in listed("inspector-6b")
    assert_problem(client.as_("head-7").get(f"/api/v1/violations/{case['id']}"), 404)
    assert_problem(client.as_("inspector-6b").get(f"/api/v1/violations/{case['id']}"), 404)


def test_the_queue_filters_by_status_kind_district_and_dates(client, case):
    q = lambda query: [c["id"] for c in client.as_("committee1").get(f"/api/v1/violations?{query}").get_json()]  # noqa
    assert case["id"] in q("status=open&kind=closed_during_mandated_hours&district=6")
    assert case["id"] in q("date_from=۱۴۰۵/۰۱/۰۱&date_to=1405-01-10")
    assert case["id"] not in q("status=confirmed") and case["id"] not in q("district=7")
    assert case["id"] not in q("date_from=1405-01-07")
    assert_problem(client.as_("committee1").get("/api/v1/violations?date_from=1404-12-30"), 422, "date_from")


def test_the_export_is_excel_ready_csv_with_persian_headers_and_jalali_dates(client, case):
    response = client.as_("committee1").get("/api/v1/violations/export.csv?district=6")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["شناسه پرونده", "تاریخ", "منطقه"]
    (row,) = [r for r in rows[1:] if r[0] == case["id"]]
    assert row[1] == "1405-01-06" and row[2] == "6" and row[8] == "1"
    assert_problem(client.as_("inspector-6a").get("/api/v1/violations/export.csv"), 403)


@pytest.mark.parametrize(("note", "exported"), [
    ("=1+1", "'=1+1"), ("+98 21", "'+98 21"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\r=1", "'\r=1"), ("1-2 = 3", "1-2 = 3"), ("تعطیل بود", "تعطیل بود"),
])
def test_an_exported_cell_that_a_spreadsheet_would_run_as_a_formula_begins_with_a_quote(client, case, note, exported):
    decide(client, case["id"], version=1, status="under_review")
    assert decide(client, case["id"], version=2, status="dismissed", note=note).status_code == 200
    text = client.as_("committee1").get("/api/v1/violations/export.csv?district=6").get_data().decode("utf-8")
    (row,) = [r for r in csv.reader(io.StringIO(text[1:])) if r[0] == case["id"]]
    assert row[10] == exported


@pytest.mark.concurrency
def test_two_members_deciding_at_once_one_wins_the_other_gets_409(app, client, tokens):
    office = first_office(client, "inspector-13a", 13)
    body = envelope([op(data=report_data(office, state="closed", observed_at=at("1405-01-06", "10:00")),
                        changed_at=at("1405-01-06", "10:00"))])
    push = app.test_client().post("/api/v1/sync/push", json=body,
                                  headers={"Authorization": f"Bearer {tokens['inspector-13a']}"}).get_json()
    case_id = push["results"][0]["record"]["violation_id"]
    statuses = []

    def member(username):
        response = app.test_client().post(f"/api/v1/violations/{case_id}/decision",
                                          json={"version": 1, "status": "under_review"},
                                          headers={"Authorization": f"Bearer {tokens[username]}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=member, args=(u,)) for u in ("committee1", "committee2")]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 409]
    finally:
        with app.app_context():
            rid = uuid.UUID(push["results"][0]["id"])
            cid = uuid.UUID(case_id)
            db.session.execute(sa.delete(CaseEvent).where(CaseEvent.case_id == cid))
            db.session.execute(sa.delete(ReportVersion).where(ReportVersion.report_id == rid))
            db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.entity_id == rid))
            db.session.execute(sa.delete(Change).where(Change.entity_id == str(rid)))
            db.session.execute(sa.delete(Report).where(Report.id == rid))
            db.session.execute(sa.delete(ViolationCase).where(ViolationCase.id == cid))
            db.session.commit()
