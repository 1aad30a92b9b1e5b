"""Issue 17's labelled month, through the database and the HTTP API, on both databases: four
weeks of history and four weeks judged for the offices of four districts, sent by the feed as
`POST /api/v1/activity`, read back as `GET /api/v1/signals`. Closures of 30 minutes to a
whole day, two quiet-but-open offices, an office the feed covers only from three days
before, a two-hour platform outage, an official holiday (Eid al-Adha, 1405-03-06), a holiday
declared at short notice and a closure rule published at short notice for one district. The
closures of an hour or more must be found with precision and recall ≥ 0.95; nothing is
suspected in the outage, on a holiday or under the closure rule."""

from datetime import timedelta

import pytest

from app.hours import calendar
from tests.signals import month

FIRST = calendar.parse_date("1405-02-11")  # a Friday: four weeks judged from here
DISTRICTS = (6, 7, 8, 9)


def signals(client, day, user="committee1", **query) -> list[dict]:
    answer = client.as_(user).get("/api/v1/signals", query_string={"date": calendar.format_date(day), **query})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.get_json()["items"]


@pytest.fixture
def codes(client) -> list[str]:
    listed = []
    for district in DISTRICTS:
        listed += [o["code"] for o in client.as_("admin").get(f"/api/v1/offices?district={district}&page_size=100")
                   .get_json()]
    return sorted(listed)


def test_the_labelled_month_finds_the_closures_and_suspects_nothing_in_outages_holidays_or_closures(client, codes):
    admin = client.as_("admin")
    # A holiday declared at short notice, and a closure rule for district 7 the evening before
    # its day: the offices serve nobody those days, and the hours engine mandates nothing.
    holiday, closure_day = FIRST + timedelta(days=9), FIRST + timedelta(days=16)
    assert admin.post("/api/v1/holidays", json={"date": calendar.format_date(holiday),
                                                "title": "تعطیلی اعلام‌شده"}).status_code == 201
    stretch = month.plan(client, codes, FIRST, 28, 28, seed=1405)
    closed_by_rule = {code for code in codes if code.startswith("TEH-07-")}
    for code in closed_by_rule:  # they keep the rule the server learns only later
        stretch.windows.pop((code, closure_day), None)
        stretch.closures.pop((code, closure_day), None)
    month.send(client, month.events(stretch, seed=1405))

    # Before the rule is published, district 7's silent day is the strongest suspicion ...
    before = {s["office_code"]: s for s in signals(client, closure_day, district=7)}
    assert before and all(s["state"] == "suspected_closure" for s in before.values())
    published = admin.post("/api/v1/hours-rules", json={
        "name": "تعطیلی اضطراری منطقه ۷", "scope": "district:7", "kind": "closed",
        "date_from": calendar.format_date(closure_day), "date_to": calendar.format_date(closure_day)})
    assert published.status_code == 201, published.get_json()
    # ... and once the hours change, the day is worked out again: no window, no suspicion.
    assert signals(client, closure_day, district=7) == []

    suspected, hits, wrong = set(), set(), []
    for day in stretch.judged:
        items = [s for s in signals(client, day) if s["office_code"] in set(codes)]
        for item in items:
            assert item["date"] == calendar.format_date(day) and item["window"].count(":") == 2
            key = (item["office_code"], day)
            if item["state"] != "suspected_closure":
                continue
            suspected.add(key)
            if stretch.outage and day == stretch.outage[0]:
                first, last = month.minute_of(item["silent_from"], day), month.minute_of(item["silent_to"], day)
                if first >= stretch.outage[1] - 15 and last <= stretch.outage[2] + 16:
                    wrong.append(("outage", key))
            closed = stretch.closures.get(key)
            first, last = month.minute_of(item["silent_from"], day), month.minute_of(item["silent_to"], day) - 1
            if closed and first <= closed[1] and last >= closed[0]:
                hits.add(key)
            assert 0.999 <= item["confidence"] <= 1 and item["observed"] >= 0 and item["expected"] > 0
            assert "هیچ تراکنشی" in item["reason"] and item["reason_code"] == "silent_beyond_expectation"
        if day in (holiday, calendar.parse_date("1405-03-06")):
            assert items == [], f"a holiday has no mandated window, so no signal: {day}"
    long_closures = {key for key, (a, b) in stretch.closures.items() if b - a + 1 >= 60 and key[1] in stretch.judged}
    precision = len(hits) / len(suspected)
    recall = len(hits & long_closures) / len(long_closures)
    assert len(long_closures) >= 12
    assert wrong == []
    assert precision >= 0.95 and recall >= 0.95, (precision, recall, sorted(long_closures - hits),
                                                  sorted(suspected - hits))
    assert not {key for key in suspected if key[0] in (codes[0], codes[1])}, "quiet offices are never suspected"
    outage_items = [s for s in signals(client, stretch.outage[0]) if s["office_code"] in set(codes)]
    assert any(s["state"] == "outage" for s in outage_items)
