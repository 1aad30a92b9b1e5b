"""What goes wrong on a phone in the field, through the app in Chromium against a real
server (issue 14): a push whose answer is lost, a photo upload broken after its first
piece, two phones of one inspector editing one report, a report the server refuses, and a
phone clock two hours slow."""

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone

from tests.app.phone import TEHRAN, server_reports


def test_a_lost_answer_is_retried_and_nothing_doubles(phones, photo_files, mandated):
    phone = phones("inspector-4a")
    phone.login()
    offices = sorted(phone.offices(), key=lambda o: o["code"])[:2]
    phone.offline()
    for office in offices:
        phone.capture(office, "open", notes="answer lost")
    pushes = []

    def lose_first_answer(route):
        pushes.append(json.loads(route.request.post_data))
        if len(pushes) == 1:
            route.fetch()  # the server gets it and commits: only the answer is lost
            route.abort("connectionreset")
        else:
            route.continue_()

    phone.page.route("**/api/v1/sync/push", lose_first_answer)
    phone.offline(False)
    phone.sync()
    assert len(pushes) >= 2, "the app sent the push again"
    first, again = pushes[0]["ops"], pushes[1]["ops"]
    assert [op["op_id"] for op in first] == [op["op_id"] for op in again], "a retry resends the same ops"
    assert first == again, "the very same ops, byte for byte in their content"
    mine = server_reports(mandated, "inspector-4a")
    assert len(mine) == 2 and {r["office_id"] for r in mine} == {o["id"] for o in offices}
    assert set(phone.outbox_states().values()) == {"sent"}
    assert phone.outbox_count() == 0


def test_a_broken_upload_resumes_from_the_servers_offset(phones, photo_files, mandated):
    phone = phones("inspector-7a")
    phone.login()
    office = sorted(phone.offices(), key=lambda o: o["code"])[0]
    phone.offline()
    phone.capture(office, "closed", photo=photo_files[3])
    calls = []

    def break_second_piece(route):
        request = route.request
        calls.append((request.method, request.headers.get("content-range")))
        if request.method == "PATCH" and sum(1 for m, _ in calls if m == "PATCH") == 2:
            route.abort("connectionreset")  # the network drops after the first piece landed
        else:
            route.continue_()

    phone.page.route("**/api/v1/attachments/*", break_second_piece)
    phone.offline(False)
    phone.sync()
    patches = [rng for method, rng in calls if method == "PATCH"]
    assert len(patches) >= 3, calls
    first_end = int(re.match(r"bytes 0-(\d+)/\d+", patches[0])[1])
    assert patches[1].startswith(f"bytes {first_end + 1}-"), "the broken piece"
    assert ("HEAD", None) in calls[2:], "after the break the app asks where to go on"
    assert patches[2].startswith(f"bytes {first_end + 1}-"), "and resumes at Upload-Offset, not at 0"
    report = server_reports(mandated, "inspector-7a")[0]
    sha = report["photos"][0]["sha256"]
    assert report["photos_pending"] == []
    blob = mandated.request("GET", f"/api/v1/attachments/{sha}", user="inspector-7a")
    assert blob.status == 200 and hashlib.sha256(blob.body).hexdigest() == sha
    assert blob.body[:3] == b"\xff\xd8\xff", "a JPEG, shrunk on the phone"


def test_two_phones_edit_one_report_and_the_second_sees_the_merge(phones, mandated):
    first = phones("inspector-8a")
    first.login()
    office = sorted(first.offices(), key=lambda o: o["code"])[0]
    first.capture(office, "open", notes="دفتر باز بود.")
    first.sync()
    report_id = server_reports(mandated, "inspector-8a")[0]["id"]

    second = phones("inspector-8a")
    second.login()  # the same inspector's second phone pulls the report
    assert report_id in second.outbox_states()

    first.offline()
    second.offline()
    first.edit(report_id, notes="دفتر باز بود.\nمدیر دفتر ساعت ۹ رسید.")
    second.edit(report_id, notes="دفتر باز بود.\nصف مراجعان طولانی بود.", state="open_not_serving")
    first.offline(False)
    first.sync()
    second.offline(False)
    second.sync()

    record = {r["id"]: r for r in server_reports(mandated, "inspector-8a")}[report_id]
    assert "مدیر دفتر ساعت ۹ رسید." in record["notes"] and "صف مراجعان طولانی بود." in record["notes"]
    assert record["notes"].index("مدیر دفتر") < record["notes"].index("صف مراجعان"), "the server's text first"
    item = second.item(report_id)
    assert item.get_attribute("data-state") == "merged"
    shown = item.query_selector("[data-role=conflicts]").text_content()
    assert "یادداشت" in shown and "هر دو متن نگه داشته شد" in shown
    assert "مدیر دفتر ساعت ۹ رسید." in shown, "the inspector sees what the other phone wrote"
    second.shot("06-outbox-merged")
    first.sync()  # and the first phone converges on the merged record
    notes = first.page.evaluate("id => window.bazres.store.reports.get(id).then(r => r.data.notes)", report_id)
    assert notes == record["notes"]


def test_a_refused_report_shows_why_and_blocks_nothing(phones, mandated):
    phone = phones("inspector-9a")
    phone.login()
    mine = sorted(phone.offices(), key=lambda o: o["code"])[0]
    elsewhere = mandated.request("GET", "/api/v1/offices?district=10&page_size=1", user="admin").json()[0]
    phone.offline()
    # A report of an office outside the inspector's districts (a stale phone, a tampered
    # store): saved like any other, refused by the server.
    refused_id = phone.page.evaluate("""office => window.bazres.saveReport({office_id: office, office_state: "closed",
        observed_at: new Date().toISOString(), checklist: {}, notes: "", photos: []})""", elsewhere["id"])
    phone.capture(mine, "open", notes="after the refused one")
    phone.offline(False)
    phone.sync()
    states = phone.outbox_states()
    assert states.pop(refused_id) == "refused"
    assert list(states.values()) == ["sent"], "the report behind it landed"
    reason = phone.item(refused_id).query_selector("[data-role=reason]").text_content()
    assert "دفتر" in reason and len(reason) > 12, reason
    assert phone.outbox_count() == 0
    phone.shot("07-outbox-refused")
    quarantine = mandated.request("GET", "/api/v1/sync/quarantine", user="inspector-9a")
    assert quarantine.status == 200 and any(q["payload"].get("id") == refused_id for q in quarantine.json())


def test_a_phone_clock_two_hours_slow_shows_the_servers_evidence_time(phones, mandated):
    phone = phones("inspector-11a")
    slow = datetime.now(timezone.utc) - timedelta(hours=2)
    phone.context.clock.install(time=slow)
    phone.login()
    office = sorted(phone.offices(), key=lambda o: o["code"])[0]
    phone.capture(office, "closed")
    phone.sync()
    record = server_reports(mandated, "inspector-11a")[0]
    observed = datetime.fromisoformat(record["observed_at"])
    evidence = datetime.fromisoformat(record["evidence_time"])
    assert abs((evidence - datetime.now(timezone.utc)).total_seconds()) < 300, record
    assert (evidence - observed).total_seconds() > 7000, "the phone's own time is two hours behind"
    assert record["flags"] == ["closed_during_mandated_hours"]
    shown = phone.item(record["id"]).query_selector("[data-role=evidence]").text_content()
    right = evidence.astimezone(TEHRAN).strftime("%H:%M").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    wrong = observed.astimezone(TEHRAN).strftime("%H:%M").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert right in shown and wrong not in shown, shown
