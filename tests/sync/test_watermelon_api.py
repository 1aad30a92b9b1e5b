"""WatermelonDB's sync protocol over HTTP (DESIGN §5.8): its input refused naming the field,
what a pull sends and under which kind, and how each pushed record lands, is refused or is
nothing. Records are built as WatermelonDB sends them: flat columns, epoch milliseconds, JSON
strings, `_status` and `_changed`. The real client's own scenarios are tests/watermelon's."""

import time
import uuid

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.support import Client, assert_problem
from tests.sync.helpers import first_office, op, push, report_data

URL, PULL, QUARANTINE = "/api/v1/sync/watermelon", "/api/v1/sync/pull", "/api/v1/sync/quarantine"
INSPECTOR = "inspector-6a"


@pytest.fixture
def office(client):
    return first_office(client)


@pytest.fixture
def phone(client):
    return client.as_(INSPECTOR)


def ms() -> int:
    return int(time.time() * 1000)


def raw_report(office: dict, **columns) -> dict:
    """A report as WatermelonDB's pushChanges sends one it created: every column, and the
    server's columns as a phone that never synced it holds them."""
    at = ms()
    longitude, latitude = office["location"]["coordinates"]
    raw = {"id": str(uuid.uuid4()), "office_id": office["id"], "round_id": None, "observed_at": at - 60_000,
           "gps_fix_at": None, "latitude": latitude, "longitude": longitude, "accuracy_m": 12,
           "office_state": "open", "staff_present": 2, "checklist": '{"sign_posted": true}', "notes": "",
           "photos": "[]", "flags": "[]", "amendments": "[]", "photos_pending": "[]", "version": 0,
           "created_at": at, "updated_at": at, "_status": "created", "_changed": ""}
    return raw | columns


def edited(raw: dict, **columns) -> dict:
    """The record after an edit on the phone: the columns changed, `updated_at` with them."""
    changed = [c for c in (raw["_changed"] or "").split(",") if c]
    changed += [c for c in (*columns, "updated_at") if c not in changed]
    status = "created" if raw["_status"] == "created" else "updated"
    return raw | columns | {"updated_at": ms(), "_status": status, "_changed": ",".join(changed)}


def pull(phone, last_pulled_at=None, **params) -> dict:
    query = {"last_pulled_at": "null" if last_pulled_at is None else last_pulled_at} | params
    response = phone.get(URL, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def push_changes(phone, last_pulled_at, table="reports", created=(), updated=(), deleted=()) -> dict:
    body = {"changes": {table: {"created": list(created), "updated": list(updated), "deleted": list(deleted)}},
            "sent_at": ms()}
    response = phone.post(URL, query_string={"last_pulled_at": last_pulled_at}, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def sync(phone, last_pulled_at, **changes) -> tuple[int, dict]:
    """One synchronize(): a pull, then (if there is anything) a push from its timestamp."""
    timestamp = pull(phone, last_pulled_at)["timestamp"]
    return timestamp, push_changes(phone, timestamp, **changes) if changes else None


def records(answer: dict, table: str = "reports") -> dict[str, tuple[str, dict]]:
    """A pull's records of a table by id: (created | updated, raw)."""
    sets = answer["changes"][table]
    return {raw["id"]: (kind, raw) for kind in ("created", "updated") for raw in sets[kind]}


def quarantined(phone, record_id: str) -> list[dict]:
    """What the quarantine keeps of a record: refused as it came (a WatermelonDB record), or
    as the op it was read into."""
    def names(payload) -> bool:
        record = payload.get("record")
        return record_id in (payload.get("id"), record, record.get("id") if isinstance(record, dict) else None)
    return [q for q in phone.get(QUARANTINE).get_json() if names(q["payload"])]


def login(client, username=INSPECTOR):
    """Another phone of the same inspector: a login of its own, with its device."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD,
                                                       "device_id": str(uuid.uuid4())})
    assert response.status_code == 201, response.get_data(as_text=True)
    name = f"{username} on another phone"
    return Client(client.http, client.tokens | {name: response.get_json()["token"]}).as_(name)


# ---------------------------------------------------------------- input refused


@pytest.mark.parametrize("value", ["abc", "-1", str(2**53), "1.5"])
def test_a_last_pulled_at_that_is_no_timestamp_is_refused_naming_it(phone, value):
    assert_problem(phone.get(URL, query_string={"last_pulled_at": value}), 422, "last_pulled_at")
    assert_problem(phone.post(URL, query_string={"last_pulled_at": value}, json={"changes": {}}), 422,
                   "last_pulled_at")


def test_a_push_without_last_pulled_at_is_refused_naming_it(phone):
    assert_problem(phone.post(URL, json={"changes": {}}), 422, "last_pulled_at")


@pytest.mark.parametrize(("body", "field"), [
    ({}, "changes"),
    ({"changes": []}, "changes"),
    ({"changes": "reports"}, "changes"),
    # (marshmallow names a dict's value `value`: the table's key, then its set)
    ({"changes": {"reports": {"created": {}}}}, "changes.reports.created"),
    ({"changes": {"reports": {"updated": "x"}}}, "changes.reports.updated"),
    ({"changes": {"reports": []}}, "changes.reports"),
    ({"changes": {"reports": {"created": [], "moved": []}}}, "changes.reports.moved"),
    ({"changes": {f"table{n}": {} for n in range(33)}}, "changes"),
    ({"changes": {}, "extra": 1}, "extra"),
])
def test_a_malformed_push_body_is_refused_whole_naming_the_field(phone, body, field):
    assert_problem(phone.post(URL, query_string={"last_pulled_at": 1}, json=body), 422, field)


def test_a_push_of_32_tables_is_read(phone):
    body = {"changes": {f"table{n}": {} for n in range(32)}}
    assert phone.post(URL, query_string={"last_pulled_at": 1}, json=body).status_code == 200


def test_a_push_of_over_2000_records_is_413(phone, office):
    body = {"changes": {"reports": {"deleted": [str(uuid.uuid4()) for _ in range(2001)]}}}
    problem = assert_problem(phone.post(URL, query_string={"last_pulled_at": 1}, json=body), 413)
    assert problem["type"].endswith("payload-too-large") and "2000" in problem["detail"]


def test_both_endpoints_want_a_token(client):
    assert_problem(client.get(URL), 401)
    assert_problem(client.post(URL, query_string={"last_pulled_at": 1}, json={"changes": {}}), 401)


# ---------------------------------------------------------------- pull


def test_a_first_pull_is_the_callers_scope_as_flat_raw_records(client, phone, office):
    elsewhere = first_office(client, "inspector-7a", 7)
    push(client, [op(data=report_data(elsewhere))], user="inspector-7a")
    push(client, [op(data=report_data(office))], user="inspector-6b")  # their district, not their report
    answer = pull(phone)
    assert type(answer["timestamp"]) is int and answer["timestamp"] > 0
    for table, sets in answer["changes"].items():
        for raw in sets["created"] + sets["updated"]:
            assert "_status" not in raw and "_changed" not in raw, table
            assert isinstance(raw["id"], str), table
            assert all(value is None or isinstance(value, (str, int, float, bool)) for value in raw.values()), table
    assert list(records(answer, "districts")) == ["6"]
    assert {raw["district"] for _, raw in records(answer, "offices").values()} == {6}
    assert office["id"] in records(answer, "offices")
    assert records(answer, "reports") == {}


def test_a_pull_with_nothing_new_brings_nothing_and_the_same_timestamp(phone):
    first = pull(phone)
    again = pull(phone, first["timestamp"])
    assert again["timestamp"] == first["timestamp"]
    assert all(not any(sets.values()) for sets in again["changes"].values()), again["changes"]


def test_send_created_as_updated_puts_every_record_under_updated(phone):
    answer = pull(phone, send_created_as_updated="true")
    assert all(sets["created"] == [] for sets in answer["changes"].values())
    assert records(answer, "offices") and records(answer, "holidays")


def test_a_report_this_phone_pushed_comes_back_under_updated(phone, office):
    timestamp, _ = sync(phone, None, created=[mine := raw_report(office, notes="Queue of 12.")])
    kind, raw = records(pull(phone, timestamp))[mine["id"]]
    assert kind == "updated"
    assert raw["notes"] == "Queue of 12." and raw["version"] == 1 and raw["received_at"] > 0


def test_a_report_another_phone_of_the_inspector_made_after_this_ones_pull_comes_under_created(client, phone, office):
    timestamp = pull(phone)["timestamp"]
    other = login(client)
    sync(other, None, created=[theirs := raw_report(office, notes="From the other phone.")])
    kind, raw = records(pull(phone, timestamp))[theirs["id"]]
    assert kind == "created" and raw["notes"] == "From the other phone."


def test_an_office_changed_after_the_phones_pull_comes_under_updated(client, phone, office):
    timestamp = pull(phone)["timestamp"]
    (proposal,) = push(client, [op("create", "office_corrections",
                                   data={"office_id": office["id"], "kind": "phone", "phone": "021 5555 1234"})])
    decided = client.as_("admin").post(f"/api/v1/office-corrections/{proposal['id']}/decision",
                                       json={"decision": "accept"})
    assert decided.status_code == 200, decided.get_data(as_text=True)
    answer = pull(phone, timestamp)
    kind, raw = records(answer, "offices")[office["id"]]
    assert kind == "updated" and raw["phone"] == "021 5555 1234" and raw["version"] == office["version"] + 1
    assert answer["timestamp"] > timestamp


# ---------------------------------------------------------------- push


def test_records_of_tables_the_server_owns_are_refused_and_sent_again_as_the_server_holds_them(phone, office):
    first = pull(phone)
    timestamp = first["timestamp"]
    held = {table: records(first, table)[key][1] for table, key in
            (("offices", office["id"]), ("districts", "6"), ("holidays", first["changes"]["holidays"]["created"][0]["id"]))}
    made_up = held["offices"] | {"id": str(uuid.uuid4()), "code": "E-9999", "_status": "created", "_changed": ""}
    body = {"changes": {table: {"updated": [raw | {"version": 99, "_status": "updated", "_changed": "version"}]}
                        for table, raw in held.items()}}
    body["changes"]["offices"]["created"] = [made_up]
    response = phone.post(URL, query_string={"last_pulled_at": timestamp}, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert len(results) == 4 and all(r["status"] == "rejected" and "table" in r["errors"] for r in results)
    for raw in (*held.values(), made_up):
        (kept,) = quarantined(phone, raw["id"])
        assert "table" in kept["errors"]
    after = pull(phone, timestamp)
    for table, raw in held.items():
        assert records(after, table) == {raw["id"]: ("updated", raw)}, table
    assert after["changes"]["offices"]["deleted"] == []  # the server has no such office to send


def test_a_report_whose_id_is_no_uuid_is_refused_alone(phone, office):
    bad, good = raw_report(office, id="report-1"), raw_report(office)
    timestamp, answer = sync(phone, None, created=[bad, good])
    refused, landed = answer["results"]
    assert refused["status"] == "rejected" and "id" in refused["errors"]
    assert landed["status"] == "applied" and landed["id"] == good["id"]
    assert quarantined(phone, "report-1")
    after = pull(phone, timestamp)
    assert good["id"] in records(after) and after["changes"]["reports"]["deleted"] == ["report-1"]


def test_an_update_of_a_report_the_server_lacks_lands_as_a_create(phone, office):
    missing = edited(raw_report(office, _status="synced"), notes="Made before a reinstall.")
    timestamp, answer = sync(phone, None, updated=[missing])
    (result,) = answer["results"]
    assert result["status"] == "applied" and result["version"] == 1
    kind, raw = records(pull(phone, timestamp))[missing["id"]]
    assert kind == "updated" and raw["notes"] == "Made before a reinstall." and raw["office_id"] == office["id"]


def test_a_delete_of_a_report_the_server_never_had_is_nothing(phone):
    never = str(uuid.uuid4())
    timestamp, answer = sync(phone, None, deleted=[never])
    assert answer["results"] == [] and answer["replayed"] == 0
    assert quarantined(phone, never) == []
    assert pull(phone, timestamp)["changes"]["reports"] == {"created": [], "updated": [], "deleted": []}


def test_an_update_that_moves_a_report_to_another_office_is_refused_and_the_report_sent_back(phone, office):
    other_office = phone.get("/api/v1/offices?district=6&page_size=2").get_json()[1]
    timestamp, _ = sync(phone, None, created=[report := raw_report(office)])
    stored = records(pull(phone, timestamp))[report["id"]][1]
    moved = edited(stored | {"_status": "synced", "_changed": ""}, office_id=other_office["id"])
    timestamp, answer = sync(phone, timestamp, updated=[moved])
    (result,) = answer["results"]
    assert result["status"] == "rejected" and "data.office_id" in result["errors"]
    assert quarantined(phone, report["id"])
    kind, raw = records(pull(phone, timestamp))[report["id"]]
    assert kind == "updated" and raw["office_id"] == office["id"] and raw["version"] == 1


def test_a_push_sent_again_is_replayed_and_changes_nothing(phone, office):
    start = timestamp = pull(phone)["timestamp"]
    made = [raw_report(office, notes="one"), raw_report(office, notes="two")]
    first = push_changes(phone, timestamp, created=made)
    assert [r["status"] for r in first["results"]] == ["applied", "applied"]
    # The answer was lost: the next sync pulls the landed records back, then pushes the same.
    timestamp = pull(phone, timestamp)["timestamp"]
    again = push_changes(phone, timestamp, created=made)
    assert again["replayed"] == 2 and again["results"] == []
    assert records(pull(phone, timestamp)) == {}
    # An update, lost and sent again the same way.
    update = edited(made[0] | {"_status": "synced", "_changed": ""}, notes="one, then more")
    assert push_changes(phone, timestamp, updated=[update])["results"][0]["version"] == 2
    timestamp = pull(phone, timestamp)["timestamp"]
    assert push_changes(phone, timestamp, updated=[update])["replayed"] == 1
    after = records(pull(phone, start))
    assert after[made[0]["id"]][1]["version"] == 2 and after[made[0]["id"]][1]["notes"] == "one, then more"
    assert after[made[1]["id"]][1]["version"] == 1


def test_a_create_sent_again_after_an_edit_lands_as_an_update_of_the_edited_columns(client, phone, office):
    timestamp = pull(phone)["timestamp"]
    report = raw_report(office, notes="Queue of 12.", staff_present=2)
    push_changes(phone, timestamp, created=[report])  # landed; its answer lost
    # Still `created` to the phone, edited, and pulled back (WatermelonDB keeps its edit).
    again = edited(report, notes="Queue of 12. Counter 3 closed.")
    assert again["_status"] == "created" and again["_changed"] == "notes,updated_at"
    timestamp = pull(phone, timestamp)["timestamp"]
    # Before it pushes, the inspector's other phone corrects the staff count.
    (other,) = push(client, [op("update", id_=report["id"], base_version=1, data={"staff_present": 3})])
    assert other["version"] == 2
    (result,) = push_changes(phone, timestamp, created=[again])["results"]
    assert result["status"] in ("applied", "merged") and result["version"] == 3
    raw = records(pull(phone, timestamp))[report["id"]][1]
    assert raw["notes"] == "Queue of 12. Counter 3 closed." and raw["staff_present"] == 3


def test_the_sync_pull_sees_reports_pushed_in_this_dialect(phone, office):
    sync(phone, None, created=[report := raw_report(office, notes="Seen by both protocols.", staff_present=4)])
    found, cursor = None, None
    while found is None:
        body = {"protocol": 1, "device_id": str(uuid.uuid4()), "cursor": cursor, "limit": 1000}
        answer = phone.post(PULL, json=body).get_json()
        found = next((r for r in answer["changes"]["reports"]["upserted"] if r["id"] == report["id"]), None)
        assert found is not None or answer["has_more"], "not in the pull"
        cursor = answer["cursor"]
    assert found["notes"] == "Seen by both protocols." and found["staff_present"] == 4 and found["version"] == 1
    assert found["office_id"] == office["id"] and found["location"]["coordinates"] == office["location"]["coordinates"]
    assert found["checklist"] == {"sign_posted": True} and found["photos"] == []


# ---------------------------------------------------------------- review: what a broken or hostile phone must not do


def server_report(client, report_id: str, user=INSPECTOR) -> dict | None:
    page = client.as_(user).post(PULL, json={"protocol": 1, "device_id": str(uuid.uuid4()), "cursor": None,
                                             "limit": 1000}).get_json()
    found = [r for r in page["changes"]["reports"]["upserted"] if r["id"] == report_id]
    return found[0] if found else None


def test_a_refused_record_naming_anothers_report_does_not_delete_it_for_anyone(client, phone, office):
    theirs = first_office(client, user="inspector-6b")
    (landed,) = push(client, [op(data=report_data(theirs))], user="inspector-6b")
    timestamp, answer = sync(phone, None, created=[raw_report(office, id=str(landed["id"]))],
                             deleted=[str(landed["id"])])
    assert {r["status"] for r in answer["results"]} == {"rejected"}
    committee = client.as_("committee1").post(PULL, json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                          "cursor": None, "limit": 1000}).get_json()
    assert str(landed["id"]) not in committee["changes"]["reports"]["deleted"]
    assert server_report(client, str(landed["id"]), user="inspector-6b") is not None


def test_a_report_deleted_again_after_its_delete_lost_is_deleted(client, phone, office):
    other = login(client)
    timestamp, _ = sync(phone, None, created=[report := raw_report(office, notes="Queue.")])
    other_at = pull(other)["timestamp"]
    stored = records(pull(other, other_at - 1))[report["id"]][1]
    push_changes(other, other_at, updated=[edited(stored | {"_status": "synced", "_changed": ""}, notes="Queue!")])
    timestamp, answer = sync(phone, timestamp, deleted=[report["id"]])
    assert answer["results"][0]["status"] == "merged"  # update_beats_delete: it comes back
    back = pull(phone, timestamp)
    assert records(back)[report["id"]][0] == "created"
    timestamp, answer = sync(phone, back["timestamp"], deleted=[report["id"]])
    assert answer["replayed"] == 0 and answer["results"][0]["status"] == "applied"
    assert server_report(client, report["id"]) is None


def _another_phone_edits_after_this_ones_pull(client, phone, office):
    """This phone makes a report and pulls; another phone of the inspector adds to its notes.
    (The report, this phone's pull, its record as it holds it.)"""
    other = login(client)
    timestamp, _ = sync(phone, None, created=[report := raw_report(office, notes="Door open.")])
    held = pull(phone, timestamp)
    mine = records(pull(phone, None))[report["id"]][1] | {"_status": "synced", "_changed": ""}
    b_at = pull(other)["timestamp"]
    b_record = records(pull(other, None))[report["id"]][1] | {"_status": "synced", "_changed": ""}
    push_changes(other, b_at, updated=[edited(b_record, notes="Door open. Two staff inside.")])
    return report, held, mine


def test_an_applied_push_that_merged_another_phones_edit_is_not_the_next_base(client, phone, office):
    """A pulls; B's notes land; A's staff_present (based on v1) is applied as v3, with B's notes
    in it that A never saw; A then edits its notes: B's words stay. (Taken as the phone's
    state, v3 would make B's notes look like A's base, and A's text would replace them.)"""
    report, held, mine = _another_phone_edits_after_this_ones_pull(client, phone, office)
    first = edited(mine, staff_present=5)
    answer = push_changes(phone, held["timestamp"], updated=[first])
    assert answer["results"][0]["status"] == "applied"  # no conflict: another field
    # The next sync's pull brings v3, but the phone keeps its own edited notes over it.
    again = edited(first | {"_status": "synced", "_changed": ""}, notes="Door open. Manager late.")
    sync(phone, held["timestamp"], updated=[again])
    notes = server_report(client, report["id"])["notes"]
    assert "Two staff inside." in notes and "Manager late." in notes


def test_a_heads_refused_create_is_named_deleted_on_the_heads_next_pull(client, office):
    head = client.as_("head-6")
    foreign = first_office(client, user="committee1", district=7)
    timestamp, answer = sync(head, None, created=[report := raw_report(foreign)])
    assert answer["results"][0]["status"] == "rejected"
    assert report["id"] in pull(head, timestamp)["changes"]["reports"]["deleted"]


def test_a_position_this_server_never_answered_gets_the_whole_scope_and_its_own_position(client, phone, office):
    answer = pull(phone, 10**9)
    assert answer["changes"]["offices"]["created"] or answer["changes"]["offices"]["updated"]
    assert answer["timestamp"] < 10**9  # kept, every later change would be skipped
    sync(login(client), None, created=[report := raw_report(office)])
    assert report["id"] in records(pull(phone, answer["timestamp"]))


def test_a_heads_refused_edit_of_an_inspectors_report_is_sent_back_as_it_is(client, office):
    (landed,) = push(client, [op(data=report_data(office, notes="As seen."))])
    head = client.as_("head-6")
    timestamp = pull(head)["timestamp"]
    held = records(pull(head, None))[str(landed["id"])][1] | {"_status": "synced", "_changed": ""}
    answer = push_changes(head, timestamp, updated=[edited(held, notes="Head's words.")])
    assert answer["results"][0]["status"] == "rejected"
    kind, raw = records(pull(head, timestamp))[str(landed["id"])]
    assert raw["notes"] == "As seen."


def test_an_update_that_changed_nothing_is_not_what_the_phone_held(client, phone, office):
    """A pulls; B's notes land; A saves the report unchanged (only updated_at) from its older
    position: the version is B's, not made by A's op, so A's next notes edit keeps B's."""
    report, held, mine = _another_phone_edits_after_this_ones_pull(client, phone, office)
    first = edited(mine)
    assert push_changes(phone, held["timestamp"], updated=[first])["results"][0]["status"] == "applied"
    again = edited(first | {"_status": "synced", "_changed": ""}, notes="Door open. Manager late.")
    sync(phone, held["timestamp"], updated=[again])
    notes = server_report(client, report["id"])["notes"]
    assert "Two staff inside." in notes and "Manager late." in notes


def test_a_migration_sends_the_whole_scope_again_as_updated(phone):
    timestamp = pull(phone)["timestamp"]
    assert not pull(phone, timestamp)["changes"]["offices"]["updated"]
    again = pull(phone, timestamp, migration='{"from": 1, "tables": [], "columns": []}')
    assert again["changes"]["offices"]["updated"] and not again["changes"]["offices"]["created"]


@pytest.mark.parametrize("migration", ["not json", "[1]", "1"])
def test_a_migration_that_is_no_spec_is_refused_naming_it(phone, migration):
    assert_problem(phone.get(URL, query_string={"last_pulled_at": "null", "migration": migration}), 422,
                   "migration")
