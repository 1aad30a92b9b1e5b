"""Every screen of the app at 360 × 740: installable (Chromium's own check), no serious or
critical accessibility violation (axe-core), a screenshot of each kept in
.test-results/screenshots/app/; and what must never silently lose work: a private window
with no IndexedDB, a connection the OS closed, an expired token, logging out or clearing
with reports unsent (issue 14)."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.app.phone import CHROMIUM, CHROMIUM_ARGS, PHONE_OPTIONS, server_reports

AXE = Axe()
SERIOUS = ("serious", "critical")


def accessibility_problems(page) -> list[str]:
    results = AXE.run(page, options={"resultTypes": ["violations"],
                                     "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa",
                                                                          "best-practice"]}})
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in SERIOUS]


def test_every_screen_is_installable_accessible_and_pictured(phones, browser, tmp_path):
    # A profile on disk, as a phone's browser has: Chromium never offers to install an app
    # from an incognito profile (Playwright's usual contexts are).
    phone = phones("inspector-13a", persistent=browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **PHONE_OPTIONS))
    phone.open()
    phone.page.wait_for_selector("#login-form")
    seen = {"login": accessibility_problems(phone.page)}
    phone.shot("screen-login")
    phone.login()

    cdp = phone.context.new_cdp_session(phone.page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest.get("errors"), manifest.get("errors")

    office = phone.offices()[0]
    # Late in Tehran's day no stop fits before the rule's window closes: the visits screen then
    # lists the offices as not fitting today, and the map numbers none; each is ready all the same.
    screens = [("visits", "#/visits", "#screen-visits li"), ("map", "#/map", "#map-legend:has-text('دفتر')"),
               ("office", f"#/office/{office['id']}", "#office-hours"),
               ("report", f"#/report/new/{office['id']}", "#gps:has-text('دقت')"),
               ("outbox", "#/outbox", "#storage")]
    for name, hash_, ready in screens:
        phone.go(hash_)
        phone.page.wait_for_selector(ready, timeout=30_000)
        seen[name] = accessibility_problems(phone.page)
        phone.shot(f"screen-{name}")
    assert {name: problems for name, problems in seen.items() if problems} == {}


def test_the_office_card_works_out_todays_hours_as_the_server_does(phones, mandated):
    phone = phones("inspector-13b")
    phone.login()
    for office in phone.offices()[:3]:
        phone.go(f"#/office/{office['id']}")
        phone.page.wait_for_selector("#office-hours")
        shown = phone.page.query_selector("#office-hours")
        today = phone.page.evaluate("() => window.bazres.today()")
        server = mandated.request("GET", f"/api/v1/offices/{office['id']}/mandated-hours?date={today}",
                                  user="inspector-13b")
        assert server.status == 200, server.body
        hours = server.json()
        assert shown.get_attribute("data-windows") == " ".join(f"{w['start']}–{w['end']}" for w in hours["windows"])
        decided = hours["decided_by"] or {"kind": "none"}
        assert shown.get_attribute("data-basis") == decided["kind"], (decided, shown.text_content())
        if decided["kind"] == "rule":
            assert decided["name"] in shown.text_content()


def test_a_window_with_no_indexeddb_says_offline_work_is_impossible(phones):
    phone = phones("inspector-14a")
    phone.context.add_init_script("Object.defineProperty(window, 'indexedDB', {value: undefined});")
    phone.page.goto(f"{phone.url}/app/")
    phone.page.wait_for_selector("#no-storage")
    assert "بی‌اینترنت" in phone.page.text_content("#no-storage h2")
    assert phone.page.is_hidden("#tabs")
    phone.shot("screen-no-storage")


def test_a_connection_the_os_closed_is_reopened_for_the_next_save(phones, mandated):
    phone = phones("inspector-14a")
    phone.login()
    office = phone.offices()[0]
    phone.offline()
    phone.page.evaluate("() => window.bazres.store.closeForTest()")  # as Android does under memory pressure
    phone.capture(office, "open", notes="saved after the connection was closed")
    assert phone.outbox_count() == 1
    phone.offline(False)
    phone.sync()
    assert len(server_reports(mandated, "inspector-14a")) == 1


def test_an_expired_token_asks_for_the_password_and_keeps_the_outbox(phones, mandated):
    phone = phones("inspector-15a")
    phone.login()
    office = phone.offices()[0]
    phone.offline()
    phone.capture(office, "closed", notes="token expired meanwhile")
    token = phone.page.evaluate("() => window.bazres.store.meta.get('session').then(s => s.token)")
    revoked = mandated.request("DELETE", "/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status == 204
    phone.go("#/outbox")
    phone.offline(False)  # back online, the app syncs by itself, and the server says 401
    phone.page.wait_for_selector("#auth[open] #again-password", timeout=30_000)
    phone.shot("screen-password-again")
    assert phone.outbox_count() == 1, "the outbox is kept while the password is asked"
    assert phone.page.input_value("#again-username") == "inspector-15a"
    phone.page.fill("#again-password", "bazres-demo")
    phone.page.evaluate("() => { delete document.body.dataset.sync; }")
    phone.page.click("#auth button[type=submit]")
    phone.page.wait_for_selector("body[data-sync='done']", state="attached", timeout=60_000)
    assert phone.outbox_count() == 0
    assert [r["notes"] for r in server_reports(mandated, "inspector-15a")] == ["token expired meanwhile"]


@pytest.mark.parametrize("button", ["logout", "clear"])
def test_leaving_with_reports_unsent_warns_first(phones, button):
    phone = phones("inspector-16a")
    phone.login()
    office = phone.offices()[0]
    phone.offline()
    phone.capture(office, "open")
    phone.go("#/outbox")
    phone.page.click(f"#{button}")
    phone.page.wait_for_selector("#ask[open]")
    assert "ارسال نشده" in phone.page.text_content("#ask-text")
    phone.shot(f"screen-warn-{button}")
    phone.page.click("#ask-no")
    assert phone.outbox_count() == 1, "answering no keeps everything"
    assert phone.page.is_visible("#screen-outbox")
    if button == "logout":
        phone.page.click("#logout")
        phone.page.click("#ask-yes")
        phone.page.wait_for_selector("#login-form")
        assert phone.outbox_count() == 1, "logging out keeps the unsent reports on the phone"


def test_another_inspector_cannot_log_in_over_unsent_reports(phones, mandated):
    phone = phones("inspector-17a")
    phone.login()
    office = phone.offices()[0]
    phone.offline()
    phone.capture(office, "open", notes="17a's report")
    phone.go("#/outbox")
    phone.page.click("#logout")
    phone.page.click("#ask-yes")
    phone.offline(False)
    phone.page.wait_for_selector("#login-form")
    phone.page.fill("#username", "inspector-17b")
    phone.page.fill("#password", "bazres-demo")
    phone.page.click("#login-form button[type=submit]")
    phone.page.wait_for_selector("#login-form .error:not([hidden])")
    assert "inspector-17a" in phone.page.text_content("#login-form .error")
    assert phone.outbox_count() == 1
    phone.page.fill("#username", "inspector-17a")
    phone.page.click("#login-form button[type=submit]")
    phone.page.wait_for_selector("#screen-visits", timeout=60_000)
    assert phone.outbox_count() == 0, "the first sync after logging in sent it"
    assert [r["notes"] for r in server_reports(mandated, "inspector-17a")] == ["17a's report"]
    assert server_reports(mandated, "inspector-17b") == []


def test_the_outbox_shows_what_needs_the_inspector_and_the_newest_sent(phones):
    """Weeks of rounds come back with every pull: the outbox lists every report not yet
    settled, the 50 newest sent ones, and says how many older ones it leaves out."""
    phone = phones("inspector-16b")
    phone.login()
    office = phone.offices()[0]
    phone.offline()
    phone.capture(office, "open", notes="waiting")
    phone.page.evaluate("""office => window.bazres.store.db().then(async (db) => {
      const tx = db.transaction("reports", "readwrite");
      for (let i = 0; i < 60; i += 1) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
        await tx.store.put({ id, version: 1, server: null, data: { office_id: office, office_state: "open",
          observed_at: `2026-0${1 + Math.floor(i / 28)}-${String(1 + (i % 28)).padStart(2, "0")}T10:00:00+03:30`,
          photos: [] } });
      }
      await tx.done;
      await window.bazres.route();
    })""", office["id"])
    states = phone.outbox_states()
    assert list(states.values()).count("waiting") == 1 and list(states.values()).count("sent") == 50
    assert "۱۰ گزارش قدیمی" in phone.page.text_content("#outbox-list")
