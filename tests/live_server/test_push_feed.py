"""A refused op in a push does not take the landed ops before it off the change feed: the
inspector's other devices, and everyone who pulls, still get them (a real server process:
there the savepoint of a refused op ends before its rollback is signalled, which the test
client's enclosing transaction hides; the feed rows of the ops before it were dropped)."""

import uuid

from tests.sync.helpers import envelope, op, report_data

INSPECTOR = "inspector-7b"


def _office(live, district: int) -> dict:
    answer = live.request("GET", f"/api/v1/offices?district={district}&page_size=1", user="committee1")
    assert answer.status == 200, answer.body
    return answer.json()[0]


def _pulled_report_ids(live) -> set[str]:
    ids, cursor = set(), None
    while True:
        answer = live.request("POST", "/api/v1/sync/pull", {"protocol": 1, "device_id": str(uuid.uuid4()),
                                                            "cursor": cursor, "limit": 1000}, user=INSPECTOR)
        assert answer.status == 200, answer.body
        page = answer.json()
        ids |= {r["id"] for r in page["changes"]["reports"]["upserted"]}
        cursor = page["cursor"]
        if not page["has_more"]:
            return ids


def test_landed_ops_around_a_refused_one_all_reach_the_feed(live):
    mine, foreign = _office(live, 7), _office(live, 3)
    ops = [op(data=report_data(mine)), op(data=report_data(foreign)), op(data=report_data(mine)),
           op(action="update", id_=str(uuid.uuid4()), base_version=1, data={"notes": "no such report"}),
           op(data=report_data(mine))]
    answer = live.request("POST", "/api/v1/sync/push", envelope(ops), user=INSPECTOR)
    assert answer.status == 200, answer.body
    assert [r["status"] for r in answer.json()["results"]] == ["applied", "rejected", "applied", "rejected",
                                                               "applied"]
    pulled = _pulled_report_ids(live)
    assert {ops[0]["id"], ops[2]["id"], ops[4]["id"]} <= pulled
    assert ops[1]["id"] not in pulled
