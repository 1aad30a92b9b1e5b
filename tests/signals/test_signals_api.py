"""`GET /api/v1/signals` (DESIGN §10b) on both databases: what each person may see, what a day
the feed never reported says, a suspicion worked out again as activity arrives and as field
reports confirm or clear it (the history keeping every step), and visit lists putting a
suspected office first with the reason. The day is 1405-01-07, a Friday the Nowruz rule
mandates 08:00–16:30; the history is the two weeks before, one transaction a minute."""

import uuid
from datetime import time, timedelta

import pytest

from app.database import utcnow
from app.hours import calendar
from tests.signals.month import send
from tests.support import assert_problem

DAY = calendar.parse_date("1405-01-07")
SILENT = "TEH-06-01"


def at(day, minute: int) -> str:
    return calendar.tehran_instant(day, time(minute // 60, minute % 60, 20)).isoformat()


def signals(client, user="head-6", **query):
    answer = client.as_(user).get("/api/v1/signals", query_string={"date": "1405-01-07", **query})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.get_json()["items"]


def of(items, code):
    return next(item for item in items if item["office_code"] == code)


@pytest.fixture
def district_6(client) -> list[str]:
    return [o["code"] for o in client.as_("admin").get("/api/v1/offices?district=6&page_size=100").get_json()]


@pytest.fixture
def history(client, district_6):
    """Two weeks of every office of district 6 serving one transaction a minute, 08:00–16:00."""
    send(client, [{"office_code": code, "at": at(DAY - timedelta(days=d), m)}
                  for d in range(1, 15) for code in district_6 for m in range(480, 960)], source="history")
    return district_6


def day_of(codes, silent=(), skip=range(0)) -> list[dict]:
    """The day's activity: every office serving each minute of the window, but `silent`
    offices from 09:00 to 12:00, and none at all in the `skip` minutes."""
    return [{"office_code": code, "at": at(DAY, m)} for code in codes for m in range(480, 990)
            if m not in skip and not (code in silent and 540 <= m < 720)]


def push_report(client, code, state, minute, user="inspector-6a", metres=0):
    office = next(o for o in client.as_("admin").get("/api/v1/offices?district=6&page_size=100").get_json()
                  if o["code"] == code)
    lon, lat = office["location"]["coordinates"]
    report_id = str(uuid.uuid4())
    op = {"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create", "id": report_id,
          "base_version": None, "changed_at": at(DAY, minute),
          "data": {"office_id": office["id"], "observed_at": at(DAY, minute), "office_state": state,
                   "location": {"type": "Point", "coordinates": [lon, lat + metres / 111_320]}, "accuracy_m": 10.0}}
    answer = client.as_(user).post("/api/v1/sync/push", json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                              "sent_at": utcnow().isoformat(), "ops": [op]})
    assert answer.status_code == 200 and answer.get_json()["results"][0]["status"] == "applied", answer.get_json()
    return report_id


def test_an_office_silent_for_three_hours_is_suspected_with_its_span_and_a_persian_reason(client, history):
    send(client, day_of(history, silent={SILENT}))
    items = signals(client)
    assert items[0]["office_code"] == SILENT, "suspicions come first"
    item = of(items, SILENT)
    assert item["state"] == "suspected_closure" and item["reason_code"] == "silent_beyond_expectation"
    assert (item["silent_from"], item["silent_to"]) == ("1405-01-07T09:00:00+03:30".replace("1405-01-07", "2026-03-27"),
                                                        "2026-03-27T12:00:00+03:30")
    assert item["window"] == "08:00–16:30" and item["date"] == "1405-01-07"
    assert item["confidence"] >= 0.999 and item["observed"] == 510 - 180 and item["expected"] > 300
    assert "۰۹:۰۰" in item["reason"] and "۱۲:۰۰" in item["reason"] and "بازدید میدانی" in item["reason"]
    assert [event["kind"] for event in item["history"]] == ["suspected_closure"]
    others = [i for i in items if i["office_code"] != SILENT]
    assert others and {i["state"] for i in others} == {"normal"}


def test_each_person_sees_their_districts_only(client, history):
    send(client, day_of(history, silent={SILENT}))
    assert {i["district"] for i in signals(client, "inspector-6a")} == {6}
    assert {i["district"] for i in signals(client, "committee1")} == set(range(1, 23))
    assert {i["district"] for i in signals(client, "committee1", district=6)} == {6}
    assert_problem(client.as_("head-6").get("/api/v1/signals?date=1405-01-07&district=7"), 403)


@pytest.mark.parametrize(("query", "field"), [({"date": "1405-13-01"}, "date"), ({"date": "yesterday"}, "date"),
                                              ({"district": "23"}, "district"), ({"district": "six"}, "district")])
def test_a_bad_query_is_refused_naming_the_field(client, query, field):
    assert_problem(client.as_("head-6").get("/api/v1/signals", query_string={"date": "1405-01-07", **query}),
                   422, field)


def test_a_day_the_feed_never_reported_is_no_data_not_a_suspicion(client, history):
    items = signals(client)
    assert items and {(i["state"], i["reason_code"]) for i in items} == {("no_data", "feed_silent")}
    # A holiday has no mandated window: no signal at all.
    assert signals(client, date="1405-01-02") == []


def test_an_office_the_feed_never_covered_is_no_data(client, history, district_6):
    codes = client.as_("admin").get("/api/v1/offices?district=7&page_size=100").get_json()
    send(client, day_of(history))
    item = of(signals(client, "head-7", district=7), codes[0]["code"])
    assert item["state"] == "no_data" and item["reason_code"] == "no_history"


def test_late_activity_clears_the_suspicion_and_the_history_keeps_both(client, history):
    send(client, day_of(history, silent={SILENT}))
    assert of(signals(client), SILENT)["state"] == "suspected_closure"
    # The platform's delayed batch: the office served all along.
    send(client, [{"office_code": SILENT, "at": at(DAY, m)} for m in range(540, 720)], key="late")
    item = of(signals(client), SILENT)
    assert item["state"] == "normal" and item["silent_from"] is None and item["observed"] == 510
    assert [event["kind"] for event in item["history"]] == ["suspected_closure", "normal"]


def test_a_platform_outage_suspects_nobody(client, history):
    send(client, day_of(history, skip=range(600, 720)))  # 10:00-12:00: every office silent
    items = signals(client)
    assert {i["state"] for i in items if i["district"] == 6} == {"outage"}
    assert "قطعی سامانه" in of(items, SILENT)["reason"]


def test_a_field_report_confirms_or_clears_and_the_history_keeps_both(client, history, district_6):
    send(client, day_of(history, silent={SILENT, district_6[1]}))
    closed = push_report(client, SILENT, "closed", 600)
    push_report(client, district_6[1], "open", 615)
    items = signals(client)
    confirmed, cleared = of(items, SILENT), of(items, district_6[1])
    assert confirmed["state"] == "suspected_closure" and confirmed["field"]["status"] == "confirmed"
    assert confirmed["field"]["report_id"] == closed and confirmed["field"]["office_state"] == "closed"
    assert "تأیید" in confirmed["reason"]
    assert cleared["field"]["status"] == "cleared" and "باز یافت" in cleared["reason"]
    assert [e["kind"] for e in confirmed["history"]] == ["suspected_closure", "confirmed"]
    # Another inspector sees the word but not whose report it was, in the field or the history.
    seen = of(signals(client, "inspector-6b"), SILENT)
    assert seen["field"]["report_id"] is None and "report_id" not in seen["history"][1]["detail"]
    # A suspicion is never a violation: the committee's queue holds only the field report's case.
    cases = client.as_("committee1").get("/api/v1/violations?date=1405-01-07").get_json()
    offices = {case["office"]["code"] if isinstance(case.get("office"), dict) else case.get("office_code")
               for case in cases}
    assert district_6[1] not in offices


def test_the_visit_list_puts_the_suspected_office_first_with_the_reason(client, history):
    send(client, day_of(history, silent={SILENT}))
    plan = client.as_("inspector-6a").get("/api/v1/visit-list?date=1405-01-07&start=08:00")
    assert plan.status_code == 200, plan.get_json()
    stops = plan.get_json()["stops"]
    suspected = [s for s in stops if s["priority"] == "suspected_closure"]
    assert [s["office"]["code"] for s in suspected] == [SILENT] and stops[0] == suspected[0], "driven to first"
    assert stops[1]["travel_m"] > 0 and len(stops) == len({s["office"]["code"] for s in stops})
    assert "no transaction on the platform 09:00–12:00" in suspected[0]["reason"]
    # Once a visit clears it, it is one more office to see.
    push_report(client, SILENT, "open", 800)
    again = client.as_("inspector-6a").get("/api/v1/visit-list?date=1405-01-07&start=08:00").get_json()
    assert not [s for s in again["stops"] if s["priority"] == "suspected_closure"]


def test_a_day_the_feed_has_reported_up_to_ten_is_judged_up_to_ten(client, history):
    send(client, [e for e in day_of(history, silent={SILENT}) if e["at"] < at(DAY, 600)])
    items = signals(client)
    assert {i["judged_until"] for i in items if i["district"] == 6} == {"2026-03-27T10:00:00+03:30"}
    assert of(items, SILENT)["state"] == "suspected_closure"
    assert of(items, SILENT)["silent_to"] == "2026-03-27T10:00:00+03:30"
    assert {i["state"] for i in items if i["district"] == 6 and i["office_code"] != SILENT} == {"normal"}


@pytest.mark.parametrize(("state", "minute", "field"), [
    ("open", 500, None),  # 08:20: open before the silence (09:00-12:00) says nothing of it
    ("open", 780, None),  # 13:00: open once the office reopened says nothing of the morning
    ("open", 725, "cleared"),  # 12:05: just after it, still speaks
    ("inaccessible", 600, None),  # could not tell: no word
    ("relocated", 600, None),
    ("closed", 1080, None),  # 18:00: after the window, no word on it
    ("closed", 500, None),  # 08:20, before the silence: opening late says nothing of the silence
    ("permanently_closed", 600, "confirmed"),
    ("open_not_serving", 600, "confirmed"),
])
def test_only_a_report_made_during_the_silence_speaks_to_it(client, history, state, minute, field):
    send(client, day_of(history, silent={SILENT}))
    push_report(client, SILENT, state, minute)
    item = of(signals(client), SILENT)
    assert item["state"] == "suspected_closure"
    assert (item["field"] or {}).get("status") == field


def test_an_open_report_far_from_the_office_does_not_clear(client, history):
    send(client, day_of(history, silent={SILENT}))
    push_report(client, SILENT, "open", 600, metres=900)
    assert of(signals(client), SILENT)["field"] is None


def test_flask_evaluate_signals_works_a_day_out_and_refuses_a_bad_date(app, client, history):
    send(client, day_of(history, silent={SILENT}))
    result = app.test_cli_runner().invoke(args=["evaluate-signals", "--date", "۱۴۰۵/۰۱/۰۷"])
    assert result.exit_code == 0 and "1405-01-07: " in result.output and "1 suspected" in result.output, result.output
    bad = app.test_cli_runner().invoke(args=["evaluate-signals", "--date", "1405-13-01"])
    assert bad.exit_code == 2 and "--date" in bad.output and "month 13" in bad.output


def test_a_mandated_afternoon_the_office_never_served_on_that_weekday_is_judged_by_its_other_days(client,
                                                                                                  district_6):
    """Thursday is ordinarily a half day (to 12:00), but Nowruz mandates 1405-01-06, a Thursday,
    to 16:30: the afternoon's rate comes from the office's other days, so an afternoon
    closure is seen."""
    thursday = calendar.parse_date("1405-01-06")
    send(client, [{"office_code": code, "at": at(thursday - timedelta(days=d), m)} for d in range(1, 15)
                  for code in district_6
                  for m in range(480, 720 if (thursday - timedelta(days=d)).weekday() == 5 else 960)],
         source="half-days")
    send(client, [{"office_code": code, "at": at(thursday, m)} for code in district_6 for m in range(480, 990)
                  if not (code == SILENT and m >= 780)])
    item = of(signals(client, date="1405-01-06"), SILENT)
    assert item["state"] == "suspected_closure" and item["silent_from"] == "2026-03-26T13:00:00+03:30"


@pytest.mark.parametrize(("closed_to", "state"), [(795, "normal"), (900, "suspected_closure")])
def test_a_break_the_office_takes_every_day_is_no_suspicion_but_a_longer_closure_is(client, district_6,
                                                                                    closed_to, state):
    """A busy office that stops 12:30-13:15 every day (prayer and lunch): silent then today too,
    it is `normal` (`habitual_silence`); silent 12:30-15:00, it is suspected."""
    def serving(day, code, until):
        return [{"office_code": code, "at": at(day, m)} for m in range(480, 990)
                if not (code == SILENT and 750 <= m < until)]
    send(client, [e for d in range(1, 15) for code in district_6 for e in serving(DAY - timedelta(days=d), code, 795)],
         source="breaks")
    send(client, [e for code in district_6 for e in serving(DAY, code, closed_to)])
    item = of(signals(client), SILENT)
    assert item["state"] == state
    if state == "normal":
        assert item["reason_code"] == "habitual_silence" and "نماز" in item["reason"]


def test_an_office_whose_source_went_quiet_is_judged_up_to_its_source_and_a_silent_source_says_nothing(
        client, history, district_6):
    """Two gateways: one covers three offices and stops at 10:00 (its batches lag, or it broke);
    its offices are judged up to 10:00 only, not suspected for the rest. A gateway that sends
    nothing all day leaves its offices `no_data`."""
    east, west, dark = district_6[:3], district_6[3:5], district_6[5:]
    send(client, [e for e in day_of(east) if e["at"] < at(DAY, 600)], source="gateway-east")
    send(client, day_of(west), source="gateway-west")
    send(client, [{"office_code": code, "at": at(DAY - timedelta(days=1), 600)} for code in dark],
         source="gateway-dark")  # yesterday: it covers them, but sends nothing today
    items = signals(client)
    for code in east:
        assert of(items, code)["state"] == "normal" and of(items, code)["judged_until"] == "2026-03-27T10:00:00+03:30"
    assert {of(items, code)["state"] for code in west} == {"normal"}
    for code in dark:
        assert (of(items, code)["state"], of(items, code)["reason_code"]) == ("no_data", "source_silent")
