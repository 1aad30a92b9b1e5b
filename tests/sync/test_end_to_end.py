"""Phones played by the reference client, through the HTTP API, on the real databases."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import LedgerEntry, Report, SyncConflict
from sync.client import ServerError, problem_code
from tests.support import assert_problem
from tests.sync.helpers import FlaskTransport, Flaky, jpeg, phone


@pytest.fixture
def office(client):
    return client.as_("inspector-6a").get("/api/v1/offices?district=6&page_size=1").get_json()[0]


def test_first_pull_gives_the_whole_scope(client, tmp_path):
    device = phone(client, tmp_path, "inspector-6a")
    device.pull(limit=7)  # several pages
    offices = device.records("offices")
    expected = client.as_("inspector-6a").get("/api/v1/offices").get_json()
    assert sorted(o["id"] for o in offices) == sorted(o["id"] for o in expected)
    assert [d["number"] for d in device.records("districts")] == [6]
    assert len(device.records("hours_rules")) == 3 and len(device.records("holidays")) == 87
    assert device.pull() == 0  # nothing new


def test_two_devices_of_one_inspector_editing_one_report_offline_are_merged(client, tmp_path, office, app_context):
    a = phone(client, tmp_path, "inspector-6a", "a")
    b = phone(client, tmp_path, "inspector-6a", "b")
    a.pull()
    report_id = a.add_report(office["id"], "open", location=office["location"], accuracy_m=10, notes="door shut")
    a.push()
    b.pull()
    assert b.report(report_id)["notes"] == "door shut"
    a.edit_report(report_id, notes="door shut\nneighbour says closed since Monday", staff_present=0)
    b.edit_report(report_id, notes="door shut\nsign on the door", office_state="open_not_serving")
    a.push()
    (result,) = b.push()
    assert result["status"] == "merged"
    policies = {c["field"]: c["policy"] for c in result["conflicts"]}
    assert policies == {"notes": "merge_text"}
    merged = result["record"]
    assert merged["notes"] == "door shut\nneighbour says closed since Monday\n\nsign on the door"
    assert merged["office_state"] == "open_not_serving" and merged["staff_present"] == 0
    a.pull()
    assert a.report(report_id)["notes"] == merged["notes"] and a.report(report_id)["version"] == 3
    stored = db.session.scalars(sa.select(SyncConflict).where(SyncConflict.report_id == uuid.UUID(report_id))).all()
    assert [(c.field, c.policy) for c in stored] == [("notes", "merge_text")]


def test_a_lost_response_then_the_retry_makes_no_duplicate(client, tmp_path, office, app_context):
    flaky = Flaky(FlaskTransport(client.http), lose={1})
    device = phone(client, tmp_path, "inspector-6a", transport=flaky)
    report_id = device.add_report(office["id"], "open", location=office["location"], accuracy_m=8)
    (result,) = device.push()
    assert flaky.sent[:2] == [("POST", "/api/v1/sync/push")] * 2  # sent, answer lost, sent again
    assert result["status"] == "duplicate" and result["version"] == 1 and result["id"] == report_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.id == uuid.UUID(report_id))) == 1
    assert device.status()["outbox"] == 0


def test_a_phone_clock_two_hours_slow_still_gives_the_right_evidence_time(client, tmp_path, office):
    slow = lambda: datetime.now(timezone.utc) - timedelta(hours=2)  # noqa: E731
    device = phone(client, tmp_path, "inspector-6a", clock=slow)
    device.add_report(office["id"], "open", location=office["location"], accuracy_m=8)
    (result,) = device.push()
    record = result["record"]
    evidence = datetime.fromisoformat(record["evidence_time"])
    assert abs(evidence - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert record["evidence_time_source"] == "corrected_device"
    assert 7100 < record["clock_skew_s"] < 7300
    observed = datetime.fromisoformat(record["observed_at"])
    assert abs(observed - (datetime.now(timezone.utc) - timedelta(hours=2))) < timedelta(minutes=1)


def test_photos_pushed_after_their_report_over_a_broken_resumed_upload(client, tmp_path, office):
    body, sha = jpeg("broken-upload", 700_000)  # three pieces of 256 KiB
    path = tmp_path / "door.jpg"
    path.write_bytes(body)
    flaky = Flaky(FlaskTransport(client.http), drop={3})  # push, PATCH 1, then PATCH 2 drops
    device = phone(client, tmp_path, "inspector-6a", transport=flaky)
    report_id = device.add_report(office["id"], "open", location=office["location"], accuracy_m=8, photos=[path])
    (result,) = device.push()
    assert result["missing_attachments"] == [sha]  # the report landed first
    methods = [m for m, _ in flaky.sent]
    assert methods == ["POST", "PATCH", "PATCH", "HEAD", "PATCH", "PATCH"]
    assert client.as_("inspector-6a").get(f"/api/v1/attachments/{sha}").data == body
    device.pull()
    assert device.report(report_id)["server"]["photos_pending"] == []


def test_an_upload_started_by_an_earlier_run_goes_on_from_where_the_server_is(client, tmp_path, office):
    body, sha = jpeg("half-sent", 600_000)
    path = tmp_path / "sign.jpg"
    path.write_bytes(body)
    held = 256 * 1024  # the app was closed after its first piece
    client.as_("inspector-6a").request("PATCH", f"/api/v1/attachments/{sha}", data=body[:held], headers={
        "Content-Type": "image/jpeg", "Content-Range": f"bytes 0-{held - 1}/{len(body)}"})
    flaky = Flaky(FlaskTransport(client.http))
    device = phone(client, tmp_path, "inspector-6a", transport=flaky)
    device.add_report(office["id"], "open", location=office["location"], accuracy_m=8, photos=[path])
    device.push()
    # The first PATCH starts at 0 without asking; the server answers 409 with where it is.
    assert [m for m, _ in flaky.sent] == ["POST", "PATCH", "PATCH", "PATCH"]
    assert client.as_("inspector-6a").get(f"/api/v1/attachments/{sha}").data == body


def test_a_batch_of_500_ops_with_three_bad_ones(client, tmp_path, office):
    device = phone(client, tmp_path, "inspector-6a")
    for i in range(500):
        state = "open" if i not in (7, 250, 499) else "ajar"  # three bad states
        device.add_report(office["id"], state, location=office["location"], accuracy_m=5, notes=f"#{i}")
    results = device.push()
    statuses = [r["status"] for r in results]
    assert statuses.count("applied") == 497 and statuses.count("rejected") == 3
    assert [i for i, r in enumerate(results) if r["status"] == "rejected"] == [7, 250, 499]
    assert all("data.office_state" in results[i]["errors"] for i in (7, 250, 499))
    quarantine = client.as_("inspector-6a").get("/api/v1/sync/quarantine").get_json()
    assert sorted(q["op_id"] for q in quarantine) == sorted(results[i]["op_id"] for i in (7, 250, 499))
    head_view = client.as_("head-6").get("/api/v1/sync/quarantine").get_json()
    assert len(head_view) == 3
    assert client.as_("inspector-6b").get("/api/v1/sync/quarantine").get_json() == []
    assert client.as_("head-7").get("/api/v1/sync/quarantine").get_json() == []
    assert device.status() | {"cursor": None} == device.status() | {"cursor": None, "outbox": 0, "rejected": 3}


def test_an_office_moved_to_another_district_leaves_the_old_inspectors_device(client, tmp_path, office):
    old = phone(client, tmp_path, "inspector-6a", "old")
    new = phone(client, tmp_path, "inspector-7a", "new")
    old.pull()
    new.pull()
    assert office["id"] in {o["id"] for o in old.records("offices")}
    district_7_point = client.as_("admin").get("/api/v1/offices?district=7&page_size=1").get_json()[0]["location"]
    correction = old.propose_correction(office["id"], "moved", location=district_7_point, note="moved to 7")
    old.push()
    decision = client.as_("admin").post(f"/api/v1/office-corrections/{correction}/decision",
                                        json={"decision": "accept", "note": "checked"})
    assert decision.status_code == 200, decision.get_json()
    old.pull()
    new.pull()
    assert office["id"] not in {o["id"] for o in old.records("offices")}
    moved = [o for o in new.records("offices") if o["id"] == office["id"]]
    assert moved and moved[0]["district"] == 7


def test_a_correction_is_decided_once(client, tmp_path, office):
    device = phone(client, tmp_path, "inspector-6a")
    correction = device.propose_correction(office["id"], "phone", phone="021 5555 0101")
    device.push()
    url = f"/api/v1/office-corrections/{correction}/decision"
    assert client.as_("admin").post(url, json={"decision": "reject", "note": "wrong"}).status_code == 200
    again = client.as_("admin").post(url, json={"decision": "accept", "note": "second thoughts"})
    body = assert_problem(again, 409)
    assert body["type"] == "/problems/correction-decided" and "rejected" in body["detail"]


def test_an_open_upload_of_another_length_stops_the_client_instead_of_resuming(client, tmp_path):
    body, sha = jpeg("other-length", 3000)
    path = tmp_path / "sign.jpg"
    path.write_bytes(body)
    client.as_("inspector-6a").request("PATCH", f"/api/v1/attachments/{sha}", data=body[:1000], headers={
        "Content-Type": "image/jpeg", "Content-Range": f"bytes 0-999/{len(body) + 1}"})
    flaky = Flaky(FlaskTransport(client.http))
    device = phone(client, tmp_path, "inspector-6a", transport=flaky)
    with pytest.raises(ServerError) as refused:
        device.upload_photo(sha, path)
    assert problem_code(refused.value.response) == "upload-length-mismatch"
    assert [m for m, _ in flaky.sent] == ["PATCH"]


def test_the_ledger_holds_each_landed_op_once(client, tmp_path, office, app_context):
    device = phone(client, tmp_path, "inspector-6a")
    report_id = device.add_report(office["id"], "open", location=office["location"], accuracy_m=5)
    (result,) = device.push()
    entries = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.entity_id == uuid.UUID(report_id))).all()
    assert [(str(e.op_id), e.status, e.version) for e in entries] == [(result["op_id"], "applied", 1)]
