"""The coverage API: counts against reports made in the test, Tehran days, scope, bad input.

Reports go in as phones send them (the sync push); the period is Ordibehesht 1405, which
the seeded data leaves empty, so every count below is made here.
"""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Office
from tests.support import assert_problem
from tests.sync.helpers import envelope, op
from tests.violations.test_scenarios import at, report

MONTH = "from=1405-02-01&to=1405-02-31"


def coverage(client, query=MONTH, user="head-6") -> dict:
    response = client.as_(user).get(f"/api/v1/coverage?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def districts(collection) -> dict[int, dict]:
    return {f["properties"]["number"]: f["properties"] for f in collection["features"]
            if f["properties"]["kind"] == "district"}


def offices(collection) -> dict[str, dict]:
    return {f["properties"]["code"]: f["properties"] for f in collection["features"]
            if f["properties"]["kind"] == "office"}


@pytest.fixture
def district_6(client) -> list[dict]:
    return client.as_("head-6").get("/api/v1/offices?district=6&page_size=50").get_json()


@pytest.fixture
def visited(client, district_6):
    """Office a: open on 02-05, closed in hours on 02-06 (a case); b: open on 02-10;
    c: found closed on 01-20, before the period; d: a report deleted since. One report in 7."""
    a, b, c, d = district_6[:4]
    report(client, a, at("1405-02-05", "10:00"), state="open")
    closed = report(client, a, at("1405-02-06", "10:00"), state="closed")
    report(client, b, at("1405-02-10", "09:00"), state="open", user="inspector-6b")
    report(client, c, at("1405-01-20", "11:00"), state="closed")
    gone = report(client, d, at("1405-02-12", "09:00"), state="open")
    (deleted,) = client.as_("inspector-6a").post("/api/v1/sync/push", json=envelope(
        [op("delete", id_=gone["id"], base_version=gone["version"])])).get_json()["results"]
    assert deleted["status"] == "applied"
    seven = client.as_("inspector-7a").get("/api/v1/offices?district=7&page_size=1").get_json()[0]
    report(client, seven, at("1405-02-07", "10:00"), state="closed", user="inspector-7a")
    assert closed["violation_id"]
    return {"a": a, "b": b, "c": c, "d": d, "case": closed["violation_id"]}


def test_district_totals_count_the_reports_of_the_period(client, district_6, visited):
    collection = coverage(client)
    assert collection["period"] == {"from": "1405-02-01", "to": "1405-02-31"}
    (six,) = districts(collection).values()
    assert six["number"] == 6 and six["offices"] == len(district_6)
    assert (six["offices_visited"], six["visits"], six["closures_found"], six["open_cases"]) == (2, 3, 1, 1)
    assert six["coverage_pct"] == round(100 * 2 / len(district_6), 1)
    assert collection["totals"] == {key: six[key] for key in collection["totals"]}


def test_each_office_shows_its_last_visit_what_it_found_and_its_open_case(client, visited):
    points = offices(coverage(client))
    a, b, c, d = (points[visited[k]["code"]] for k in "abcd")
    assert (a["visits"], a["closures_found"], a["open_case"], a["mark"]) == (2, 1, True, "case_open")
    assert (a["last_visit_date"], a["last_state"], a["days_since_last_visit"]) == ("1405-02-06", "closed", 25)
    assert a["last_visit_at"] == "2026-04-26T10:00:00+03:30"
    assert (b["visits"], b["last_state"], b["mark"], b["days_since_last_visit"]) == (1, "open", "open", 21)
    # Found closed before the period: not visited in it, but its last visit still shows.
    assert (c["visits"], c["mark"], c["last_visit_date"], c["last_state"]) == (0, "not_visited", "1405-01-20", "closed")
    assert c["days_since_last_visit"] == 11 + 31
    # A deleted report is no visit at all.
    assert (d["visits"], d["last_visit_at"], d["days_since_last_visit"], d["mark"]) == (0, None, None, "not_visited")


def test_a_decided_case_is_no_longer_open_and_the_office_shows_closed(client, visited):
    for status in ("under_review", "dismissed"):
        case = client.as_("committee1").get(f"/api/v1/violations/{visited['case']}").get_json()
        response = client.as_("committee1").post(f"/api/v1/violations/{visited['case']}/decision",
                                                  json={"version": case["version"], "status": status})
        assert response.status_code == 200
    collection = coverage(client)
    assert districts(collection)[6]["open_cases"] == 0
    a = offices(collection)[visited["a"]["code"]]
    assert (a["open_case"], a["mark"]) == (False, "closed")


def test_the_period_is_tehran_days_from_midnight_to_midnight(client, district_6):
    office = district_6[0]
    for day, clock in [("1405-01-31", "23:59"), ("1405-02-01", "00:00"), ("1405-02-31", "23:59"),
                       ("1405-03-01", "00:00")]:
        report(client, office, at(day, clock), state="open")
    assert offices(coverage(client))[office["code"]]["visits"] == 2
    assert offices(coverage(client, "from=1405-02-01&to=1405-02-01"))[office["code"]]["visits"] == 1
    assert offices(coverage(client, "from=1405-01-31&to=1405-01-31"))[office["code"]]["visits"] == 1


def test_the_last_visit_is_the_latest_up_to_the_end_of_the_period(client, district_6):
    office = district_6[0]
    report(client, office, at("1405-02-03", "10:00"), state="open")
    report(client, office, at("1405-03-03", "10:00"), state="closed")
    may = offices(coverage(client))[office["code"]]
    assert (may["last_visit_date"], may["last_state"]) == ("1405-02-03", "open")
    june = offices(coverage(client, "from=1405-03-01&to=1405-03-31"))[office["code"]]
    assert (june["last_visit_date"], june["last_state"], june["days_since_last_visit"]) == ("1405-03-03", "closed", 28)


def test_an_empty_period_has_every_count_at_zero(client, district_6):
    collection = coverage(client, "from=1400-05-01&to=1400-05-10")
    (six,) = districts(collection).values()
    assert (six["offices_visited"], six["visits"], six["closures_found"], six["open_cases"]) == (0, 0, 0, 0)
    assert six["coverage_pct"] == 0.0 and six["offices"] == len(district_6)
    points = offices(collection).values()
    assert len(points) == len(district_6)
    assert {(p["mark"], p["last_visit_at"], p["days_since_last_visit"]) for p in points} == {("not_visited", None, None)}


def test_an_office_closed_for_good_is_shown_but_not_counted(client, district_6, app_context):
    gone = district_6[0]
    db.session.execute(sa.update(Office).where(Office.code == gone["code"]).values(status="closed_permanently"))
    collection = coverage(client)
    assert districts(collection)[6]["offices"] == len(district_6) - 1
    assert offices(collection)[gone["code"]]["status"] == "closed_permanently"


def test_a_district_head_gets_their_district_and_the_committee_the_city(client):
    mine = coverage(client, MONTH, "head-6")
    assert list(districts(mine)) == [6] and {p["district"] for p in offices(mine).values()} == {6}
    assert mine["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert mine["features"][-1]["geometry"]["type"] == "Point"
    assert_problem(client.as_("head-6").get(f"/api/v1/coverage?{MONTH}&district=7"), 403)
    for user in ("committee1", "admin"):
        city = coverage(client, MONTH, user)
        assert list(districts(city)) == list(range(1, 23))
        listed = client.as_(user).get("/api/v1/districts").get_json()["features"]
        assert len(offices(city)) == sum(f["properties"]["office_count"] for f in listed)
        one = coverage(client, MONTH + "&district=9", user)
        assert list(districts(one)) == [9] and {p["district"] for p in offices(one).values()} == {9}
    assert_problem(client.as_("inspector-6a").get(f"/api/v1/coverage?{MONTH}"), 403)


def test_the_period_defaults_to_the_30_days_ending_today(client):
    from app.hours import calendar
    from app.services.coverage import today

    collection = coverage(client, "")
    assert collection["period"]["to"] == calendar.format_date(today()) == collection["as_of"]
    first, last = (calendar.parse_date(collection["period"][k]) for k in ("from", "to"))
    assert (last.togregorian() - first.togregorian()).days == 29


def test_dates_are_read_in_any_digits(client):
    persian = coverage(client, "from=۱۴۰۵/۰۲/۰۱&to=١٤٠٥/٠٢/٣١")
    assert persian["period"] == {"from": "1405-02-01", "to": "1405-02-31"}


@pytest.mark.parametrize(("query", "fields"), [
    ("from=1405-13-01&to=1405-02-31", {"from"}),
    ("from=1405-02-01&to=1404-12-30", {"to"}),  # 1404 is not a leap year
    ("from=yesterday", {"from"}),
    ("from=1405-02-10&to=1405-02-01", {"from", "to"}),
    (f"{MONTH}&district=23", {"district"}),
])
def test_bad_dates_and_districts_are_422_naming_the_field(client, query, fields):
    for path in ("/api/v1/coverage", "/api/v1/coverage.png"):
        body = assert_problem(client.as_("committee1").get(f"{path}?{query}"), 422)
        assert set(body["errors"]) == fields, body


def test_the_counting_is_done_by_the_database_in_a_fixed_number_of_queries(client, district_6, app_context):
    statements = []

    def count(*args):
        statements.append(args[2])

    report(client, district_6[0], at("1405-02-05", "10:00"), state="open")
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        coverage(client)
        one = len(statements)
        for office in district_6 * 3:
            report(client, office, at("1405-02-05", "11:00"), state="open")
        statements.clear()
        coverage(client)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert 0 < len(statements) == one


def test_the_answer_names_the_day_of_the_latest_report_in_its_districts(client, district_6):
    from app.hours import calendar
    from app.services.coverage import today

    empty = "from=1400-05-01&to=1400-05-10"
    assert coverage(client, empty)["latest_report_date"] is None  # no report in district 6 yet
    report(client, district_6[0], at("1405-02-05", "10:00"), state="open")
    report(client, district_6[1], at("1405-02-12", "09:00"), state="closed", user="inspector-6b")
    later = today() + timedelta(days=3)  # a phone's clock ahead: not a report to offer yet
    report(client, district_6[2], calendar.tehran_instant(later, time(10)), state="open")
    seven = client.as_("inspector-7a").get("/api/v1/offices?district=7&page_size=1").get_json()[0]
    report(client, seven, at("1405-03-07", "10:00"), state="open", user="inspector-7a")
    collection = coverage(client, empty)
    assert collection["totals"]["visits"] == 0 and collection["latest_report_date"] == "1405-02-12"
    assert coverage(client, MONTH)["latest_report_date"] == "1405-02-12"  # wherever the period lies
    assert coverage(client, empty, "committee1")["latest_report_date"] == "1405-03-07"
    assert coverage(client, empty + "&district=7", "committee1")["latest_report_date"] == "1405-03-07"
    assert coverage(client, empty + "&district=21", "committee1")["latest_report_date"] is None
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "latest report" in spec["CoverageFeatureCollection"]["properties"]["latest_report_date"]["description"]
