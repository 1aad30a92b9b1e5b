"""Systemic monitoring on the coverage map (DESIGN §10b): an office the platform saw silent
for hours of its mandated window carries its suspicion (`signal`) on the map for a period
holding that day, beside what visits found, until a visit of that day finds it open.

The activity goes in as the feed's account posts it (tests/coverage/suspicion.py): four
offices of district 6 serving through Friday 1405-01-07 and the eight Fridays before, one of
them silent from 08:00 to 12:00 on the day.
"""

import pytest

from tests.coverage import suspicion
from tests.coverage.test_coverage_api import coverage, offices
from tests.violations.test_scenarios import at, report

PERIOD = "from=1405-01-01&to=1405-01-31"


@pytest.fixture
def feed(client) -> dict:
    """{"silent": the office silent on the day, "serving": the three others}; the activity posted."""
    four = client.as_("head-6").get("/api/v1/offices?district=6&page_size=4").get_json()
    silent, *serving = four
    hours = client.as_("head-6").get(f"/api/v1/offices/{silent['id']}/mandated-hours?date={suspicion.DAY}")
    assert [(w["start"], w["end"]) for w in hours.get_json()["windows"]] == [("08:00", "16:30")]  # Nowruz's rule
    suspicion.post_activity(client.as_(suspicion.FEED).post, [o["code"] for o in four], silent["code"])
    return {"silent": silent, "serving": serving}


def test_a_silent_office_shows_its_suspicion_for_a_period_with_that_day(client, feed):
    points = offices(coverage(client, PERIOD))
    silent = points[feed["silent"]["code"]]
    signal = silent["signal"]
    assert signal is not None, silent
    assert (signal["day"], signal["window"]) == (suspicion.DAY, "08:00–16:30")
    assert (signal["silent_from"], signal["silent_to"]) == ("2026-03-27T08:00:00+03:30", "2026-03-27T12:00:00+03:30")
    assert signal["observed"] == 27 and signal["expected"] > signal["observed"]  # one every ten minutes, usually
    assert signal["confidence"] >= 0.999 and signal["field_status"] is None
    assert "۰۸:۰۰" in signal["reason"] and "۱۲:۰۰" in signal["reason"] and "بازدید میدانی" in signal["reason"]
    # Its own mark, beside what visits found (none in the period): the map rings "not visited".
    assert silent["mark"] == "not_visited"
    # The others kept serving, and the offices the feed never covered are no suspicion either.
    assert [code for code, p in points.items() if p["signal"] is not None] == [feed["silent"]["code"]]
    # The same suspicion as systemic monitoring's own list of the day.
    listed = client.as_("head-6").get(f"/api/v1/signals?date={suspicion.DAY}&district=6").get_json()["items"]
    (item,) = [i for i in listed if i["state"] == "suspected_closure"]
    assert item["office_code"] == feed["silent"]["code"]
    assert {k: item[k] for k in ("window", "silent_from", "silent_to", "reason")} == {
        k: signal[k] for k in ("window", "silent_from", "silent_to", "reason")}


def test_a_period_without_that_day_shows_no_suspicion(client, feed):
    for period in ("from=1405-01-08&to=1405-01-31", "from=1404-12-01&to=1405-01-06"):
        points = offices(coverage(client, period))
        assert points[feed["silent"]["code"]]["signal"] is None, period
    one_day = offices(coverage(client, f"from={suspicion.DAY}&to={suspicion.DAY}"))
    assert one_day[feed["silent"]["code"]]["signal"]["day"] == suspicion.DAY


def test_a_visit_during_the_silence_that_found_it_open_clears_the_suspicion(client, feed):
    report(client, feed["silent"], at(suspicion.DAY, "11:00"), state="open")
    silent = offices(coverage(client, PERIOD))[feed["silent"]["code"]]
    assert (silent["signal"], silent["mark"], silent["last_state"]) == (None, "open", "open")


def test_a_visit_that_day_that_found_it_closed_confirms_it_and_both_show(client, feed):
    report(client, feed["silent"], at(suspicion.DAY, "10:00"), state="closed")
    silent = offices(coverage(client, PERIOD))[feed["silent"]["code"]]
    assert silent["mark"] == "case_open"  # closed in its mandated hours: a case
    assert silent["signal"]["field_status"] == "confirmed"
    assert "بازدید میدانی تعطیلی را تأیید کرد" in silent["signal"]["reason"]


def test_the_suspicion_shows_to_whoever_sees_the_district_and_only_there(client, feed):
    code = feed["silent"]["code"]
    city = offices(coverage(client, PERIOD, "committee1"))
    assert city[code]["signal"]["day"] == suspicion.DAY
    assert sum(p["signal"] is not None for p in city.values()) == 1
    seven = offices(coverage(client, PERIOD + "&district=7", "committee1"))
    assert all(p["signal"] is None for p in seven.values())


def test_the_openapi_document_describes_the_signal(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    signal = schemas["CoverageProperties"]["properties"]["signal"]
    assert "ring" in str(signal) and "CoverageSignal" in str(signal)
    assert set(schemas["CoverageSignal"]["properties"]) == {
        "day", "window", "silent_from", "silent_to", "expected", "observed", "confidence", "reason", "field_status"}
