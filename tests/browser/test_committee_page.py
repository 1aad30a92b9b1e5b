"""The committee page in Debian's Chromium: open a case, see its photo and map, decide it."""

import hashlib
import re
import struct
import uuid
import zlib

import pytest
from playwright.sync_api import expect
import sqlalchemy as sa

from app.extensions import db
from app.models import (ActivityBatch, ActivityCount, ActivityHour, Attachment, CaseEvent, Change, LedgerEntry, Report,
                        ReportVersion, Signal, SignalDay, SignalEvent, ViolationCase)
from tests.conftest import DEMO_PASSWORD
from tests.sync.helpers import envelope, op, report_data
from tests.violations import signals_scenario as scenario
from tests.violations.test_scenarios import at


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# What an inspector typed, hostile or not: it must show as text, never run or render.
NOTE = 'درِ دفتر <b>بسته</b> بود <script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">'


@pytest.fixture
def closed_office_case(app, tokens):
    """A case with one report and its photo, committed for the live server; removed after."""
    http = app.test_client()
    auth = {"Authorization": f"Bearer {tokens['inspector-14a']}"}
    office = http.get("/api/v1/offices?district=14&page_size=1", headers=auth).get_json()[0]
    photo = png(40, 30, (200, 60, 40))
    sha = hashlib.sha256(photo).hexdigest()
    assert http.put(f"/api/v1/attachments/{sha}", data=photo,
                    headers=auth | {"Content-Type": "image/png"}).status_code in (200, 201)
    when = at("1405-01-06", "10:15")
    data = report_data(office, state="closed", observed_at=when, notes=NOTE,
                       photos=[{"sha256": sha, "taken_at": when.isoformat(), "caption": "در بسته"}])
    result = http.post("/api/v1/sync/push", json=envelope([op(data=data, changed_at=when)]),
                       headers=auth).get_json()["results"][0]
    yield office, result["record"]
    with app.app_context():
        rid, cid = uuid.UUID(result["id"]), uuid.UUID(result["record"]["violation_id"])
        for statement in (sa.delete(CaseEvent).where(CaseEvent.case_id == cid),
                          sa.delete(ReportVersion).where(ReportVersion.report_id == rid),
                          sa.delete(LedgerEntry).where(LedgerEntry.entity_id == rid),
                          sa.delete(Change).where(Change.entity_id == str(rid)),
                          sa.delete(Report).where(Report.id == rid),
                          sa.delete(ViolationCase).where(ViolationCase.id == cid),
                          sa.delete(Attachment).where(Attachment.sha256 == sha)):
            db.session.execute(statement)
        db.session.commit()


def test_a_committee_member_reviews_and_decides_a_case(page, live_server, closed_office_case):
    office, record = closed_office_case
    page.goto(live_server + "/committee")
    page.fill("#username", "committee1")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login button[type=submit]")
    row = page.locator(f"#queue tr[data-id='{record['violation_id']}']")
    row.wait_for()
    assert office["code"] in row.inner_text() and "باز" in row.inner_text()
    row.click()
    page.wait_for_selector("#case:not([hidden])")
    assert office["code"] in page.inner_text("#case-title")
    assert "ساعات کاری نوروز ۱۴۰۵" in page.inner_text("#case-rule")
    report = page.inner_text("#case-reports")
    assert NOTE in report  # typed text stays text
    assert page.locator("#case-reports script, #case-reports b, #case-reports img[src='x']").count() == 0
    assert page.evaluate("window.pwned") is None
    assert "۱۴۰۵/۰۱/۰۶" in report  # Jalali times
    expect(page.locator("#case-reports img")).to_have_js_property("naturalWidth", 40)
    expect(page.locator("#case-map circle.phone")).to_have_count(1)
    page.select_option("#d-status", "under_review")
    page.click("#decision button[type=submit]")
    expect(page.locator("#case-title")).to_contain_text("در حال بررسی")
    expect(page.locator(f"#queue tr[data-id='{record['violation_id']}']")).to_have_count(0)
    page.select_option("#d-status", "confirmed")
    page.select_option("#d-penalty", "fine")
    page.fill("#d-note", "بار اول؛ جریمه طبق آیین‌نامه")
    page.click("#decision button[type=submit]")
    expect(page.locator("#case-title")).to_contain_text("تأیید شده")
    assert page.is_hidden("#decision")
    assert "بار اول" in page.inner_text("#case-events")
    assert page.console_errors == []


def open_case(page, live_server, username: str, case_id: str) -> None:
    page.goto(live_server + "/committee")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login button[type=submit]")
    page.locator(f"#queue tr[data-id='{case_id}']").click()
    page.wait_for_selector("#case:not([hidden])")


def test_a_district_head_sees_the_case_but_cannot_decide(page, live_server, closed_office_case):
    _, record = closed_office_case
    open_case(page, live_server, "head-14", record["violation_id"])
    assert page.is_hidden("#decision")
    assert page.is_hidden("#case-signals")  # the feed sent nothing that day: no context to show
    assert page.console_errors == []


LATIN = re.compile(r"[A-Za-z_]{2,}")


def machine_words(text: str) -> list[str]:
    """English words in a Persian text, other than GPS."""
    return [word for word in LATIN.findall(text) if word != "GPS"]


def test_a_cases_reasons_and_history_read_in_persian(page, live_server, closed_office_case):
    _, record = closed_office_case
    open_case(page, live_server, "committee1", record["violation_id"])
    reasons = page.inner_text("#case-reasons")
    assert "دفتر «بسته» یافت شد، در ساعتی که باید باز می‌بود" in reasons
    assert "باز از ۰۸:۰۰ تا ۱۶:۳۰ به حکم «ساعات کاری نوروز ۱۴۰۵» (همه شهر)" in reasons
    assert "شواهد معتبر است: گوشی ۰ متر از دفتر، دقت GPS ۱۵ متر، زمان از ساعت گوشی" in reasons
    assert machine_words(reasons) == [], reasons  # not "found closed while mandated open…"
    page.select_option("#d-status", "under_review")
    page.click("#decision button[type=submit]")
    expect(page.locator("#case-title")).to_contain_text("در حال بررسی")
    page.select_option("#d-status", "confirmed")  # without a penalty: refused, and said in Persian
    page.click("#decision button[type=submit]")
    expect(page.locator("#decision-error")).to_contain_text("جریمه")
    assert machine_words(page.inner_text("#decision-error")) == []
    page.select_option("#d-penalty", "warning")
    page.click("#decision button[type=submit]")
    expect(page.locator("#case-events")).to_contain_text("تصمیم: تأیید شده، تذکر")
    events = page.inner_text("#case-events")
    assert "گشایش پرونده: دفتر «بسته» یافت شد" in events and machine_words(events) == [], events
    # A code this page does not know yet shows the API's English words, not nothing.
    assert page.evaluate("findingText({code: 'some_new_code', params: {}, text: 'in English'})") == "in English"
    assert [e for e in page.console_errors if "status of 422" not in e] == []  # the refused decision


def _remove_case(report_id: str, case_id: str) -> None:
    rid, cid = uuid.UUID(report_id), uuid.UUID(case_id)
    for statement in (sa.delete(CaseEvent).where(CaseEvent.case_id == cid),
                      sa.delete(ReportVersion).where(ReportVersion.report_id == rid),
                      sa.delete(LedgerEntry).where(LedgerEntry.entity_id == rid),
                      sa.delete(Change).where(Change.entity_id.in_([str(rid), str(cid)])),
                      sa.delete(Report).where(Report.id == rid),
                      sa.delete(ViolationCase).where(ViolationCase.id == cid)):
        db.session.execute(statement)


@pytest.fixture
def suspected_office_case(app, tokens):
    """An office of district 15 the platform saw fall silent at 10:00 on 1405-01-07 while three
    others served, and an inspector's report finding it closed at 11:00: a case whose signal
    the report confirmed. Committed for the live server; the activity, the day's signals and
    the case removed after."""
    http = app.test_client()
    auth = lambda user: {"Authorization": f"Bearer {tokens[user]}"}  # noqa: E731
    offices = http.get("/api/v1/offices?district=15&page_size=4", headers=auth("inspector-15a")).get_json()
    codes = [o["code"] for o in offices]
    scenario.make_suspected(lambda url, body: http.post(url, json=body, headers=auth("feed-platform")).get_json(),
                            codes, codes[0])
    when = at(scenario.DAY, "11:00")
    data = report_data(offices[0], state="closed", observed_at=when)
    result = http.post("/api/v1/sync/push", json=envelope([op(data=data, changed_at=when)]),
                       headers=auth("inspector-15a")).get_json()["results"][0]
    yield offices[0], result["record"]
    with app.app_context():
        _remove_case(result["id"], result["record"]["violation_id"])
        ids = [uuid.UUID(o["id"]) for o in offices]
        days = scenario.touched_days()
        for statement in (sa.delete(ActivityCount).where(ActivityCount.office_id.in_(ids)),
                          sa.delete(ActivityHour).where(ActivityHour.office_id.in_(ids)),
                          sa.delete(ActivityBatch).where(ActivityBatch.source == scenario.SOURCE),
                          sa.delete(SignalEvent).where(SignalEvent.day.in_(days)),
                          sa.delete(Signal).where(Signal.day.in_(days)),
                          sa.delete(SignalDay).where(SignalDay.day.in_(days))):
            db.session.execute(statement)
        db.session.commit()


def test_a_case_shows_the_platforms_signal_beside_the_evidence_as_context_only(page, live_server,
                                                                              suspected_office_case):
    office, record = suspected_office_case
    open_case(page, live_server, "committee1", record["violation_id"])
    block = page.locator("#case-signals")
    expect(block).to_be_visible()
    expect(block.locator(".signal")).to_have_count(1)
    text = block.inner_text()
    assert "نظارت سیستمی — فقط برای اطلاع، مدرک تخلف نیست" in text
    assert "بازه موظف ۰۸:۰۰ تا ۱۶:۳۰ — احتمال تعطیلی" in text
    assert "از ۰۹:۵۶ تا ۱۶:۳۰" in text  # the silent span, Tehran's clock
    assert re.search("حدود [۰-۹٬]+ انتظار می‌رفت، ۱۲۰ ثبت شد", text), text  # the expected: the server's estimate
    assert "بیش از ۹۹٫۹۹٪" in text
    assert "بازدید میدانی تعطیلی را تأیید کرد" in text  # the server's reason
    assert "تأیید شد: دفتر «بسته» یافت شد" in text
    assert "تأیید با بازدید میدانی" in block.locator(".signal-history").inner_text()
    assert machine_words(text) == [], text
    # Set apart from the evidence: not among the reports, and the case's reasons are the report's.
    assert page.locator("#case-reports #case-signals").count() == 0
    assert "سامانه" not in page.inner_text("#case-reasons")
    assert page.console_errors == []
