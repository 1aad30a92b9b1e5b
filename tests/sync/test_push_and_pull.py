"""Push and pull through the HTTP API: the envelope, each conflict rule, deletes, scope changes."""

import gzip
import json
import uuid
from datetime import timedelta

import orjson
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Report, ReportVersion, User, UserDistrict
from app.repositories import attachments as attachment_repo
from app.services.report_form import dump_reports
from tests.support import assert_problem
from tests.violations.test_scenarios import at
from tests.violations.test_scenarios import report as scenario_report
from tests.sync.helpers import (FlaskTransport, HugeBody, chunked, envelope, first_office, iso, jpeg, now, op, phone,
                                push, report_data)

PUSH, PULL = "/api/v1/sync/push", "/api/v1/sync/pull"


@pytest.fixture
def office(client):
    return first_office(client)


def created(client, office, **data):
    (result,) = push(client, [op(data=report_data(office, **data))])
    assert result["status"] == "applied"
    return result


@pytest.mark.parametrize(("body", "field"), [
    ({"protocol": 2, "device_id": str(uuid.uuid4()), "sent_at": "2026-03-25T08:00:00+03:30", "ops": []}, "protocol"),
    ({"protocol": 1, "sent_at": "2026-03-25T08:00:00+03:30", "ops": []}, "device_id"),
    ({"protocol": 1, "device_id": str(uuid.uuid4()), "sent_at": "yesterday", "ops": []}, "sent_at"),
    ({"protocol": 1, "device_id": str(uuid.uuid4()), "sent_at": "2026-03-25T08:00:00", "ops": []}, "sent_at"),
    ({"protocol": 1, "device_id": str(uuid.uuid4()), "sent_at": "2026-03-25T08:00:00+03:30", "ops": {}}, "ops"),
    ({"protocol": 1, "device_id": str(uuid.uuid4()), "sent_at": "2026-03-25T08:00:00+03:30", "ops": [],
      "extra": 1}, "extra"),
])
def test_a_malformed_envelope_is_refused_whole_naming_the_field(client, body, field):
    assert_problem(client.as_("inspector-6a").post(PUSH, json=body), 422, field)


def test_more_than_500_ops_is_413(client, office):
    body = envelope([op(data=report_data(office)) for _ in range(501)])
    assert_problem(client.as_("inspector-6a").post(PUSH, json=body), 413)


def test_a_gzip_body_is_accepted_and_a_broken_one_refused(client, office):
    body = gzip.compress(json.dumps(envelope([op(data=report_data(office))])).encode())
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    response = client.as_("inspector-6a").post(PUSH, data=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "applied"
    assert_problem(client.as_("inspector-6a").post(PUSH, data=body[:-8], headers=headers), 400)
    assert_problem(client.as_("inspector-6a").post(PUSH, data=b"x", headers=headers | {"Content-Encoding": "br"}),
                   415)
    bomb = gzip.compress(b" " * (6 * 1024 * 1024))
    assert_problem(client.as_("inspector-6a").post(PUSH, data=bomb, headers=headers), 413)


def test_a_gzip_body_of_two_members_is_read_whole_and_bytes_after_a_member_are_refused(client, office):
    """RFC 1952: a gzip body may be members one after the other; each is read, none dropped.
    What follows a member and is not one is refused, not ignored."""
    text = json.dumps(envelope([op(data=report_data(office)), op(data=report_data(office))])).encode()
    half = len(text) // 2
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    two = gzip.compress(text[:half]) + gzip.compress(text[half:])
    response = client.as_("inspector-6a").post(PUSH, data=two, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [r["status"] for r in response.get_json()["results"]] == ["applied", "applied"]
    padded = client.as_("inspector-6a").post(PUSH, data=gzip.compress(text) + b"\0" * 1000, headers=headers)
    assert padded.status_code == 200, padded.get_data(as_text=True)  # zeros after a member: padding, as gzip(1) has it
    assert [r["status"] for r in padded.get_json()["results"]] == ["duplicate", "duplicate"]
    problem = assert_problem(client.as_("inspector-6a").post(PUSH, data=gzip.compress(text) + b"trailing",
                                                             headers=headers), 400)
    assert "gzip" in problem["detail"]


def test_a_replay_asks_only_for_the_photos_still_missing(client, office):
    """A replay answers `duplicate` with the record as it now is (DESIGN §5.2): its
    `missing_attachments` too, so that a photo sent since the op landed is not asked for again."""
    body, sha = jpeg("sent-between")
    create = op(data=report_data(office, photos=[{"sha256": sha, "taken_at": None, "caption": ""}]))
    (first,) = push(client, [create])
    assert first["missing_attachments"] == [sha] and first["record"]["photos_pending"] == [sha]
    stored = client.as_("inspector-6a").request("PUT", f"/api/v1/attachments/{sha}", data=body,
                                                headers={"Content-Type": "image/jpeg"})
    assert stored.status_code == 201
    (replay,) = push(client, [create])
    assert replay["status"] == "duplicate"
    assert replay["missing_attachments"] == [] and replay["record"]["photos_pending"] == []
    assert replay["flags"] == replay["record"]["flags"]


def test_a_chunked_body_over_5_mb_is_413_once_one_byte_past_the_limit_is_read(client):
    body = HugeBody()
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    response = client.as_("inspector-6a").post(PUSH, headers=headers, environ_overrides=chunked(body))
    problem = assert_problem(response, 413)
    assert "5242880" in problem["detail"] and body.read_bytes == 5 * 1024 * 1024 + 1


@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_a_body_declared_over_5_mb_is_413_naming_the_limit_before_a_byte_of_it_is_read(client, encoding):
    body = HugeBody()
    headers = {"Content-Type": "application/json"} | ({"Content-Encoding": encoding} if encoding else {})
    problem = assert_problem(client.as_("inspector-6a").post(PUSH, input_stream=body, headers=headers), 413)
    assert "limit of 5242880 bytes (Content-Length: 209715200)" in problem["detail"] and body.read_bytes == 0


@pytest.mark.parametrize(("data", "field"), [
    ({"office_state": "ajar"}, "data.office_state"),
    ({"notes": "x" * 4001}, "data.notes"),
    ({"staff_present": -1}, "data.staff_present"),
    ({"location": {"type": "Point", "coordinates": [200, 35]}}, "data.location"),
    ({"observed_at": "2026-03-25 08:00"}, "data.observed_at"),
    ({"photos": [{"sha256": "nope"}]}, "data.photos.0.sha256"),
    ({"photos": [{"sha256": "a" * 64 + "\n"}]}, "data.photos.0.sha256"),  # `$` matches before a newline
    ({"version": 7}, "data.version"),  # server-owned fields are not the client's to send
    ({"office_id": "00000000-0000-0000-0000-000000000000"}, "data.office_id"),
])
def test_a_bad_op_is_rejected_alone_naming_the_field_and_quarantined(client, office, data, field):
    good, bad = op(data=report_data(office)), op(data=report_data(office) | data)
    results = push(client, [bad, good])
    assert results[0]["status"] == "rejected" and field in results[0]["errors"]
    assert results[1]["status"] == "applied"
    quarantined = client.as_("inspector-6a").get("/api/v1/sync/quarantine").get_json()
    assert quarantined[0]["op_id"] == bad["op_id"] and field in quarantined[0]["errors"]
    assert quarantined[0]["payload"]["data"] == bad["data"]


def test_an_office_outside_the_inspectors_districts_is_rejected(client):
    elsewhere = first_office(client, "inspector-7a", 7)
    (result,) = push(client, [op(data=report_data(elsewhere))])
    assert result["status"] == "rejected" and "outside your districts" in result["errors"]["data.office_id"][0]


def test_a_replayed_op_changes_nothing_and_answers_duplicate(client, office):
    create = op(data=report_data(office))
    (first,) = push(client, [create])
    update = op("update", id_=create["id"], base_version=1, data={"notes": "later"})
    push(client, [update])
    (again,) = push(client, [create])
    assert again["status"] == "duplicate" and again["version"] == 2 and again["record"]["notes"] == "later"
    assert again["op_version"] == 1, "the version the replayed op made, for edits waiting behind it"
    (twice,) = push(client, [update])
    assert twice["status"] == "duplicate" and twice["version"] == 2 and twice["op_version"] == 2


def test_an_update_on_a_version_no_longer_kept_is_refused_not_guessed(client, office, app_context):
    create = op(data=report_data(office))
    push(client, [create])
    db.session.execute(sa.delete(ReportVersion).where(ReportVersion.report_id == uuid.UUID(create["id"])))
    db.session.flush()
    (answer,) = push(client, [op("update", id_=create["id"], base_version=1, data={"notes": "late"})])
    assert answer["status"] == "rejected" and "base_version" in answer["errors"]


def test_a_create_for_an_existing_id_is_never_a_second_report(client, office, app_context):
    create = op(data=report_data(office))
    push(client, [create])
    (second,) = push(client, [op(id_=create["id"], data=report_data(office, notes="other"))])
    assert second["status"] == "duplicate" and second["record"]["notes"] == ""
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)
                             .where(Report.id == uuid.UUID(create["id"]))) == 1
    (other,) = push(client, [op(id_=create["id"], data=report_data(office))], user="inspector-6b")
    assert other["status"] == "rejected" and "id" in other["errors"]


def test_office_id_cannot_change(client, office):
    report = created(client, office)
    other = client.as_("inspector-6a").get("/api/v1/offices?district=6&page=2&page_size=1").get_json()[0]
    (result,) = push(client, [op("update", id_=report["id"], base_version=1, data={"office_id": other["id"]})])
    assert result["status"] == "rejected" and "data.office_id" in result["errors"]


def test_a_stale_delete_is_refused_and_the_report_stays(client, office):
    report = created(client, office)
    push(client, [op("update", id_=report["id"], base_version=1, data={"notes": "seen again"})])
    (result,) = push(client, [op("delete", id_=report["id"], base_version=1)])
    assert result["status"] == "merged"
    assert result["conflicts"][0]["policy"] == "update_beats_delete"
    assert result["record"]["notes"] == "seen again"


def test_a_delete_is_soft_and_reaches_the_authors_other_devices(client, office, tmp_path):
    other_device = phone(client, tmp_path, "inspector-6a", "other")
    report = created(client, office)
    other_device.pull()
    assert other_device.report(str(report["id"])) is not None
    (result,) = push(client, [op("delete", id_=report["id"], base_version=1)])
    assert result["status"] == "applied"
    other_device.pull()
    assert other_device.report(str(report["id"])) is None
    stored = db.session.get(Report, uuid.UUID(str(report["id"])))
    assert stored is not None and stored.deleted_at is not None  # kept for audit


def test_a_locked_report_takes_amendments(client, office, app_context):
    report = created(client, office, state="closed", notes="closed at 09:10")
    db.session.execute(sa.update(Report).where(Report.id == uuid.UUID(str(report["id"]))).values(locked=True))
    db.session.commit()
    (result,) = push(client, [op("update", id_=report["id"], base_version=1,
                                 data={"office_state": "open", "notes": "closed at 09:10, opened 09:40"})])
    assert result["status"] == "merged"
    assert {c["policy"] for c in result["conflicts"]} == {"locked_amendment"}
    record = result["record"]
    assert record["office_state"] == "closed" and record["notes"] == "closed at 09:10"
    assert {a["field"]: a["value"] for a in record["amendments"]} == {
        "office_state": "open", "notes": "closed at 09:10, opened 09:40"}
    (refused,) = push(client, [op("delete", id_=report["id"], base_version=result["version"])])
    assert refused["status"] == "merged" and refused["conflicts"][0]["policy"] == "update_beats_delete"


def test_the_later_edit_wins_by_skew_corrected_time(client, office):
    report = created(client, office)
    # Device A edits at T; device B's clock runs an hour fast, its edit made 10 min before A's.
    t = now()
    push(client, [op("update", id_=report["id"], base_version=1, data={"staff_present": 1}, changed_at=t)])
    fast_clock = timedelta(hours=1)
    (result,) = push(client, [op("update", id_=report["id"], base_version=1, data={"staff_present": 4},
                                 changed_at=t - timedelta(minutes=10) + fast_clock)],
                     sent_at=now() + fast_clock)
    (conflict,) = result["conflicts"]
    assert conflict["policy"] == "latest_edit" and conflict["resolved"] == 1
    assert result["record"]["staff_present"] == 1


def test_an_inspector_reassigned_gets_a_reset_and_keeps_unsynced_reports(client, tmp_path, office, app_context):
    device = phone(client, tmp_path, "inspector-6a", transport=FlaskTransport(client.http))
    device.pull()
    unsynced = device.add_report(office["id"], "closed", location=office["location"], accuracy_m=5)
    user = db.session.scalar(sa.select(User).where(User.username == "inspector-6a"))
    db.session.execute(sa.update(UserDistrict).where(UserDistrict.user_id == user.id).values(district=8))
    db.session.commit()
    cursor = device._meta("cursor")
    page = client.as_("inspector-6a").post(PULL, json={"protocol": 1, "device_id": device.device_id,
                                                       "cursor": cursor}).get_json()
    assert page["reset"] is True
    device.pull()
    assert {o["district"] for o in device.records("offices")} == {8}
    assert [d["number"] for d in device.records("districts")] == [8]
    assert device.report(unsynced) is not None and device.status()["outbox"] == 1


@pytest.mark.parametrize("action", ["update", "delete"])
def test_a_report_of_a_district_the_inspector_left_is_not_changed(client, office, app_context, action):
    """Reassigned, an inspector can no longer report on the old district's offices, nor change
    the reports made there (the push holds the change feed's locks of their districts only):
    the op is rejected naming `id`, kept in the quarantine, and the report stays as it was."""
    (created_,) = push(client, [op(data=report_data(office, notes="before"))])
    user = db.session.scalar(sa.select(User).where(User.username == "inspector-6a"))
    db.session.execute(sa.update(UserDistrict).where(UserDistrict.user_id == user.id).values(district=8))
    db.session.commit()
    change = op(action, id_=created_["id"], base_version=1, data={"notes": "after"} if action == "update" else None)
    (result,) = push(client, [change])
    assert result["status"] == "rejected" and "district 6" in result["errors"]["id"][0], result
    db.session.expire_all()
    stored = db.session.get(Report, uuid.UUID(created_["id"]))
    assert stored.notes == "before" and stored.version == 1 and stored.deleted_at is None


def test_a_foreign_cursor_is_422(client):
    body = {"protocol": 1, "device_id": str(uuid.uuid4()), "cursor": "not-ours"}
    assert_problem(client.as_("inspector-6a").post(PULL, json=body), 422, "cursor")


def test_reports_of_others_are_not_pulled_but_the_head_sees_the_districts(client, office):
    report = created(client, office)
    def pulled(user):
        page = client.as_(user).post(PULL, json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                 "cursor": None, "limit": 1000}).get_json()
        return {r["id"] for r in page["changes"]["reports"]["upserted"]}
    assert str(report["id"]) in pulled("inspector-6a") and str(report["id"]) in pulled("head-6")
    assert str(report["id"]) not in pulled("inspector-6b") and str(report["id"]) not in pulled("head-7")


def test_the_pull_limit_is_at_most_2000_and_more_is_refused_naming_it(client):
    body = {"protocol": 1, "device_id": str(uuid.uuid4()), "cursor": None}
    page = client.as_("inspector-6a").post(PULL, json=body | {"limit": 2000})
    assert page.status_code == 200 and page.get_json()["changes"]["offices"]["upserted"]
    assert_problem(client.as_("inspector-6a").post(PULL, json=body | {"limit": 2001}), 422, "limit")


@pytest.mark.parametrize("shape", ["closed_with_photo", "no_location"])
def test_a_pulled_report_is_written_exactly_as_the_stored_report_is(client, office, app_context, shape):
    """The pull reads reports as plain rows, not ORM objects: what it sends must be, byte for
    byte, what the report as the ORM loads it is written as (closed with a photo still to
    send, a checklist and notes; or with no location at all)."""
    photo = {"sha256": "ab" * 32, "taken_at": iso(now()), "caption": "سردر"}
    if shape == "no_location":
        report = created(client, office, location=None, accuracy_m=None)
    else:
        report = created(client, office, state="closed", notes="بسته بود", checklist={"sign": True},
                         staff_present=0, photos=[photo])
    page = client.as_("inspector-6a").post(PULL, json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                       "cursor": None, "limit": 2000}).get_json()
    (pulled,) = [r for r in page["changes"]["reports"]["upserted"] if r["id"] == str(report["id"])]
    db.session.expire_all()
    expected = dump_reports([db.session.get(Report, uuid.UUID(str(report["id"])))])[0]
    assert orjson.dumps(pulled) == orjson.dumps(expected)  # the bytes: key order, 5 against 5.0
    if shape == "closed_with_photo":
        assert pulled["photos_pending"] == [photo["sha256"]] and pulled["office_state"] == "closed"


def test_the_photos_still_to_send_are_found_for_a_page_naming_more_than_a_statement_can_bind(app_context):
    """A pull page of 2,000 reports of 50 photos each names 100,000 photos: more than either
    database binds in one statement: they are asked for in parts."""
    author = db.session.scalar(sa.select(User.id).where(User.username == "inspector-6a"))
    photos = {(author, f"{n:064x}") for n in range(70_000)}
    assert attachment_repo.missing_photos(photos) == photos


def test_a_report_stored_before_records_were_kept_is_pulled_written_from_its_columns(client, office, app_context):
    """A report from before migration 0016 has no stored record: the pull writes it from its
    columns, the same bytes a stored one would be."""
    report = created(client, office, notes="پیش از ۰۰۱۶")

    def pulled():
        page = client.as_("inspector-6a").post(PULL, json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                           "cursor": None, "limit": 2000}).get_json()
        (record,) = [r for r in page["changes"]["reports"]["upserted"] if r["id"] == str(report["id"])]
        return orjson.dumps(record)

    stored = pulled()
    db.session.execute(sa.update(Report).where(Report.id == uuid.UUID(str(report["id"]))).values(wire=None))
    db.session.commit()
    assert pulled() == stored


def test_a_record_stored_under_another_key_is_not_sent_but_written_from_its_columns(client, office, app_context):
    """A report changed by code that did not write its record (another release, a hand-made
    UPDATE that raised its version) is pulled as its columns say, not as its stale record."""
    report = created(client, office, notes="پیش")
    report_id = uuid.UUID(str(report["id"]))
    db.session.execute(sa.update(Report).where(Report.id == report_id).values(notes="پس", version=Report.version + 1))
    db.session.commit()
    page = client.as_("inspector-6a").post(PULL, json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                       "cursor": None, "limit": 2000}).get_json()
    (pulled,) = [r for r in page["changes"]["reports"]["upserted"] if r["id"] == str(report_id)]
    assert pulled["notes"] == "پس" and pulled["version"] == report["version"] + 1


def test_a_report_re_judged_after_a_change_of_the_hours_is_pulled_as_re_judged(client, office):
    """Re-judging (the other writer of reports besides the push) rewrites the record: a
    closure flagged on 6 Farvardin, then a closure rule for that day, is pulled unflagged and
    unlocked with its new version (and every pull checks each stored record)."""
    flagged = scenario_report(client, office, at("1405-01-06", "10:00"))
    assert flagged["locked"] and flagged["flags"]
    assert client.as_("admin").post("/api/v1/hours-rules", json={
        "name": "تعطیلی ۶ فروردین", "scope": "district:6", "date_from": "1405-01-06", "date_to": "1405-01-06",
        "kind": "closed"}).status_code == 201
    page = client.as_("inspector-6a").post(PULL, json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                       "cursor": None, "limit": 2000}).get_json()
    (pulled,) = [r for r in page["changes"]["reports"]["upserted"] if r["id"] == flagged["id"]]
    assert pulled["version"] > flagged["version"] and not pulled["locked"] and not pulled["flags"]
