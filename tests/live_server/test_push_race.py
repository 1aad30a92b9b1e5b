"""Two inspectors of different districts push reports under the same ids at the same moment
(a broken or hostile phone reusing ids): pushes of different districts do not wait for each
other (each takes its own districts' feed lock), so both pass the lookups before either
commits. Against a real server, each request on its own connection: on PostgreSQL the second
push's bulk insert, a COPY that returns before the server has stored its rows
(`bulk.overlapping`), fails on the reports' key once the first commits; its error must surface
inside the push, roll back its savepoint and send its ops one at a time (each refused: the id
is another's), not leak into the request's teardown. Every op answered, each report stored
once, by one of the two."""

import threading
import uuid

from app.services.sync_store import REPORTS_A_BATCH
from tests.conftest import LEG
from tests.sync.helpers import envelope, op, report_data

INSPECTORS = {"inspector-7b": 7, "inspector-6a": 6}
OPS = REPORTS_A_BATCH + 10  # more than one batch down the COPY (SqlStore.insert_reports)
FELL_BACK = "new reports failed; applying them one by one"


def _office(live, district: int) -> dict:
    answer = live.request("GET", f"/api/v1/offices?district={district}&page_size=1", user="committee1")
    assert answer.status == 200, answer.body
    return answer.json()[0]


def _at_once(live, bodies: dict) -> dict:
    answers, start = {}, threading.Barrier(len(bodies))

    def send(user: str) -> None:
        start.wait()
        answers[user] = live.request("POST", "/api/v1/sync/push", bodies[user], user=user)

    threads = [threading.Thread(target=send, args=(user,)) for user in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def _pulled_ids(live, user: str) -> list[str]:
    ids, cursor = [], None
    while True:
        answer = live.request("POST", "/api/v1/sync/pull", {"protocol": 1, "device_id": str(uuid.uuid4()),
                                                            "cursor": cursor, "limit": 1000}, user=user)
        assert answer.status == 200, answer.body
        page = answer.json()
        ids += [r["id"] for r in page["changes"]["reports"]["upserted"]]
        cursor = page["cursor"]
        if not page["has_more"]:
            return ids


def test_reports_pushed_under_the_same_ids_at_once_by_two_inspectors_land_once(live):
    offices = {user: _office(live, district) for user, district in INSPECTORS.items()}
    for user in INSPECTORS:
        live.token(user)  # (logged in before the pushes race)
    won = {user: set() for user in INSPECTORS}
    for _ in range(12):
        ids = [str(uuid.uuid4()) for _ in range(OPS)]
        bodies = {user: envelope([op(id_=id_, data=report_data(offices[user])) for id_ in ids])
                  for user in INSPECTORS}
        answers = _at_once(live, bodies)
        assert {user: a.status for user, a in answers.items()} == dict.fromkeys(INSPECTORS, 200), \
            {user: a.body[:300] for user, a in answers.items()}
        results = {user: a.json()["results"] for user, a in answers.items()}
        for index, id_ in enumerate(ids):
            statuses = sorted(results[user][index]["status"] for user in INSPECTORS)
            assert statuses == ["applied", "rejected"], (index, statuses)
            for user in INSPECTORS:
                result = results[user][index]
                if result["status"] == "applied":
                    won[user].add(id_)
                    assert result["id"] == id_ and result["version"] == 1
                else:
                    assert "id" in result["errors"]
        fell_back = live.log_path.read_text(errors="replace").count(FELL_BACK)
        if LEG != "postgis" or fell_back >= 2:
            break
    if LEG == "postgis":  # (the path under test was taken: a bulk insert failed on the other's keys)
        assert fell_back >= 1
    for user in INSPECTORS:  # each pulls exactly the reports it won, each once
        pulled = _pulled_ids(live, user)
        assert len(pulled) == len(set(pulled))
        assert won[user] == set(pulled) & (won["inspector-7b"] | won["inspector-6a"])
