"""The coverage map in Debian's Chromium: a district head sees their district, clicks an
office for its last visit, and changes the period; the committee sees the whole city; an
office suspected of closure by systemic monitoring is ringed, named in the legend, and its
popup says why."""

import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.hours import calendar
from app.models import (ActivityBatch, ActivityCount, ActivityHour, CaseEvent, Change, LedgerEntry, Report,
                        ReportVersion, Signal, SignalDay, SignalEvent, ViolationCase)
from app.services.coverage import today
from tests.browser.conftest import ARTIFACTS
from tests.coverage import suspicion
from tests.conftest import DEMO_PASSWORD
from tests.sync.helpers import envelope, op, report_data
from tests.violations.test_scenarios import at

FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def fa(text) -> str:
    return str(text).translate(FA)


@pytest.fixture
def district_11(app, tokens):
    """Office a found closed in hours on 1405-02-06 (a case), b open on 1405-03-05, c open on
    1405-03-09; committed for the live server, removed after."""
    http = app.test_client()
    auth = {"Authorization": f"Bearer {tokens['inspector-11a']}"}
    offices = http.get("/api/v1/offices?district=11&page_size=50", headers=auth).get_json()
    a, b, c = offices[:3]
    ops = [op(data=report_data(office, state=state, observed_at=at(day, "10:00")), changed_at=at(day, "10:00"))
           for office, day, state in [(a, "1405-02-06", "closed"), (b, "1405-03-05", "open"), (c, "1405-03-09", "open")]]
    results = http.post("/api/v1/sync/push", json=envelope(ops), headers=auth).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    yield offices
    with app.app_context():
        ids = [uuid.UUID(r["id"]) for r in results]
        cases = [uuid.UUID(r["record"]["violation_id"]) for r in results if r["record"]["violation_id"]]
        for statement in (sa.delete(CaseEvent).where(CaseEvent.case_id.in_(cases)),
                          sa.delete(ReportVersion).where(ReportVersion.report_id.in_(ids)),
                          sa.delete(LedgerEntry).where(LedgerEntry.entity_id.in_(ids)),
                          sa.delete(Change).where(Change.entity_id.in_([str(i) for i in ids])),
                          sa.delete(Report).where(Report.id.in_(ids)),
                          sa.delete(ViolationCase).where(ViolationCase.id.in_(cases))):
            db.session.execute(statement)
        db.session.commit()


@pytest.fixture
def suspected_12(app, tokens):
    """Four offices of district 12 serving on Friday 1405-01-07 and the eight Fridays before,
    the first silent from 08:00 to 12:00 on the day (tests/coverage/suspicion.py); committed
    for the live server, removed after with the signals worked out from it."""
    http = app.test_client()
    auth = {"Authorization": f"Bearer {tokens['head-12']}"}
    offices = http.get("/api/v1/offices?district=12&page_size=50", headers=auth).get_json()
    four = [o["code"] for o in offices[:4]]
    feed = {"Authorization": f"Bearer {tokens[suspicion.FEED]}"}
    suspicion.post_activity(lambda url, **kw: http.post(url, headers=feed, **kw), four, four[0], "map-page")
    yield offices
    with app.app_context():
        ids = [uuid.UUID(o["id"]) for o in offices[:4]]
        days = suspicion.days()
        for statement in (sa.delete(SignalEvent).where(SignalEvent.day.in_(days)),
                          sa.delete(Signal).where(Signal.day.in_(days)),
                          sa.delete(SignalDay).where(SignalDay.day.in_(days)),
                          sa.delete(ActivityCount).where(ActivityCount.office_id.in_(ids)),
                          sa.delete(ActivityHour).where(ActivityHour.office_id.in_(ids)),
                          sa.delete(ActivityBatch).where(ActivityBatch.source == suspicion.SOURCE)):
            db.session.execute(statement)
        db.session.commit()


def log_in(page, live_server, username):
    page.goto(live_server + "/map")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#coverage-offices tbody tr")


def show_period(page, first: str, last: str):
    page.fill("#from", fa(first))
    page.fill("#to", fa(last))
    page.click("#period button[type=submit]")
    expect(page.locator("#summary")).to_contain_text(fa(first.replace("-", "/")))


def figure(page, term: str) -> str:
    term = page.locator("#details-figures dt", has_text=re.compile(f"^{term}$"))
    return term.locator("xpath=following-sibling::dd[1]").inner_text()


def test_a_district_head_sees_their_district_clicks_an_office_and_changes_the_period(page, live_server, district_11):
    a, b, c = district_11[:3]
    log_in(page, live_server, "head-11")
    # The current Jalali month is picked at first.
    now = today()
    assert page.input_value("#from") == fa(f"{now.year}/{now.month:02d}/01")
    assert page.is_disabled("#district") and page.input_value("#district") == "11"
    expect(page.locator("path.district-shape")).to_have_count(1)
    expect(page.locator("path.office-marker")).to_have_count(len(district_11))
    expect(page.locator("#coverage-offices tbody tr")).to_have_count(len(district_11))

    show_period(page, "1405-02-01", "1405-02-31")
    assert figure(page, "دفاتر بازدیدشده") == fa(1) and figure(page, "پرونده‌های باز") == fa(1)
    assert f"{fa(1)} از {fa(len(district_11))} دفتر بازدید شد" in page.inner_text("#summary")
    expect(page.locator("path.office-marker.mark-case_open")).to_have_count(1)

    page.locator(f"path.office-marker[data-code='{a['code']}']").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert a["code"] in popup.inner_text() and "۱۴۰۵/۰۲/۰۶" in popup.inner_text()
    assert "بسته" in popup.inner_text()
    assert "۱۴۰۵/۰۲/۰۶" in figure(page, "آخرین بازدید")

    show_period(page, "1405-03-01", "1405-03-31")
    assert figure(page, "دفاتر بازدیدشده") == fa(2) and figure(page, "پرونده‌های باز") == fa(0)
    expect(page.locator("path.office-marker.mark-open")).to_have_count(2)
    expect(page.locator("path.office-marker.mark-case_open")).to_have_count(0)
    # The table: longest since a visit first (never visited on top), then the other way round.
    rows = page.locator("#coverage-offices tbody tr")
    assert rows.nth(rows.count() - 1).get_attribute("data-code") == c["code"]  # 22 days, the latest
    page.click("#sort-days")
    assert rows.first.get_attribute("data-code") == c["code"]
    assert rows.nth(1).get_attribute("data-code") == b["code"]
    assert rows.nth(2).get_attribute("data-code") == a["code"]  # its last visit, in Ordibehesht
    assert page.console_errors == []


def test_a_bad_date_is_shown_and_the_committee_sees_the_whole_city(page, live_server):
    log_in(page, live_server, "committee1")
    expect(page.locator("path.district-shape")).to_have_count(22)
    assert page.input_value("#district") == ""
    assert page.locator("#coverage-offices tbody tr").count() == page.locator("path.office-marker").count()
    page.locator("path.district-shape[data-district='11']").dispatch_event("click")
    expect(page.locator("#offices-title")).to_contain_text("۱۱")
    assert "منطقه ۱۱" in page.inner_text("#details-title")
    assert page.locator("#coverage-offices tbody tr").count() < page.locator("path.office-marker").count()
    page.fill("#from", "1405/13/01")
    page.click("#period button[type=submit]")
    page.wait_for_selector("#map-error:not([hidden])")
    assert "از تاریخ" in page.inner_text("#map-error")  # explained before asking the server
    page.select_option("#district", "11")
    page.fill("#from", calendar.format_date(today()))
    page.click("#period button[type=submit]")
    expect(page.locator("path.district-shape")).to_have_count(1)
    assert page.is_hidden("#map-error")
    assert page.console_errors == []


def test_an_empty_period_says_so_and_offers_the_month_of_the_latest_report(page, live_server, district_11):
    log_in(page, live_server, "head-11")  # on the current month, which has no report in district 11
    notice = page.locator("#no-reports")
    expect(notice).to_be_visible()
    assert "در این دوره هیچ گزارشی از منطقه ۱۱ ثبت نشده است" in notice.inner_text()
    assert "۱۴۰۵/۰۳/۰۹" in notice.inner_text()  # the latest report's day
    expect(page.locator("#latest-period")).to_have_text("نمایش خرداد ۱۴۰۵")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the notice, before it goes (the fixture keeps the after)
    page.screenshot(path=str(ARTIFACTS / "test_an_empty_period_says_so__the_notice.png"))
    page.click("#latest-period")
    expect(page.locator("#summary")).to_contain_text("از ۱۴۰۵/۰۳/۰۱ تا ۱۴۰۵/۰۳/۳۱")
    assert page.input_value("#from") == fa("1405/03/01") and page.input_value("#to") == fa("1405/03/31")
    assert figure(page, "دفاتر بازدیدشده") == fa(2)
    expect(notice).to_be_hidden()
    assert page.console_errors == []


def test_a_district_without_any_report_says_so_without_a_button(page, live_server):
    log_in(page, live_server, "committee1")
    page.select_option("#district", "21")
    expect(page.locator("#no-reports")).to_contain_text("هنوز هیچ گزارشی از منطقه ۲۱ ثبت نشده است")
    assert page.is_hidden("#latest-period")
    assert page.console_errors == []


def test_a_suspected_office_is_ringed_named_in_the_legend_and_its_popup_says_why(page, live_server, suspected_12):
    silent = suspected_12[0]
    log_in(page, live_server, "head-12")
    legend = page.locator("#legend .suspected-legend")
    expect(legend).to_have_text("مشکوک به تعطیلی (نظارت سیستمی)")
    expect(legend.locator(".swatch.ring")).to_be_visible()
    expect(page.locator("path.office-signal")).to_have_count(0)  # the current month: no activity

    show_period(page, "1405-01-01", "1405-01-31")
    ring = page.locator("path.office-signal")
    expect(ring).to_have_count(1)
    assert ring.get_attribute("data-code") == silent["code"]
    expect(page.locator("path.office-marker")).to_have_count(len(suspected_12))  # a ring, not a mark instead
    assert f"{fa(1)} دفتر مشکوک به تعطیلی (نظارت سیستمی)" in page.inner_text("#summary")
    row = page.locator(f"#coverage-offices tbody tr[data-code='{silent['code']}']")
    expect(row.locator(".swatch.suspected")).to_have_count(1)

    page.locator(f"path.office-marker[data-code='{silent['code']}']").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "مشکوک به تعطیلی" in text and "۱۴۰۵/۰۱/۰۷" in text
    assert "۰۸:۰۰ تا ۱۲:۰۰" in text  # the silent span
    assert "هیچ تراکنشی از این دفتر در سامانه ثبت نشد" in text  # the reason
    assert "۱۴۰۵/۰۱/۰۷" in figure(page, "سکوت در سامانه")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_a_suspected_office__the_popup.png"), full_page=True)

    show_period(page, "1405-01-08", "1405-01-31")  # the day left out: no ring, the legend stays
    expect(page.locator("path.office-signal")).to_have_count(0)
    expect(legend).to_be_visible()
    assert "مشکوک" not in page.inner_text("#summary")
    assert page.console_errors == []
