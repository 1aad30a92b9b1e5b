"""The WatermelonDB dialect's pure rules (DESIGN §5.8): the merge base a push's edit was made
on, the op id a pushed record names by its content, and `timestamp` as a feed position."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sync.watermelon_sync import Mark, base_position, edit_time_on_server, position_of, read_push, timestamp_of

T0 = datetime(2026, 3, 25, 4, 30, tzinfo=UTC)
REPORT = str(uuid.UUID(int=7))


def pull(sent, answered, minutes) -> Mark:
    return Mark("pull", sent, answered, T0 + timedelta(minutes=minutes))


def landed_push(answered, minutes) -> Mark:
    return Mark("push", None, answered, T0 + timedelta(minutes=minutes))


def at(minutes) -> datetime:
    return T0 + timedelta(minutes=minutes)


# ---------------------------------------------------------------- base_position

# A phone's syncs: its first pull (nothing held) answered 5, then pulls answered 9 and 12; the
# last is this sync's own, made just before the push it precedes. Each pull is known to have
# been applied when the next one is sent from its position: the first at minute 10, the
# second at minute 20.
SYNCS = [pull(None, 5, 0), pull(5, 9, 10), pull(9, 12, 20)]


def test_an_edit_was_made_on_the_last_pull_the_phone_had_surely_applied():
    assert base_position(SYNCS, at(12), pushed_from=12) == 5
    assert base_position(SYNCS, at(10), pushed_from=12) == 5  # applied by then: sent from 5 at 10
    assert base_position(SYNCS, at(9), pushed_from=12) == 0


def test_an_edit_between_a_pulls_answer_and_the_phones_next_request_is_given_the_position_before_it():
    # The answer of minute 10 may have taken minutes to arrive on a slow line, or never: an
    # edit before the phone's next request may not have seen it.
    assert base_position(SYNCS, at(19), pushed_from=12) == 5


def test_an_edit_is_never_based_above_what_the_phone_held_before_this_syncs_pull():
    # Made after this sync's pull (by the clock, or a fast phone): that pull brought other
    # phones' edits which WatermelonDB kept its own columns over; they are not its base.
    assert base_position(SYNCS, at(25), pushed_from=12) == 9


def test_a_pull_whose_answer_never_arrived_never_counts():
    # The phone sent 5 again at minute 20: the answer of minute 10 (to 9) never reached it.
    lost = [pull(None, 5, 0), pull(5, 9, 10), pull(5, 11, 20)]
    assert base_position(lost, at(30), pushed_from=11) == 5


def test_a_landed_push_shows_its_syncs_pull_was_applied():
    marks = [pull(None, 5, 0), pull(5, 9, 10), landed_push(9, 11), pull(9, 12, 20)]
    assert base_position(marks, at(12), pushed_from=12) == 9


def test_an_edit_before_the_first_pull_was_made_on_nothing():
    assert base_position(SYNCS, at(-5), pushed_from=12) == 0


def test_an_edit_of_unknown_time_takes_the_position_held_before_the_first_pull_since_the_last_landed_push():
    # A push from 9 landed; the next failed (no mark), so this sync's pull from 12 to 15 is
    # the second since: the phone's unpushed edits may be as old as position 9.
    marks = [pull(None, 5, 0), pull(5, 9, 10), landed_push(9, 10), pull(9, 12, 20), pull(12, 15, 30)]
    assert base_position(marks, None, pushed_from=15) == 9
    # With no failed push in between, it is simply what this sync's pull was sent.
    assert base_position(marks[:4], None, pushed_from=12) == 9


def test_a_first_sync_is_based_on_nothing():
    first = [pull(None, 5, 0)]
    assert base_position(first, None, pushed_from=5) == 0
    assert base_position(first, at(1), pushed_from=5) == 0
    assert base_position(first, at(-1), pushed_from=5) == 0


def test_a_push_from_a_position_no_pull_answered_is_bounded_by_it():
    assert base_position([], None, pushed_from=7) == 7
    assert base_position([], at(0), pushed_from=7) == 7
    assert base_position(SYNCS, at(25), pushed_from=6) == 6


# ---------------------------------------------------------------- read_push


def report(**columns) -> dict:
    raw = {"id": REPORT, "office_id": str(uuid.UUID(int=1)), "round_id": None, "observed_at": 1774413131000,
           "gps_fix_at": None, "latitude": 35.7, "longitude": 51.4, "accuracy_m": 12, "office_state": "open",
           "staff_present": 2, "checklist": '{"sign": true}', "notes": "Queue of 12.", "photos": "[]",
           "created_at": 1774413131000, "updated_at": 1774413191000, "version": 1, "received_at": 1774413132000,
           "flags": "[]", "_status": "updated", "_changed": "notes,updated_at"}
    return raw | columns


def op_id(kind="updated", **columns) -> uuid.UUID:
    (record,) = read_push(1, {"reports": {kind: [report(**columns)]}}, 12)
    assert record.errors == {}
    return record.op_id


@pytest.mark.parametrize("kind", ["created", "updated"])
def test_the_same_record_sent_again_names_the_same_op_whatever_its_server_columns(kind):
    again = op_id(kind, version=3, received_at=1774413999000, flags='["closed_during_mandated_hours"]',
                  _status="synced" if kind == "updated" else "created")
    assert op_id(kind) == again


def test_an_update_names_a_new_op_when_a_changed_value_or_its_edit_time_differs():
    assert op_id(notes="Queue of 13.") != op_id()
    assert op_id(updated_at=1774413192000) != op_id()
    assert op_id(_changed="notes,staff_present,updated_at") != op_id()


def test_an_update_op_is_named_by_its_changed_columns_only():
    assert op_id(staff_present=9) == op_id()


def test_a_create_op_is_named_by_every_client_column():
    assert op_id("created", staff_present=9, _changed="") != op_id("created", _changed="")
    assert op_id("created", updated_at=1774413192000, _changed="") != op_id("created", _changed="")


def test_a_create_edited_since_it_was_made_is_named_by_its_edited_columns():
    # Another phone's change to its other columns, pulled in between, must not make its
    # replay look new.
    assert op_id("created", staff_present=9) == op_id("created")


def test_an_update_with_no_edit_time_is_a_new_op_in_each_push():
    # notes a -> b -> c -> b: with no updated_at the fourth would look like the second's replay.
    def update(pushed_from):
        (record,) = read_push(1, {"reports": {"updated": [report(updated_at=None, _changed="notes")]}}, pushed_from)
        return record.op_id
    assert update(12) == update(12) and update(12) != update(15)


def test_a_delete_sent_from_another_position_is_another_delete():
    # Refused (the report changed), pulled back, deleted again: not a replay of the first.
    def delete(pushed_from):
        (record,) = read_push(1, {"reports": {"deleted": [REPORT]}}, pushed_from)
        return record.op_id
    assert delete(12) == delete(12) and delete(12) != delete(15)


def test_an_edit_time_is_believed_only_with_the_pushs_clock_and_not_after_it_arrived():
    (record,) = read_push(1, {"reports": {"updated": [report()]}}, 12)
    edited = datetime.fromtimestamp(1774413191, UTC)
    arrived = edited + timedelta(minutes=5)
    assert edit_time_on_server(record, None, arrived) is None  # no sent_at: the phone's clock unknown
    assert edit_time_on_server(record, 60.0, arrived) == edited + timedelta(seconds=60)
    assert edit_time_on_server(record, 600.0, arrived) is None  # later than the push itself


def test_a_create_edited_since_it_was_made_names_its_changed_columns():
    # Its push's answer was lost and the phone edited it: sent again, it is an update of those.
    (record,) = read_push(1, {"reports": {"created": [report(_status="created", _changed="notes,updated_at")]}}, 12)
    assert record.kind == "created" and record.changed == {"notes", "updated_at"}


def test_an_op_id_is_the_users_own():
    (mine,) = read_push(1, {"reports": {"updated": [report()]}}, 12)
    (theirs,) = read_push(2, {"reports": {"updated": [report()]}}, 12)
    assert mine.op_id != theirs.op_id


def test_records_are_read_in_watermelondbs_order_with_the_edit_time_from_updated_at():
    changes = {"reports": {"deleted": ["gone"], "updated": [report()], "created": [report(id="new", _changed="")]}}
    records = read_push(1, changes, 12)
    assert [(r.kind, r.id) for r in records] == [("created", "new"), ("updated", REPORT), ("deleted", "gone")]
    assert records[1].changed == {"notes", "updated_at"} and records[0].changed == set()
    assert records[1].edit_time == datetime.fromtimestamp(1774413191, UTC)


@pytest.mark.parametrize("item", [None, "a string", 42, ["a", "list"]])
def test_a_record_that_is_not_an_object_gets_errors_and_still_an_op_id(item):
    (record,) = read_push(1, {"reports": {"created": [item]}}, 12)
    assert "record" in record.errors and record.op_id is not None


@pytest.mark.parametrize("bad_id", [None, 42, {"id": "x"}])
def test_a_record_or_delete_whose_id_is_not_a_string_gets_errors(bad_id):
    created, deleted = read_push(1, {"reports": {"created": [report(id=bad_id)], "deleted": [bad_id]}}, 12)
    assert "id" in created.errors and "id" in deleted.errors
    assert created.op_id != deleted.op_id


def test_an_unencodable_value_still_names_an_op():
    (record,) = read_push(1, {"reports": {"updated": [report(notes="\ud800", staff_present=2**70,
                                                              _changed="notes,staff_present")]}}, 12)
    assert record.errors == {} and record.op_id is not None


# ---------------------------------------------------------------- timestamp


@pytest.mark.parametrize("position", [0, 1, 41, 2**53 - 2])
def test_a_position_sent_as_a_timestamp_reads_back_and_the_timestamp_is_above_zero(position):
    assert timestamp_of(position) > 0
    assert position_of(timestamp_of(position)) == position


@pytest.mark.parametrize("never", [None, 0])
def test_a_phone_that_never_pulled_holds_position_zero(never):
    assert position_of(never) == 0
