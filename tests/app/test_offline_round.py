"""A whole round with the network cut (issue 14): log in and sync at the office, drive the
round offline, capture reports with photos, close and reopen the app offline, sync at the
end: the server has each report once, with its photo, judged by the rules."""

import hashlib
import io

from PIL import Image

from tests.app.phone import server_reports, tehran_today


def test_a_whole_round_offline(phones, photo_files, mandated):
    live = mandated
    phone = phones("inspector-3a")
    planned = []
    phone.page.on("request", lambda r: planned.append(r.url) if "/api/v1/visit-list" in r.url else None)
    phone.login()
    assert planned and "lat=35.700000" in planned[0] and "lon=51.400000" in planned[0], \
        "the day is planned from where the phone is"
    phone.shot("01-visit-list")
    # The planned stops come with their ETAs. Late in Tehran's day none fits before the rule's
    # window closes (23:59): the offices are then listed as not fitting today, with their facts.
    etas = [e.text_content() for e in phone.page.query_selector_all("#stops li.stop .stop-facts")]
    dropped = [e.text_content() for e in phone.page.query_selector_all(".stops.dropped li.stop .stop-facts")]
    assert etas or dropped, "the day's offices are listed"
    if tehran_today().hour < 23:  # hours before the window closes: the day's first stops fit
        assert etas, "stops are planned for the rest of the day"
    assert all("رسیدن" in facts for facts in etas), f"the stops come with ETAs: {etas}"
    assert all(dropped), f"the offices that do not fit today come with their facts: {dropped}"
    offices = phone.offices()
    assert offices and {o["district"] for o in offices} == {3}, "the phone holds its district's offices only"

    phone.offline()
    phone.reopen("#/visits")  # the service worker serves the app with no network
    assert phone.page.is_visible("#screen-visits li.stop"), "the last visit list is kept offline"
    assert phone.page.text_content("#net") == "بی‌اینترنت"
    phone.shot("02-visit-list-offline")
    phone.go("#/map")  # Leaflet and the district polygons, with no network
    # Drawn: its legend counts the offices (numbered markers only for stops that fit today).
    phone.page.wait_for_selector("#map-legend:has-text('دفتر')", timeout=30_000)
    assert phone.page.query_selector("#visit-map canvas"), "the districts and offices, drawn with no network"
    assert len(phone.page.query_selector_all("#visit-map .stop-icon")) == len(etas), "a numbered marker a stop"

    states = ["closed", "open", "open_not_serving"]
    for office, state, photo in zip(offices, states, photo_files):
        phone.capture(office, state, notes=f"بازدید {office['code']}", staff=0 if state == "closed" else 3,
                      photo=photo, screenshot=f"03-report-form-{state}")
    assert phone.outbox_count() == 3
    phone.go("#/visits")
    # Late in Tehran's day most stops no longer fit and move to the "does not fit today"
    # list; a visit shows on whichever list its office is in.
    phone.page.wait_for_selector("#screen-visits li.stop.visited")
    office_of = lambda link: link.get_attribute("href").rsplit("/", 1)[1]  # noqa: E731
    listed = {office_of(a) for a in phone.page.query_selector_all("#screen-visits li.stop a")}
    visited = {office_of(a) for a in phone.page.query_selector_all("#screen-visits li.stop.visited a")}
    reported = {o["id"] for o in offices[:3]} & listed
    assert reported and visited == reported, "the offices reported today show as visited, offline"

    phone.reopen("#/outbox")  # the tab closed and opened again, still offline
    states_shown = phone.outbox_states()
    assert len(states_shown) == 3 and set(states_shown.values()) == {"waiting"}, states_shown
    assert phone.outbox_count() == 3
    phone.shot("04-outbox-offline")

    phone.offline(False)
    phone.sync()
    phone.shot("05-outbox-synced")
    assert phone.outbox_count() == 0
    shown = phone.outbox_states()
    assert set(shown.values()) == {"sent"}, shown

    on_server = {r["id"]: r for r in server_reports(live, "inspector-3a")}
    assert set(on_server) == set(shown), "each report exactly once on the server"
    by_office = {r["office_id"]: r for r in on_server.values()}
    for office, state in zip(offices, states):
        report = by_office[office["id"]]
        assert report["office_state"] == state
        assert len(report["photos"]) == 1 and report["photos_pending"] == [], report
        sha = report["photos"][0]["sha256"]
        blob = live.request("GET", f"/api/v1/attachments/{sha}", user="inspector-3a")
        assert blob.status == 200 and hashlib.sha256(blob.body).hexdigest() == sha
        picture = Image.open(io.BytesIO(blob.body))
        assert picture.format == "JPEG" and max(picture.size) == 1600, "shrunk on the phone from 2400 × 1800"
        expected = ["closed_during_mandated_hours"] if state in ("closed", "open_not_serving") else []
        assert report["flags"] == expected, (state, report["flags"], report)
    # The app shows the server's judgement: the flag on the closed office's report.
    closed_id = by_office[offices[0]["id"]]["id"]
    item = phone.page.query_selector(f"#outbox-list li[data-report='{closed_id}']")
    assert "بسته در ساعت موظف" in item.text_content()
    assert not phone.errors, phone.errors
