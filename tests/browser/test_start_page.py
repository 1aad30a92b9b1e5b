"""The start page in a real browser: log in, see your districts, their offices, log out."""

from playwright.sync_api import expect

from tests.conftest import DEMO_PASSWORD


def log_in(page, base, username, password=DEMO_PASSWORD):
    page.goto(base + "/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login button[type=submit]")


def test_district_head_logs_in_and_sees_their_district_and_its_offices(page, live_server):
    log_in(page, live_server, "head-6")
    page.wait_for_selector("#session:not([hidden])")
    assert page.inner_text("#who") == "head-6"
    assert page.is_hidden("#login")
    rows = page.locator("#districts tbody tr")
    expect(rows).to_have_count(1)  # the districts arrive after the session shows
    expect(rows.first).to_contain_text("۶")
    page.wait_for_selector("#offices tbody tr")
    offices = page.locator("#offices tbody tr")
    assert offices.count() >= 2
    assert all("دفتر خدمات الکترونیک شهر" in offices.nth(i).inner_text() for i in range(offices.count()))
    assert page.console_errors == []


def test_an_inspector_is_pointed_to_the_app(page, live_server):
    page.goto(live_server + "/")
    assert page.get_attribute("#app-link", "href") == "/app/"
    log_in(page, live_server, "inspector-6a")
    page.wait_for_selector("#inspector-app:not([hidden]) a[href='/app/']")
    assert page.console_errors == []
    # Another role, in a tab of its own (the start page keeps its token per tab).
    other = page.context.new_page()
    log_in(other, live_server, "head-6")
    other.wait_for_selector("#session:not([hidden])")
    assert other.is_hidden("#inspector-app"), "other roles keep their pages"
    other.close()


def test_committee_sees_all_22_districts_and_can_open_one(page, live_server):
    log_in(page, live_server, "committee2")
    expect(page.locator("#districts tbody tr")).to_have_count(22)
    page.locator("#districts tbody tr").nth(11).click()  # district 12
    expect(page.locator("#offices-title")).to_contain_text("۱۲")
    cells = page.locator("#offices tbody tr td:nth-child(3)").all_inner_texts()
    assert cells and set(cells) == {"۱۲"}
    assert page.console_errors == []


def test_wrong_password_shows_the_error_and_no_data(page, live_server):
    log_in(page, live_server, "head-6", "wrong-password")
    page.wait_for_selector("#login-error:not([hidden])")
    assert "نام کاربری یا گذرواژه نادرست است" in page.inner_text("#login-error")
    assert page.is_hidden("#session")


def test_logout_forgets_the_token(page, live_server):
    log_in(page, live_server, "inspector-3a")
    page.wait_for_selector("#session:not([hidden])")
    page.click("#logout")
    page.wait_for_selector("#login:not([hidden])")
    page.reload()
    assert page.is_hidden("#session")
