"""Hypothesis against POST /api/v1/sync/push (DESIGN §5.2, §5.3): whatever a phone sends,
the answer is 200 with a result per op, or a problem+json 400/413/415/422 naming the field,
never a 500; good ops land, bad ones are quarantined, and nothing stored is lost or changed
by ops that were refused."""

import json
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import QuarantinedOp, Report, ReportVersion
from app.services.report_versions import canonical_of
from tests.fuzz.strategies import (AWKWARD_NUMBERS, BAD_INSTANTS, BAD_UUIDS, EDGE_INSTANTS, INSTANTS, JSON, RECENT,
                                   report_data)
from tests.fuzz.support import fuzz
from tests.sync.helpers import envelope

PUSH = "/api/v1/sync/push"
ENVELOPE_ERRORS = {400, 413, 415, 422}
OP_STATUSES = {"applied", "merged", "duplicate", "rejected"}


@pytest.fixture
def office_ids(client) -> list[str]:
    """The offices inspector-6a may report on (district 6)."""
    return [o["id"] for o in client.as_("inspector-6a").get("/api/v1/offices?district=6&page_size=100").get_json()]


def push(client, body, user="inspector-6a"):
    # The standard library writes integers of any size (orjson, the app's, stops at 64 bits).
    return client.as_(user).post(PUSH, data=json.dumps(body), headers={"Content-Type": "application/json"})


def results_of(response, ops: list) -> list[dict]:
    """The per-op results of a push that must succeed: one per op, each well formed."""
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert len(results) == len(ops)
    for result in results:
        assert result["status"] in OP_STATUSES, result
        if result["status"] == "rejected":
            assert result["errors"] and all(isinstance(m, str) for ms in result["errors"].values() for m in ms)
    return results


def refused(response, field: str | None = None) -> dict:
    """The whole push is refused as problem+json, naming `field` if it is a 422."""
    assert response.status_code in ENVELOPE_ERRORS, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == response.status_code and body["type"].startswith("/problems/")
    if response.status_code == 422:
        assert body["errors"] and (field is None or field in body["errors"]), body
    return body


def names(errors: dict, field: str) -> bool:
    return any(key == field or key.startswith(f"{field}.") for key in errors)


def quarantined() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(QuarantinedOp))


def good_op(data: dict, **fields) -> dict:
    return {"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create", "id": str(uuid.uuid4()),
            "base_version": None, "changed_at": "2026-03-25T08:02:11+03:30", "data": data} | fields


# ---------------------------------------------------------------- the envelope


@given(body=JSON)
@fuzz
def test_any_json_body_is_answered_never_with_a_500(client, body):
    response = push(client, body)
    if response.status_code != 200:
        refused(response)


@given(body=st.binary(max_size=200))
@fuzz
def test_bytes_that_are_not_json_are_a_400(client, body):
    response = client.as_("inspector-6a").post(PUSH, data=body, headers={"Content-Type": "application/json"})
    if response.status_code != 200:  # a few bytes are JSON, and then an envelope or not
        refused(response)


def reads_as_one(value) -> bool:
    """Whether marshmallow's lenient Integer reads `value` as 1 (`"1"`, `1.0`, `"١"` all are)."""
    if isinstance(value, bool):
        return False
    try:
        return int(value) == 1
    except (TypeError, ValueError, OverflowError):
        return False


HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)


@given(content_type=st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                      "image/jpeg", "application/xml", "application/jsonx"]) | HEADER_TEXT,
       encoding=st.sampled_from(["", "identity", "br", "deflate", "compress", "gzip, br"]) | HEADER_TEXT,
       body=st.binary(min_size=1, max_size=100))
@fuzz
def test_a_body_that_is_not_json_or_not_gzip_is_refused(client, content_type, encoding, body):
    headers = {"Content-Type": content_type} | ({"Content-Encoding": encoding} if encoding else {})
    response = client.as_("inspector-6a").post(PUSH, data=body, headers=headers)
    refused(response)


ENVELOPE_FIELDS = {
    "protocol": (AWKWARD_NUMBERS | st.integers(2, 10) | st.none() | JSON).filter(lambda value: not reads_as_one(value)),
    "device_id": BAD_UUIDS | st.none(),
    "sent_at": BAD_INSTANTS | st.none(),
    "ops": JSON.filter(lambda value: not isinstance(value, list)),
}


@given(data=st.data(), field=st.sampled_from([*ENVELOPE_FIELDS, "missing", "unknown"]))
@fuzz
def test_a_near_valid_envelope_is_refused_whole_naming_the_field(client, data, field):
    body = envelope([])
    if field == "missing":
        field = data.draw(st.sampled_from(list(body)))
        del body[field]
    elif field == "unknown":
        field = data.draw(st.text(min_size=1, max_size=20).filter(lambda name: name not in body))
        body[field] = data.draw(JSON)
    else:
        body[field] = data.draw(ENVELOPE_FIELDS[field])
    refused(push(client, body), field)


@given(sent_at=EDGE_INSTANTS | RECENT | INSTANTS)
@fuzz
def test_any_send_time_is_taken_or_refused_by_name(client, office_ids, sent_at):
    ops = [good_op({"office_id": office_ids[0], "observed_at": "2026-03-25T08:00:00+03:30", "office_state": "open"})]
    response = push(client, envelope(ops) | {"sent_at": sent_at})
    if response.status_code == 200:
        assert results_of(response, ops)[0]["status"] in ("applied", "rejected")
    else:
        refused(response, "sent_at")


# ---------------------------------------------------------------- ops and their data


OP_FIELDS = {
    "op_id": BAD_UUIDS | st.none(),
    "entity": (st.text(max_size=20) | st.sampled_from(["offices", "report", "REPORTS"]) | JSON).filter(
        lambda value: value != "reports"),
    "action": (st.text(max_size=10) | st.sampled_from(["upsert", "patch", "Create"]) | JSON).filter(
        lambda value: value != "create"),
    "id": BAD_UUIDS | st.none(),
    "base_version": AWKWARD_NUMBERS | st.integers(),  # a create has none
    "changed_at": BAD_INSTANTS | st.none(),
    "data": JSON.filter(lambda value: not isinstance(value, dict)),
}


@st.composite
def bad_ops(draw, office_ids: list[str]):
    """An op the server must refuse alone: any JSON where an op is due, an op with one
    envelope field wrong, missing or unknown, or a create whose report data is wrong."""
    kind = draw(st.sampled_from(["json", "field", "missing", "unknown", "data"]))
    if kind == "json":
        return draw(JSON.filter(lambda value: not isinstance(value, dict)))
    data, _ = draw(report_data(office_ids, kind="bad" if kind == "data" else "good"))
    op = good_op(data)
    if kind == "field":
        name = draw(st.sampled_from(list(OP_FIELDS)))
        op[name] = draw(OP_FIELDS[name])
    elif kind == "missing":
        del op[draw(st.sampled_from(["op_id", "entity", "action", "id", "changed_at", "data"]))]
    elif kind == "unknown":
        op[draw(st.text(min_size=1, max_size=12).filter(lambda name: name not in op))] = draw(JSON)
    return op


@given(data=st.data(), kind=st.sampled_from(["good", "bad", "edge"]))
@fuzz
def test_report_data_lands_or_is_refused_naming_the_field(client, office_ids, data, kind):
    fields, field = data.draw(report_data(office_ids, kind))
    op = good_op(fields)
    before = quarantined()
    (result,) = results_of(push(client, envelope([op])), [op])
    if kind == "good":
        assert result["status"] == "applied", result
        record = result["record"]
        assert (record["office_id"], record["office_state"]) == (fields["office_id"], fields["office_state"])
        assert record["notes"] == fields.get("notes", "") and record["checklist"] == fields.get("checklist", {})
    elif kind == "bad":
        assert result["status"] == "rejected" and names(result["errors"], field), (field, result)
    else:
        assert result["status"] == "applied" or names(result["errors"], field), (field, result)
    assert quarantined() == before + (result["status"] == "rejected")


@given(data=st.data(), layout=st.lists(st.booleans(), min_size=1, max_size=8))
@fuzz
def test_a_batch_lands_its_good_ops_and_quarantines_its_bad_ones(client, office_ids, data, layout):
    """`layout` says which ops are good (True) and which bad, in order."""
    ops = [good_op(data.draw(report_data(office_ids))[0]) if good else data.draw(bad_ops(office_ids))
           for good in layout]
    before = quarantined()
    results = results_of(push(client, envelope(ops)), ops)
    for good, op, result in zip(layout, ops, results):
        if good:
            assert result["status"] == "applied" and result["id"] == op["id"], result
        else:
            assert result["status"] == "rejected", (op, result)
    assert quarantined() == before + layout.count(False)
    landed = [uuid.UUID(op["id"]) for good, op in zip(layout, ops) if good]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.id.in_(landed))) \
        == len(landed)


# ---------------------------------------------------------------- a stored report under fire


def stored(report_id: str) -> dict:
    """Everything about a stored report that an op could change, and its history."""
    db.session.expire_all()
    report = db.session.get(Report, uuid.UUID(report_id))
    history = db.session.execute(sa.select(ReportVersion.version, ReportVersion.data)
                                 .where(ReportVersion.report_id == report.id).order_by(ReportVersion.version)).all()
    return {"version": report.version, "deleted": report.deleted_at is not None, "fields": canonical_of(report),
            "amendments": report.amendments, "locked": report.locked, "flags": report.flags,
            "history": [tuple(row) for row in history]}


def mostly(draw, good, bad):
    """A value from `good`, one time in four from `bad`."""
    return draw(bad if draw(st.integers(0, 3)) == 0 else good)


@st.composite
def aimed_at(draw, report_id: str, office_ids: list[str]):
    """An op on this report's id: an update, delete or create, each part of it now and
    then wrong (its data, its base version, its entity, its time)."""
    action = draw(st.sampled_from(["update", "delete", "create"]))
    data, _ = draw(report_data(office_ids, kind=mostly(draw, st.just("good"), st.just("bad"))))
    if action == "update":
        data = {k: v for k, v in data.items() if draw(st.booleans())}
    elif action == "delete":
        data = mostly(draw, st.none(), st.just(data))
    return {"op_id": str(uuid.uuid4()), "entity": mostly(draw, st.just("reports"), st.just("office_corrections")),
            "action": action, "id": report_id,
            "base_version": mostly(draw, st.integers(1, 4), st.integers(-1, 0) | AWKWARD_NUMBERS | st.none()),
            "changed_at": mostly(draw, INSTANTS, BAD_INSTANTS), "data": data}


@given(data=st.data(), user=st.sampled_from(["inspector-6a", "inspector-6a", "inspector-6b", "head-6"]))
@fuzz
def test_ops_aimed_at_a_stored_report_change_it_only_when_they_land(client, office_ids, data, user):
    target, _ = data.draw(report_data(office_ids))
    create = good_op(target)
    results_of(push(client, envelope([create])), [create])
    before = stored(create["id"])
    ops = data.draw(st.lists(aimed_at(create["id"], office_ids), min_size=1, max_size=6))
    results = results_of(push(client, envelope(ops), user=user), ops)

    after = stored(create["id"])
    version = before["version"]
    for op, result in zip(ops, results):
        if result["status"] not in ("applied", "merged") or op["entity"] != "reports":
            continue
        assert user == "inspector-6a", ("someone else's op changed the report", op, result)
        assert op["action"] != "create", ("a create for an existing id changed it", op, result)
        if op["action"] == "delete" and result["status"] == "applied":
            assert op["base_version"] == version, ("a delete not based on the current version", op, result)
        else:
            assert op["base_version"] <= version, ("a change based on a version never issued", op, result)
        version = result["version"]
    assert after["version"] == version
    if version == before["version"]:
        assert after == before
    # What was stored is never rewritten: the history only grows.
    assert after["history"][:len(before["history"])] == before["history"]


# ---------------------------------------------------------------- replays


@given(data=st.data(), change=st.sampled_from(["data", "id", "action", "base_version", "entity"]))
@fuzz
def test_an_op_id_replayed_with_anything_changed_is_refused_and_the_exact_replay_is_a_duplicate(
        client, office_ids, data, change):
    first = good_op(data.draw(report_data(office_ids))[0])
    (landed,) = results_of(push(client, envelope([first])), [first])
    assert landed["status"] == "applied", landed
    notes = st.text(alphabet="abc نوشته", min_size=1, max_size=50).filter(lambda t: t != first["data"].get("notes"))
    other = {"data": first["data"] | {"notes": data.draw(notes)},
             "id": str(uuid.uuid4()), "action": "update", "base_version": 1,
             "entity": "office_corrections"}[change]
    changed = first | {change: other}
    if change == "action":
        changed |= {"base_version": 1, "data": {"notes": "x"}}
    before = stored(first["id"])
    (refusal,) = results_of(push(client, envelope([changed])), [changed])
    assert refusal["status"] == "rejected", refusal
    if change != "base_version":  # (a create with a base version is refused for that first)
        assert names(refusal["errors"], "op_id"), refusal
    assert stored(first["id"]) == before
    (again,) = results_of(push(client, envelope([first])), [first])
    assert again["status"] == "duplicate" and again["id"] == first["id"]
