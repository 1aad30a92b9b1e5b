"""Defects found by trying Bazres as a hostile or broken phone (issue 13), each as the phone
sees it, through the HTTP API: versions raised by the server, replays, deep and huge input."""

import json
import uuid
from datetime import datetime, timedelta

import pytest

from app.hours import calendar
from tests.support import assert_problem
from tests.sync.helpers import envelope, first_office, op, push, report_data

PUSH = "/api/v1/sync/push"


def at(day: str, clock: str) -> datetime:
    return calendar.tehran_instant(calendar.parse_date(day), calendar.parse_time(clock))


@pytest.fixture
def office(client):
    return first_office(client)


def closed_at_ten(office, day="1405-01-06", **extra) -> dict:
    return report_data(office, state="closed", observed_at=at(day, "10:00"), **extra)


# ---------------------------------------------------------------- 1. a version the server raised


def test_an_update_based_on_a_version_raised_by_re_judging_merges_and_the_push_lands_whole(client, office):
    (created,) = push(client, [op(data=closed_at_ten(office, "1405-01-15"), changed_at=at("1405-01-15", "10:00"))])
    assert created["record"]["flags"] == ["closed_during_mandated_hours"] and created["version"] == 1
    holiday = client.as_("admin").post("/api/v1/holidays", json={"date": "1405-01-15", "title": "تعطیل اعلام‌شده"})
    assert holiday.status_code == 201, holiday.get_json()
    pulled = client.as_("inspector-6a").get(f"/api/v1/violations/{created['record']['violation_id']}").get_json()
    (rejudged,) = [r for r in pulled["reports"] if r["id"] == created["id"]]
    assert rejudged["version"] == 2 and rejudged["flags"] == []
    assert kept_versions(created["id"]) == [1, 2]  # the version re-judging raised is a merge base

    update = op("update", id_=created["id"], base_version=2, data={"notes": "درب بسته بود"})
    new = op(data=report_data(office, state="open"))
    results = push(client, [update, new])
    assert [r["status"] for r in results] == ["applied", "applied"], results
    assert results[0]["record"]["notes"] == "درب بسته بود" and results[0]["version"] == 3
    assert kept_versions(created["id"]) == [1, 2, 3]


def kept_versions(report_id: str) -> list[int]:
    from app.extensions import db
    from app.models import ReportVersion

    return list(db.session.scalars(db.select(ReportVersion.version).where(
        ReportVersion.report_id == uuid.UUID(report_id)).order_by(ReportVersion.version)))


def test_an_op_that_fails_unexpectedly_is_quarantined_and_the_rest_land(client, office, monkeypatch):
    from sync import push as engine

    (created,) = push(client, [op(data=report_data(office))])

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the merge")

    monkeypatch.setattr(engine, "merge_update", broken)
    update = op("update", id_=created["id"], base_version=1, data={"notes": "x"})
    results = push(client, [update, op(data=report_data(office))])
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert "op" in results[0]["errors"]
    quarantined = client.as_("inspector-6a").get("/api/v1/sync/quarantine").get_json()
    assert quarantined[0]["op_id"] == update["op_id"]


# ---------------------------------------------------------------- 9. a reused op_id


def test_a_reused_op_id_for_another_report_is_rejected_and_the_report_is_not_lost(client, office):
    first = op(data=report_data(office, notes="اول"))
    push(client, [first])
    reused = op(data=report_data(office, notes="دوم"), op_id=first["op_id"])
    (result,) = push(client, [reused])
    assert result["status"] == "rejected" and "op_id" in result["errors"], result
    quarantined = client.as_("inspector-6a").get("/api/v1/sync/quarantine").get_json()
    assert quarantined[0]["payload"]["data"]["notes"] == "دوم"


def test_a_replay_with_a_changed_payload_is_rejected_but_an_exact_replay_is_a_duplicate(client, office):
    first = op(data=report_data(office, notes="اول"))
    (landed,) = push(client, [first])
    (again,) = push(client, [dict(first)])
    assert again["status"] == "duplicate" and again["id"] == landed["id"]
    (changed,) = push(client, [first | {"data": first["data"] | {"office_state": "closed"}}])
    assert changed["status"] == "rejected" and "op_id" in changed["errors"]
    (other_action,) = push(client, [op("update", id_=first["id"], base_version=1, data={"notes": "x"},
                                       op_id=first["op_id"])])
    assert other_action["status"] == "rejected"


def test_a_replay_in_the_same_push_of_another_report_under_one_op_id_is_rejected(client, office):
    shared = str(uuid.uuid4())
    results = push(client, [op(data=report_data(office), op_id=shared), op(data=report_data(office), op_id=shared)])
    assert [r["status"] for r in results] == ["applied", "rejected"]


# ---------------------------------------------------------------- 12. smaller ones


def test_a_refused_delete_tells_the_phone_why(client, office):
    (created,) = push(client, [op(data=report_data(office))])
    push(client, [op("update", id_=created["id"], base_version=1, data={"notes": "دیگر"})])
    refusal = op("delete", id_=created["id"], base_version=1)
    (refused,) = push(client, [refusal])
    assert refused["status"] == "merged"
    assert refused["reason"] == "Not deleted: it changed since you saw it."
    (replayed,) = push(client, [refusal])  # a lost answer: the replay says it again
    assert replayed["status"] == "duplicate" and replayed["reason"] == refused["reason"]


def test_a_create_may_repeat_its_id_in_data_but_not_another(client, office):
    report_id = str(uuid.uuid4())
    (same,) = push(client, [op(id_=report_id, data=report_data(office) | {"id": report_id})])
    assert same["status"] == "applied" and same["id"] == report_id
    (other,) = push(client, [op(data=report_data(office) | {"id": str(uuid.uuid4())})])
    assert other["status"] == "rejected" and "data.id" in other["errors"], other


def test_a_report_naming_a_round_not_of_its_office_and_day_lands_without_it(client, office):
    seven = first_office(client, "inspector-7a", 7)
    planned = client.as_("head-7").post("/api/v1/rounds", json={
        "date": "1405-01-06", "assignments": [{"inspector": "inspector-7a", "offices": [seven["id"]]}]})
    assert planned.status_code == 201, planned.get_json()
    round_7 = planned.get_json()["rounds"][0]["id"]
    (foreign,) = push(client, [op(data=closed_at_ten(office, round_id=round_7))])
    (own,) = push(client, [op(data=closed_at_ten(seven, round_id=round_7))], user="inspector-7a")
    assert own["status"] == "applied" and own["record"]["round_id"] == round_7
    (wrong_day,) = push(client, [op(data=closed_at_ten(seven, "1405-01-08", round_id=round_7))], user="inspector-7a")
    for landed in (foreign, wrong_day):  # the closure is evidence: it lands, its round does not
        assert landed["status"] == "merged" and landed["record"]["round_id"] is None, landed
        assert landed["record"]["flags"] == ["closed_during_mandated_hours"]
        (conflict,) = landed["conflicts"]
        assert conflict["field"] == "round_id" and conflict["policy"] == "round_refused"
        assert conflict["client"] == round_7


# ---------------------------------------------------------------- 8. deep input


def nested(depth: int) -> str:
    """JSON text of a list nested `depth` deep (too deep for Python's own encoder)."""
    return "[" * depth + "null" + "]" * depth


def raw_json(value: dict, **deep: int) -> str:
    """`value` as JSON text, with each key of `deep` set to a list nested that deep."""
    text = json.dumps(value | dict.fromkeys(deep, "@@"))
    for key, depth in deep.items():
        text = text.replace(f'"{key}": "@@"', f'"{key}": {nested(depth)}')
    return text


def test_a_login_with_deeply_nested_json_is_refused_naming_the_field(client):
    body = raw_json({"username": "x", "password": "y"}, device_id=1000)
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert_problem(response, 422, "device_id")


def test_a_deeply_nested_op_is_quarantined_and_the_op_before_it_lands(client, office):
    deep = op(data=report_data(office) | {"checklist": "@@"})
    body = raw_json(envelope([op(data=report_data(office)), deep])).replace(
        '"checklist": "@@"', '"checklist": {"a": ' + nested(600) + "}")
    response = client.as_("inspector-6a").post(PUSH, data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert any("deep" in m for m in results[1]["errors"]["data.checklist.a"]), results[1]
    quarantined = client.as_("inspector-6a").get("/api/v1/sync/quarantine").get_json()
    assert quarantined[0]["op_id"] == deep["op_id"]


@pytest.mark.parametrize("key", ["op_id", "id", "entity", "action"])
def test_an_op_whose_names_are_lists_a_thousand_deep_is_rejected_and_the_other_lands(client, office, key):
    """The parser takes 1,024 levels; Python's str() of a list 1,000 deep raises RecursionError.
    An op's id, op_id, entity or action so made is one bad op, not a 500 for the whole push."""
    good = op(data=report_data(office))
    bad = raw_json(op(data=report_data(office)) | {key: "@@"}, **{key: 1000})
    body = raw_json(envelope([good]) | {"ops": "@@"}).replace('"ops": "@@"', '"ops": [' + bad + ", "
                                                             + json.dumps(good) + "]")
    response = client.as_("inspector-6a").post(PUSH, data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    statuses = [r["status"] for r in response.get_json()["results"]]
    assert statuses == ["rejected", "applied"], statuses
    quarantined = client.as_("inspector-6a").get("/api/v1/sync/quarantine")
    assert quarantined.status_code == 200 and len(quarantined.get_json()) == 1


def test_an_op_with_nan_and_a_wide_integer_is_quarantined_as_sent_and_readable(client, office):
    """A body with an integer past 64 bits is read by the standard library, which lets NaN
    through: the op is rejected naming both fields, and the quarantine keeps it as valid JSON
    (NaN as its text, the integer exact) that its author can read (on PostgreSQL the `json`
    column refuses NaN: the whole push failed)."""
    bad = op(data=report_data(office) | {"staff_present": 10**25, "accuracy_m": float("nan")})
    body = json.dumps(envelope([bad, op(data=report_data(office))]))  # as a broken phone's encoder writes it
    assert "NaN" in body
    response = client.as_("inspector-6a").post(PUSH, data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rejected, applied = response.get_json()["results"]
    assert applied["status"] == "applied" and rejected["status"] == "rejected"
    assert {"data.accuracy_m", "data.staff_present"} <= set(rejected["errors"])
    quarantined = client.as_("inspector-6a").get("/api/v1/sync/quarantine")
    assert quarantined.status_code == 200, quarantined.get_data(as_text=True)[:300]
    (kept,) = json.loads(quarantined.get_data(), parse_constant=lambda name: pytest.fail(f"{name} in the answer"))
    assert kept["payload"]["data"]["accuracy_m"] == "NaN"
    assert kept["payload"]["data"]["staff_present"] == 10**25


def test_a_quarantine_page_lists_a_large_payload_by_its_length_and_gives_it_whole_alone(client, office):
    """Each rejected op keeps its payload, up to a push's 5 MB: a page of 500 such would be
    2.5 GB. A page lists a payload over 65,536 characters as null with its length; the op
    alone (`/sync/quarantine/{id}`) has it whole."""
    large = op(data=report_data(office, notes="ن" * 300_000))  # over the 4,000 a note may hold
    small = op(data=report_data(office) | {"office_state": "on_fire"})
    results = push(client, [large, small])
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    page = client.as_("inspector-6a").get("/api/v1/sync/quarantine?page_size=500")
    assert page.status_code == 200 and len(page.get_data()) < 20_000
    listed = {q["op_id"]: q for q in page.get_json()}
    assert listed[small["op_id"]]["payload"] == small
    assert listed[small["op_id"]]["payload_length"] == len(json.dumps(small, separators=(",", ":"),
                                                                      ensure_ascii=False))
    assert listed[large["op_id"]]["payload"] is None and listed[large["op_id"]]["payload_length"] > 300_000
    alone = client.as_("inspector-6a").get(f"/api/v1/sync/quarantine/{listed[large['op_id']]['id']}").get_json()
    assert alone["payload"] == large and alone["errors"] == listed[large["op_id"]]["errors"]


def test_json_deeper_than_the_parser_takes_is_a_problem_not_a_500(client):
    body = '{"protocol": 1, "x": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.as_("inspector-6a").post(PUSH, data=body, content_type="application/json")
    assert response.status_code in (400, 422) and response.mimetype == "application/problem+json"


# ---------------------------------------------------------------- 5. growth with the square of a push


def test_many_merges_of_long_notes_keep_the_limit_and_lose_no_text(client, office):
    (created,) = push(client, [op(data=report_data(office, notes="پایه"))])
    texts = [f"{i:03d}" + "ن" * 3996 for i in range(60)]
    ops = [op("update", id_=created["id"], base_version=1, data={"notes": text}) for text in texts]
    response = client.as_("inspector-6a").post(PUSH, json=envelope(ops))
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert all(r["status"] in ("applied", "merged") for r in results)
    assert max(len(r["record"]["notes"]) for r in results) <= 4000
    # Every text typed is in the answer (and stored): as the notes or as a conflict's client side.
    kept = {c["client"] for r in results for c in r["conflicts"]} | {results[0]["record"]["notes"]}
    assert set(texts) <= kept
    assert len(response.get_data()) < 3 * len(ops) * 4000 * 4  # linear in the push, not quadratic


def test_amendments_on_a_locked_report_are_bounded(client, office):
    (created,) = push(client, [op(data=closed_at_ten(office), changed_at=at("1405-01-06", "10:00"))])
    assert created["record"]["locked"]
    ops = [op("update", id_=created["id"], base_version=1, data={"notes": f"{i} " + "ی" * 3990}) for i in range(120)]
    response = client.as_("inspector-6a").post(PUSH, json=envelope(ops))
    assert len(response.get_data()) < 5 * 1024 * 1024
    results = response.get_json()["results"]
    merged = [r for r in results if r["status"] == "merged"]
    rejected = [r for r in results if r["status"] == "rejected"]
    assert merged and rejected and len(merged) + len(rejected) == 120
    assert len(merged[-1]["record"]["amendments"]) <= 50
    assert "amendments" in " ".join(m for r in rejected for ms in r["errors"].values() for m in ms)


def test_the_largest_legal_edit_of_a_locked_report_is_kept_as_amendments(client, office):
    """The bound is on what the report holds: one op as large as the limits allow (50
    captioned photos, 4,000 characters of notes: some 36,000 characters of amendments)
    lands whole, twice."""
    (created,) = push(client, [op(data=closed_at_ten(office), changed_at=at("1405-01-06", "10:00"))])
    assert created["record"]["locked"]
    for round_ in range(2):
        photos = [{"sha256": f"{round_:02x}{i:062x}", "taken_at": at("1405-01-06", "10:05").isoformat(),
                   "caption": "ع" * 500}
                  for i in range(50)]
        (result,) = push(client, [op("update", id_=created["id"], base_version=1,
                                     data={"notes": f"{round_} " + "ی" * 3990, "photos": photos})])
        assert result["status"] == "merged", result
        assert [c["policy"] for c in result["conflicts"]] == ["locked_amendment"] * 2
    assert len(result["record"]["amendments"]) == 4


# ---------------------------------------------------------------- 7. a GPS time hours away


def recent_working_day(client, office) -> str:
    """Three days ago (a GPS fix older than a week is not believed, whatever it says), made a
    day the office must open 08:00-16:00 by a rule of its own: whatever day the suite runs,
    holidays and Nowruz included."""
    day = calendar.format_date(calendar.tehran_day(datetime.now(calendar.TEHRAN)) - timedelta(days=3))
    rule = {"name": "working day for the GPS tests", "scope": f"office:{office['id']}", "date_from": day,
            "date_to": day, "kind": "open", "windows": [{"start": "08:00", "end": "16:00"}], "on_holidays": True}
    assert client.as_("admin").post("/api/v1/hours-rules", json=rule).status_code == 201
    return day


def test_a_gps_time_hours_away_does_not_override_a_correct_clock(client, office):
    day = recent_working_day(client, office)
    after_hours = closed_at_ten(office, day) | {"observed_at": at(day, "17:00").isoformat(),
                                                "gps_fix_at": at(day, "12:00").isoformat()}
    (late,) = push(client, [op(data=after_hours)])
    assert late["record"]["evidence_time_source"] == "device"
    assert late["record"]["evidence_time"] == at(day, "17:00").isoformat()
    assert late["record"]["flags"] == ["needs_verification"]

    early_fix = closed_at_ten(office, day) | {"gps_fix_at": at(day, "04:30").isoformat()}
    (hidden,) = push(client, [op(data=early_fix)])
    assert hidden["record"]["evidence_time_source"] == "device"
    assert hidden["record"]["flags"] == ["needs_verification"]


def test_a_gps_time_minutes_away_is_the_evidence_time(client, office):
    day = recent_working_day(client, office)
    near = closed_at_ten(office, day) | {"gps_fix_at": at(day, "10:03").isoformat()}
    (result,) = push(client, [op(data=near)])
    assert result["record"]["evidence_time_source"] == "gps"
    assert result["record"]["flags"] == ["closed_during_mandated_hours"]
    far_but_agreeing = closed_at_ten(office, day) | {"gps_fix_at": at(day, "13:00").isoformat()}
    (agreeing,) = push(client, [op(data=far_but_agreeing)])
    assert agreeing["record"]["evidence_time_source"] == "device"
    assert agreeing["record"]["flags"] == ["closed_during_mandated_hours"]


# ---------------------------------------------------------------- 6. new evidence reaches the committee


def case_of(client, record) -> dict:
    return client.as_("committee1").get(f"/api/v1/violations/{record['violation_id']}").get_json()


def decide(client, case, status, **extra):
    response = client.as_("committee1").post(f"/api/v1/violations/{case['id']}/decision",
                                             json={"version": case["version"], "status": status, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_sound_report_joining_a_dismissed_case_reopens_it(client, office):
    weak = closed_at_ten(office) | {"accuracy_m": 400.0}
    (first,) = push(client, [op(data=weak)])
    case = case_of(client, first["record"])
    case = decide(client, case, "under_review")
    case = decide(client, case, "dismissed", note="شواهد ضعیف")
    (second,) = push(client, [op(data=closed_at_ten(office))], user="inspector-6b")
    assert second["record"]["violation_id"] == case["id"]
    reopened = case_of(client, second["record"])
    assert reopened["status"] == "under_review" and reopened["version"] > case["version"]
    assert reopened["events"][-1]["action"] == "reopened"
    queue = client.as_("committee1").get("/api/v1/violations?status=under_review").get_json()
    assert case["id"] in {c["id"] for c in queue}


def test_a_decision_based_on_a_case_before_a_report_joined_it_is_a_conflict(client, office):
    (first,) = push(client, [op(data=closed_at_ten(office))])
    seen = case_of(client, first["record"])
    push(client, [op(data=closed_at_ten(office))], user="inspector-6b")
    response = client.as_("committee1").post(f"/api/v1/violations/{seen['id']}/decision",
                                             json={"version": seen["version"], "status": "under_review"})
    assert_problem(response, 409)


def test_a_holiday_withdrawn_then_cancelled_reopens_the_case_and_flags_the_report_again(client, office):
    (created,) = push(client, [op(data=closed_at_ten(office, "1405-01-16"))])
    holiday = client.as_("admin").post("/api/v1/holidays", json={"date": "1405-01-16", "title": "تعطیل"})
    withdrawn = case_of(client, created["record"])
    assert withdrawn["status"] == "withdrawn"
    assert client.as_("admin").delete(f"/api/v1/holidays/{holiday.get_json()['id']}").status_code in (200, 204)
    reopened = case_of(client, created["record"])
    assert reopened["status"] == "open" and reopened["events"][-1]["action"] == "reopened"
    (report,) = reopened["reports"]
    assert report["flags"] == ["closed_during_mandated_hours"] and report["locked"]


def test_a_closure_first_judged_on_a_holiday_opens_a_case_when_the_holiday_is_cancelled(client, office):
    holiday = client.as_("admin").post("/api/v1/holidays", json={"date": "1405-01-17", "title": "تعطیل"})
    (created,) = push(client, [op(data=closed_at_ten(office, "1405-01-17"))])
    assert created["record"]["flags"] == [] and created["record"]["violation_id"] is None
    client.as_("admin").delete(f"/api/v1/holidays/{holiday.get_json()['id']}")
    listed = client.as_("committee1").get("/api/v1/violations?date_from=1405-01-17&date_to=1405-01-17").get_json()
    (case,) = [c for c in listed if c["office_id"] == office["id"]]
    assert case["status"] == "open"


# ---------------------------------------------------------------- 9b. a correction's id


def test_a_correction_id_sent_again_is_a_duplicate_only_with_the_same_proposal(client, office):
    """A correction sent again under a new op_id is no second proposal; another proposal, or
    another inspector's, under an id already used is rejected and kept, never dropped as a
    duplicate (DESIGN §5.6)."""
    correction_id = str(uuid.uuid4())
    moved = {"office_id": office["id"], "kind": "moved", "location": office["location"], "note": "across the road"}

    def propose(data, user="inspector-6a"):
        (result,) = push(client, [op(entity="office_corrections", id_=correction_id, data=data)], user=user)
        return result

    assert propose(moved)["status"] == "applied"
    assert propose(moved)["status"] == "duplicate"
    other = propose({"office_id": office["id"], "kind": "closed_permanently", "note": "gone for good"})
    assert other["status"] == "rejected" and list(other["errors"]) == ["id"], other
    theirs = propose(moved | {"note": "mine"}, user="inspector-6b")
    assert theirs["status"] == "rejected" and "another inspector" in theirs["errors"]["id"][0], theirs
    assert [q["op_id"] for q in client.as_("inspector-6a").get("/api/v1/sync/quarantine").get_json()] == [
        other["op_id"]]
    assert [q["op_id"] for q in client.as_("inspector-6b").get("/api/v1/sync/quarantine").get_json()] == [
        theirs["op_id"]]


# ---------------------------------------------------------------- 10. names matched whole


def test_text_checked_by_a_pattern_is_matched_whole_not_up_to_a_trailing_newline(client, office):
    correction = op(entity="office_corrections", data={"office_id": office["id"], "kind": "phone",
                                                       "phone": "021 8888 1234\n"})
    photo = op(data=report_data(office) | {"photos": [{"sha256": "a" * 64 + "\n"}]})
    results = push(client, [correction, photo])
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "data.phone" in results[0]["errors"] and "data.photos.0.sha256" in results[1]["errors"]
    spec = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert '"^[0-9a-f]{64}$"' in spec and "\\\\A" not in spec  # ECMA 262 (JSON Schema's) has no \A or \Z
