"""What goes wrong on a phone in the field, through the app in Chromium against a real
server (issue 14): a push whose answer is lost, a photo upload broken after its first
piece, two phones of one inspector editing one report, a report the server refuses, and a
phone clock two hours slow."""

import hashlib
import json
import re

import pytest
from datetime import datetime, timedelta, timezone

from tests.app.phone import TEHRAN, server_reports


def test_a_lost_answer_is_retried_and_nothing_doubles(phones, photo_files, mandated):
    phone = phones("inspector-4a")
    phone.login()
    offices = phone.offices()[:2]
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
    phone = phones("inspector-19a")
    phone.login()
    office = phone.offices()[0]
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
    report = server_reports(mandated, "inspector-19a")[0]
    sha = report["photos"][0]["sha256"]
    assert report["photos_pending"] == []
    blob = mandated.request("GET", f"/api/v1/attachments/{sha}", user="inspector-19a")
    assert blob.status == 200 and hashlib.sha256(blob.body).hexdigest() == sha
    assert blob.body[:3] == b"\xff\xd8\xff", "a JPEG, shrunk on the phone"


def test_two_phones_edit_one_report_and_the_second_sees_the_merge(phones, mandated):
    first = phones("inspector-8a")
    first.login()
    office = first.offices()[0]
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
    phone = phones("inspector-20a")
    phone.login()
    mine = phone.offices()[0]
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
    quarantine = mandated.request("GET", "/api/v1/sync/quarantine", user="inspector-20a")
    assert quarantine.status == 200 and any(q["payload"].get("id") == refused_id for q in quarantine.json())
    # Corrected and saved again, it goes as a create again: never an op stuck with no base.
    phone.edit(refused_id, notes="corrected")
    phone.sync()
    assert phone.outbox_count() == 0
    assert phone.outbox_states()[refused_id] == "refused", "still another district's office"


@pytest.mark.parametrize("gps", [True, False], ids=["with-gps", "no-gps"])
def test_a_phone_clock_two_hours_slow_shows_the_servers_evidence_time(phones, mandated, gps):
    inspector = "inspector-11a" if gps else "inspector-11b"
    phone = phones(inspector, **({} if gps else {"permissions": []}))
    slow = datetime.now(timezone.utc) - timedelta(hours=2)
    phone.context.clock.install(time=slow)
    phone.login()
    office = phone.offices()[0]
    phone.capture(office, "closed", gps=gps)
    phone.sync()
    record = server_reports(mandated, inspector)[0]
    observed = datetime.fromisoformat(record["observed_at"])
    evidence = datetime.fromisoformat(record["evidence_time"])
    assert abs((evidence - datetime.now(timezone.utc)).total_seconds()) < 300, record
    assert (evidence - observed).total_seconds() > 7000, "the phone's own time is two hours behind"
    # With a GPS fix the fix's own time is the evidence; with none, the phone's clock
    # corrected by the push's skew. Either way, never the phone's wrong time.
    assert record["evidence_time_source"] == ("gps" if gps else "corrected_device")
    assert record["flags"] == (["closed_during_mandated_hours"] if gps else ["needs_verification"])
    shown = phone.item(record["id"]).query_selector("[data-role=evidence]").text_content()
    right = evidence.astimezone(TEHRAN).strftime("%H:%M").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    wrong = observed.astimezone(TEHRAN).strftime("%H:%M").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert right in shown and wrong not in shown, shown


def test_an_edit_made_while_an_answer_was_lost_keeps_the_other_phones_note(phones, mandated):
    """Phone A's edit is sent and its answer lost; A edits again before the retry; phone B
    edited the same notes meanwhile. The retry is a duplicate of a merge, and the second
    edit, waiting behind it, is merged against the version its text came from: every
    note survives (the edit waiting behind a merge must not replace the merged notes)."""
    a = phones("inspector-18a")
    a.login()
    office = a.offices()[0]
    a.capture(office, "open", notes="base")
    a.sync()
    report_id = server_reports(mandated, "inspector-18a")[0]["id"]
    b = phones("inspector-18a")
    b.login()
    b.edit(report_id, notes="base\nfrom B")
    b.sync()

    lost = []

    def lose_the_answer_and_the_network(route):
        if lost:
            route.abort("internetdisconnected")
            return
        route.fetch()  # the server merges A's first edit with B's; the answer never arrives
        route.abort("connectionreset")
        a.context.set_offline(True)  # and the phone is out of coverage before its retry
        lost.append(route.request.post_data)  # last: the test goes on once all this is done

    a.page.route("**/api/v1/sync/push", lose_the_answer_and_the_network)
    a.edit(report_id, notes="base\nA first")  # saving syncs at once (online): its answer is lost
    for _ in range(300):
        if lost:
            break
        a.page.wait_for_timeout(100)
    assert lost, "the first edit was sent"
    a.page.unroute("**/api/v1/sync/push")
    a.edit(report_id, notes="base\nA first\nA second")  # offline, behind the op whose answer is lost
    a.offline(False)
    a.sync()
    notes = {r["id"]: r for r in server_reports(mandated, "inspector-18a")}[report_id]["notes"]
    for line in ("from B", "A first", "A second"):
        assert line in notes, notes


def test_an_edit_saved_while_a_sync_brought_another_phones_note_keeps_it(phones, mandated):
    """The form shows the report as it was when it opened; a sync meanwhile brings phone B's
    note; the inspector changes only the state. Only the state goes, based on the version the
    form showed, and B's note stays."""
    a = phones("inspector-18b")
    a.login()
    office = a.offices()[0]
    a.capture(office, "open", notes="base")
    a.sync()
    report_id = server_reports(mandated, "inspector-18b")[0]["id"]
    b = phones("inspector-18b")
    b.login()

    a.go(f"#/report/{report_id}")
    a.page.wait_for_selector("#screen-report")
    b.edit(report_id, notes="base\nfrom B")
    b.sync()
    a.page.evaluate("() => window.bazres.sync()")  # in the background, the form stays open
    for _ in range(300):
        if "from B" in a.page.evaluate("id => window.bazres.store.reports.get(id).then(r => r.data.notes)",
                                       report_id):
            break
        a.page.wait_for_timeout(100)
    assert a.page.input_value("#notes") == "base", "the open form is not redrawn under the inspector"
    a.page.check("input[name=office_state][value=open_not_serving]", force=True)
    a.page.click("#save")
    a.page.wait_for_selector("#screen-outbox")
    a.sync()
    record = {r["id"]: r for r in server_reports(mandated, "inspector-18b")}[report_id]
    assert record["office_state"] == "open_not_serving"
    assert "from B" in record["notes"], record["notes"]


def test_a_proxy_answer_without_upload_offset_is_not_taken_for_the_server(phones, photo_files, mandated):
    phone = phones("inspector-21a")
    phone.login()
    office = phone.offices()[0]
    phone.offline()
    phone.capture(office, "open", photo=photo_files[4])
    faked = []

    def captive_portal_once(route):
        if route.request.method == "PATCH" and not faked:
            faked.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body="<html>Login to the hotel Wi-Fi</html>")
        else:
            route.continue_()

    phone.page.route("**/api/v1/attachments/*", captive_portal_once)
    phone.offline(False)
    phone.sync()
    assert faked
    report = server_reports(mandated, "inspector-21a")[0]
    assert report["photos_pending"] == [], "the photo went up after the portal's page"
    sha = report["photos"][0]["sha256"]
    blob = mandated.request("GET", f"/api/v1/attachments/{sha}", user="inspector-21a")
    assert hashlib.sha256(blob.body).hexdigest() == sha


def reassign(live, username: str, district: int) -> None:
    """Move an inspector to another district, as an admin's change to their assignment does."""
    import sqlalchemy as sa

    engine = sa.create_engine(live.database_url)
    try:
        with engine.begin() as connection:
            user_id = connection.execute(sa.text("SELECT id FROM users WHERE username = :u"), {"u": username}).scalar()
            connection.execute(sa.text("UPDATE user_districts SET district = :d WHERE user_id = :id"),
                               {"d": district, "id": user_id})
    finally:
        engine.dispose()


def test_a_reset_pull_cut_off_and_finished_later_drops_the_old_district(phones, mandated):
    """The inspector moves district; the pull that resets the phone's scope breaks after its
    first page; finished later, it still drops the old district's offices, and never the
    report the phone has not sent."""
    phone = phones("inspector-22b")
    phone.login()
    assert {o["district"] for o in phone.offices()} == {22}
    office = phone.offices()[0]
    phone.page.route("**/api/v1/sync/push", lambda route: route.fulfill(
        status=400, content_type="application/problem+json", body='{"title": "held back by the test"}'))
    phone.capture(office, "closed", notes="not sent yet")
    reassign(mandated, "inspector-22b", 21)
    try:
        pages = []

        def break_after_first_page(route):
            pages.append(route.request.post_data)
            if len(pages) == 2:
                route.fulfill(status=400, content_type="application/problem+json", body='{"title": "cut"}')
            else:
                route.continue_()

        phone.page.route("**/api/v1/sync/pull", break_after_first_page)
        cut = phone.page.evaluate("() => window.bazres.pull({limit: 20}).then(() => 'whole', () => 'cut')")
        assert cut == "cut"
        assert 22 in {o["district"] for o in phone.offices()}, "half a reset drops nothing yet"
        phone.page.unroute("**/api/v1/sync/pull")
        phone.page.evaluate("() => window.bazres.pull({limit: 20})")
        assert {o["district"] for o in phone.offices()} == {21}
        districts = phone.page.evaluate("() => window.bazres.store.records.all('districts')")
        assert [d["number"] for d in districts] == [21]
        assert phone.outbox_count() == 1
        notes = phone.page.evaluate("() => window.bazres.store.reports.all().then(rs => rs.map(r => r.data.notes))")
        assert notes == ["not sent yet"]
    finally:
        reassign(mandated, "inspector-22b", 22)
