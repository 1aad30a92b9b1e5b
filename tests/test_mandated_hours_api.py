"""Mandated hours through the API: the question, rules published at short notice, holidays.

The seed gives the fixture rules (fixtures/hours_rules.json): Sat–Wed 08:00–16:00,
Thursday 08:00–12:00, Nowruz 1405 (5–9 Farvardin, 08:00–16:30, published last), and the
official holidays 1403–1405.
"""

import csv
from pathlib import Path

import pytest

from app.services.violations import reevaluate_open_flags
from tests.support import assert_problem

HOLIDAYS_CSV = Path(__file__).resolve().parents[1] / "fixtures/holidays/iran_official_holidays_1403_1405.csv"


@pytest.fixture
def offices(client):
    """A standard office and the permit hub of district 6, by category."""
    listed = client.as_("admin").get("/api/v1/offices?district=6").get_json()
    return {o["category"]: o for o in listed}


def hours(client, office, user="head-6", **query):
    return client.as_(user).get(f"/api/v1/offices/{office['id']}/mandated-hours", query_string=query)


def windows(body):
    return [(w["start"], w["end"]) for w in body["windows"]]


def publish(client, **rule):
    response = client.as_("admin").post("/api/v1/hours-rules", json=rule)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_nowruz_hours_beat_the_thursday_half_day_and_say_why(client, offices):
    body = hours(client, offices["standard"], date="1405-01-06").get_json()
    assert body["weekday"] == "thu" and body["must_open"]
    assert windows(body) == [("08:00", "16:30")]
    assert body["decided_by"]["name"] == "ساعات کاری نوروز ۱۴۰۵"
    assert [r["name"] for r in body["overruled"]] == ["پنجشنبه‌ها نیمه‌وقت"]
    assert "08:00–16:30" in body["reason"]


def test_an_official_holiday_closes_the_day(client, offices):
    body = hours(client, offices["standard"], date="1405-01-01").get_json()
    assert not body["must_open"] and body["windows"] == []
    assert body["decided_by"]["kind"] == "holiday"
    assert "آغاز نوروز" in body["decided_by"]["titles"]


def test_friday_outside_nowruz_has_no_mandated_hours(client, offices):
    body = hours(client, offices["standard"], date="1405-01-14").get_json()
    assert body["weekday"] == "fri" and not body["must_open"] and body["decided_by"] is None


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-03-25T07:59:59+03:30", False),
    ("2026-03-25T08:00:00+03:30", True),
    ("2026-03-25T16:29:59+03:30", True),
    ("2026-03-25T16:30:00+03:30", False),
    ("2026-03-25T12:59:59+00:00", True),  # 16:29:59 in Tehran
])
def test_at_an_instant_the_window_is_start_inclusive_end_exclusive(client, offices, at, expected):
    body = hours(client, offices["standard"], at=at).get_json()
    assert body["date"] == "1405-01-05"
    assert body["must_be_open_at"] is expected
    assert (body["window_at"] is not None) is expected


def test_date_and_instant_that_disagree_are_refused(client, offices):
    assert_problem(hours(client, offices["standard"], date="1405-01-06", at="2026-03-25T10:00:00+03:30"), 422, "at")


@pytest.mark.parametrize(("date", "why"), [
    ("1405-13-01", "no month 13"), ("1404-12-30", "not a leap year"), ("1405-07-31", "30 days"), ("soon", "YYYY"),
])
def test_impossible_dates_get_a_422_that_says_why(client, offices, date, why):
    body = assert_problem(hours(client, offices["standard"], date=date), 422, "date")
    assert why in body["errors"]["date"][0]


def test_leap_day_and_any_digits_are_accepted(client, offices):
    assert hours(client, offices["standard"], date="1403-12-30").status_code == 200
    for text in ("۱۴۰۵/۰۱/۰۶", "١٤٠٥/١/٦", "1405/1/6"):
        assert hours(client, offices["standard"], date=text).get_json()["date"] == "1405-01-06"


def test_a_date_or_instant_is_required(client, offices):
    assert_problem(hours(client, offices["standard"]), 422, "date")


def test_a_district_day_lists_every_office_of_the_district(client):
    response = client.as_("head-6").get("/api/v1/mandated-hours", query_string={"date": "1405-01-05"})
    body = response.get_json()
    all_in_6 = client.as_("head-6").get("/api/v1/offices").get_json()
    assert sorted(o["office_id"] for o in body) == sorted(o["id"] for o in all_in_6)
    assert all(windows(o) == [("08:00", "16:30")] for o in body)
    assert_problem(client.as_("head-6").get("/api/v1/mandated-hours?date=1405-01-05&district=5"), 403)


def test_a_short_notice_closure_with_an_exempt_category(client, offices):
    """Energy-saving closure of district 6 announced the night before; permit hubs exempt."""
    publish(client, name="تعطیلی اضطراری منطقه ۶", scope="district:6", date_from="1405-02-01",
            date_to="1405-02-01", kind="closed", exempt_categories=["permit_hub"])
    closed = hours(client, offices["standard"], date="1405-02-01").get_json()
    assert not closed["must_open"] and closed["decided_by"]["scope"] == "district:6"
    hub = hours(client, offices["permit_hub"], date="1405-02-01").get_json()
    assert windows(hub) == [("08:00", "16:00")] and hub["decided_by"]["scope"] == "city"
    other = client.as_("admin").get("/api/v1/offices?district=7&page_size=1").get_json()[0]
    assert hours(client, other, user="admin", date="1405-02-01").get_json()["must_open"]


def test_office_rule_beats_district_rule_beats_city(client, offices):
    office = offices["standard"]
    publish(client, name="district 6 late", scope="district:6", date_from="01-01", date_to="12-30",
            kind="open", windows=[{"start": "10:00", "end": "18:00"}])
    assert windows(hours(client, office, date="1405-02-05").get_json()) == [("10:00", "18:00")]
    publish(client, name="this office short", scope=f"office:{office['id']}", date_from="01-01", date_to="12-30",
            kind="open", windows=[{"start": "۹:۰۰", "end": "١٢:٠٠"}])
    assert windows(hours(client, office, date="1405-02-05").get_json()) == [("09:00", "12:00")]


def test_a_later_closure_beats_the_regular_schedule_at_the_same_scope(client, offices):
    publish(client, name="city closed 1405-02-06", scope="city", date_from="1405-02-06", date_to="1405-02-06",
            kind="closed")
    body = hours(client, offices["standard"], date="1405-02-06").get_json()
    assert not body["must_open"] and body["decided_by"]["name"] == "city closed 1405-02-06"


@pytest.mark.parametrize(("rule", "field"), [
    ({"windows": [{"start": "25:00", "end": "26:00"}]}, "windows.0.start"),
    ({"windows": [{"start": "16:30", "end": "08:00"}]}, "windows"),
    ({"windows": [{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "14:00"}]}, "windows"),
    ({"windows": []}, "windows"),
    ({"kind": "closed"}, "windows"),
    ({"scope": "district:23"}, "scope"),
    ({"scope": "office:00000000-0000-0000-0000-000000000000"}, "scope"),
    ({"scope": "category:bakery"}, "scope"),
    ({"scope": "province"}, "scope"),
    ({"exempt_categories": ["bakery"]}, "exempt_categories"),
    ({"date_from": "1405-02-10", "date_to": "1405-02-01"}, "date_to"),
    ({"date_from": "1404-12-30", "date_to": "1405-01-01"}, "date_from"),
    ({"weekdays": ["someday"]}, "weekdays.0"),
    ({"colour": "red"}, "colour"),
])
def test_bad_rules_are_refused_naming_the_field(client, rule, field):
    good = {"name": "test", "scope": "city", "date_from": "1405-02-01", "date_to": "1405-02-03", "kind": "open",
            "windows": [{"start": "08:00", "end": "12:00"}]}
    before = client.as_("admin").get("/api/v1/hours-rules").get_json()
    assert_problem(client.as_("admin").post("/api/v1/hours-rules", json=good | rule), 422, field)
    assert client.as_("admin").get("/api/v1/hours-rules").get_json() == before


def test_changing_a_rule_needs_the_current_version(client, offices):
    rule = publish(client, name="d6 Saturday", scope="district:6", date_from="1405-02-05", date_to="1405-02-05",
                   kind="open", windows=[{"start": "09:00", "end": "13:00"}])
    admin = client.as_("admin")
    changed = admin.request("PATCH", f"/api/v1/hours-rules/{rule['id']}",
                            json={"version": 1, "windows": [{"start": "09:00", "end": "15:00"}]})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    assert windows(hours(client, offices["standard"], date="1405-02-05").get_json()) == [("09:00", "15:00")]
    stale = admin.request("PATCH", f"/api/v1/hours-rules/{rule['id']}", json={"version": 1, "name": "late"})
    body = assert_problem(stale, 409)
    assert body["current"]["version"] == 2 and body["current"]["name"] == "d6 Saturday"
    invalid = admin.request("PATCH", f"/api/v1/hours-rules/{rule['id']}", json={"version": 2, "kind": "closed"})
    assert_problem(invalid, 422, "windows")
    assert admin.get(f"/api/v1/hours-rules/{rule['id']}").get_json()["version"] == 2


def test_a_withdrawn_rule_no_longer_decides_but_stays_on_record(client, offices):
    rule = publish(client, name="closed 1405-02-05", scope="city", date_from="1405-02-05", date_to="1405-02-05",
                   kind="closed")
    assert not hours(client, offices["standard"], date="1405-02-05").get_json()["must_open"]
    admin = client.as_("admin")
    assert_problem(admin.delete(f"/api/v1/hours-rules/{rule['id']}?version=7"), 409)
    withdrawn = admin.delete(f"/api/v1/hours-rules/{rule['id']}?version=1").get_json()
    assert withdrawn["withdrawn"] and withdrawn["version"] == 2
    assert hours(client, offices["standard"], date="1405-02-05").get_json()["must_open"]
    ids = lambda q: [r["id"] for r in admin.get(f"/api/v1/hours-rules{q}").get_json()]  # noqa: E731
    assert rule["id"] not in ids("") and rule["id"] in ids("?include_withdrawn=true")


def test_a_stale_version_and_a_withdrawn_rule_have_codes_of_their_own(client, offices):
    rule = publish(client, name="d6 Sunday", scope="district:6", date_from="1405-02-06", date_to="1405-02-06",
                   kind="closed")
    admin = client.as_("admin")
    stale = admin.request("PATCH", f"/api/v1/hours-rules/{rule['id']}", json={"version": 2, "name": "late"})
    assert assert_problem(stale, 409)["type"] == "/problems/stale-version"
    assert assert_problem(admin.delete(f"/api/v1/hours-rules/{rule['id']}?version=2"), 409)["type"] \
        == "/problems/stale-version"
    assert admin.delete(f"/api/v1/hours-rules/{rule['id']}?version=1").status_code == 200
    withdrawn = admin.request("PATCH", f"/api/v1/hours-rules/{rule['id']}", json={"version": 2, "name": "again"})
    body = assert_problem(withdrawn, 409)
    assert body["type"] == "/problems/rule-withdrawn" and body["current"]["withdrawn"]


def test_holidays_of_1405_are_the_official_calendar(client):
    with HOLIDAYS_CSV.open(encoding="utf-8") as handle:
        expected = sorted((r["jalali"].replace("/", "-"), r["title"]) for r in csv.DictReader(handle)
                          if r["jalali_year"] == "1405")
    listed = client.as_("inspector-1a").get("/api/v1/holidays?year=1405&page_size=500").get_json()
    assert sorted((h["date"], h["title"]) for h in listed) == expected
    assert all(h["source"] == "official" and not h["cancelled"] for h in listed)


def test_admin_adds_and_cancels_holidays_and_offices_follow(client, offices):
    admin, office = client.as_("admin"), offices["standard"]
    assert hours(client, office, date="1405-02-12").get_json()["must_open"]  # a Saturday
    added = admin.post("/api/v1/holidays", json={"date": "۱۴۰۵/۰۲/۱۲", "title": "تعطیلی اعلام‌شده"})
    assert added.status_code == 201 and added.get_json()["date"] == "1405-02-12"
    assert not hours(client, office, date="1405-02-12").get_json()["must_open"]
    eid = admin.get("/api/v1/holidays?year=1405").get_json()
    eid = next(h for h in eid if h["title"] == "عید سعید قربان")  # 1405-03-06, a Wednesday
    assert not hours(client, office, date="1405-03-06").get_json()["must_open"]
    cancelled = admin.delete(f"/api/v1/holidays/{eid['id']}").get_json()
    assert cancelled["cancelled"]
    assert windows(hours(client, office, date="1405-03-06").get_json()) == [("08:00", "16:00")]
    assert_problem(admin.post("/api/v1/holidays", json={"date": "1404-12-30", "title": "x"}), 422, "date")


def test_every_change_is_logged_with_who_and_when_and_calls_the_reevaluation_hook(client):
    rule = publish(client, name="logged", scope="city", date_from="1405-02-01", date_to="1405-02-01", kind="closed")
    client.as_("admin").delete(f"/api/v1/hours-rules/{rule['id']}?version=1")
    log = client.as_("committee1").get(f"/api/v1/hours-changes?entity_id={rule['id']}").get_json()
    assert [c["action"] for c in log] == ["withdraw", "create"]
    admin_id = client.as_("admin").get("/api/v1/auth/me").get_json()["id"]
    assert all(c["user_id"] == admin_id and c["at"].endswith("+03:30") for c in log)
    assert log[1]["before"] is None and log[1]["after"]["name"] == "logged"
    assert log[0]["before"]["withdrawn"] is False and log[0]["after"]["withdrawn"] is True
    # No case is open here, so the hook re-judged nothing, and says so.
    assert all(c["reevaluated_flags"] == 0 for c in log)


def test_the_reevaluation_hook_rejudges_nothing_when_no_case_is_open(app_context):
    from app.models import HoursChange

    assert reevaluate_open_flags(HoursChange(entity="hours_rule", before=None, after=None)) == 0


def test_publication_times_are_kept_to_the_second_the_wire_carries(client, offices, app_context):
    """The later-published rule wins a tie of scope; a phone ordering rules from the wire
    (the inspector's app) sees times to the second, so the server keeps no finer ones."""
    import uuid

    from app.extensions import db
    from app.models import HoursRule

    rule = publish(client, name="to the second", scope="city", date_from="1405-02-01", date_to="1405-02-02",
                   kind="open", windows=[{"start": "08:00", "end": "12:00"}])
    row = db.session.get(HoursRule, uuid.UUID(rule["id"]))
    assert row.published_at.microsecond == 0
    changed = client.as_("admin").request("PATCH", f"/api/v1/hours-rules/{rule['id']}",
                                          json={"version": 1, "windows": [{"start": "08:00", "end": "13:00"}]})
    assert changed.status_code == 200, changed.get_json()
    db.session.expire_all()
    assert db.session.get(HoursRule, uuid.UUID(rule["id"])).published_at.microsecond == 0
    # Two published within one second are still ordered by when they came.
    first = publish(client, name="first", scope="city", date_from="1405-02-03", date_to="1405-02-03", kind="closed")
    second = publish(client, name="second", scope="city", date_from="1405-02-03", date_to="1405-02-03", kind="open",
                     windows=[{"start": "08:00", "end": "12:00"}])
    assert second["published_at"] > first["published_at"]
