"""The WatermelonDB dialect's pure rules (DESIGN §5.8): the merge base a push's edit was made
on, the op id a pushed record names by its content, and `timestamp` as a feed position."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sync.watermelon_sync import APPLY_MARGIN, Mark, base_position, position_of, read_push, timestamp_of

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
# last is this sync's own, made just before the push it precedes.
SYNCS = [pull(None, 5, 0), pull(5, 9, 10), pull(9, 12, 20)]


def test_an_edit_after_a_pull_was_made_on_what_that_pull_answered():
    assert base_position(SYNCS, at(15), pushed_from=12) == 9
    assert base_position(SYNCS, at(5), pushed_from=12) == 5


def test_an_edit_is_never_based_above_what_the_phone_held_before_this_syncs_pull():
    # Made after this sync's pull (by the clock, or a fast phone): that pull brought other
    # phones' edits which WatermelonDB kept its own columns over; they are not its base.
    assert base_position(SYNCS, at(25), pushed_from=12) == 9


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
    assert base_position(SYNCS, at(15), pushed_from=6) == 6


def test_an_edit_within_the_apply_margin_of_a_pull_is_taken_as_made_before_it():
    # The pull's answer is stamped when the server sends it; the phone applies it a moment
    # later, and an edit in that moment was made on what it held before.
    edge = SYNCS[1].at + APPLY_MARGIN
    assert base_position(SYNCS, edge - timedelta(milliseconds=1), pushed_from=12) == 5
    assert base_position(SYNCS, edge, pushed_from=12) == 9


# ---------------------------------------------------------------- read_push


def report(**columns) -> dict:
    raw = {"id": REPORT, "office_id": str(uuid.UUID(int=1)), "round_id": None, "observed_at": 1774413131000,
           "gps_fix_at": None, "latitude": 35.7, "longitude": 51.4, "accuracy_m": 12, "office_state": "open",
           "staff_present": 2, "checklist": '{"sign": true}', "notes": "Queue of 12.", "photos": "[]",
           "created_at": 1774413131000, "updated_at": 1774413191000, "version": 1, "received_at": 1774413132000,
           "flags": "[]", "_status": "updated", "_changed": "notes,updated_at"}
    return raw | columns


def op_id(kind="updated", **columns) -> uuid.UUID:
    (record,) = read_push(1, {"reports": {kind: [report(**columns)]}})
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
    assert op_id("created", staff_present=9) != op_id("created")
    assert op_id("created", updated_at=1774413192000) != op_id("created")


def test_a_create_edited_since_it_was_made_names_its_changed_columns():
    # Its push's answer was lost and the phone edited it: sent again, it is an update of those.
    (record,) = read_push(1, {"reports": {"created": [report(_status="created", _changed="notes,updated_at")]}})
    assert record.kind == "created" and record.changed == {"notes", "updated_at"}


def test_an_op_id_is_the_users_own():
    (mine,) = read_push(1, {"reports": {"updated": [report()]}})
    (theirs,) = read_push(2, {"reports": {"updated": [report()]}})
    assert mine.op_id != theirs.op_id


def test_records_are_read_in_watermelondbs_order_with_the_edit_time_from_updated_at():
    changes = {"reports": {"deleted": ["gone"], "updated": [report()], "created": [report(id="new", _changed="")]}}
    records = read_push(1, changes)
    assert [(r.kind, r.id) for r in records] == [("created", "new"), ("updated", REPORT), ("deleted", "gone")]
    assert records[1].changed == {"notes", "updated_at"} and records[0].changed == set()
    assert records[1].edit_time == datetime.fromtimestamp(1774413191, UTC)


@pytest.mark.parametrize("item", [None, "a string", 42, ["a", "list"]])
def test_a_record_that_is_not_an_object_gets_errors_and_still_an_op_id(item):
    (record,) = read_push(1, {"reports": {"created": [item]}})
    assert "record" in record.errors and record.op_id is not None


@pytest.mark.parametrize("bad_id", [None, 42, {"id": "x"}])
def test_a_record_or_delete_whose_id_is_not_a_string_gets_errors(bad_id):
    created, deleted = read_push(1, {"reports": {"created": [report(id=bad_id)], "deleted": [bad_id]}})
    assert "id" in created.errors and "id" in deleted.errors
    assert created.op_id != deleted.op_id


def test_an_unencodable_value_still_names_an_op():
    (record,) = read_push(1, {"reports": {"updated": [report(notes="\ud800", staff_present=2**70,
                                                              _changed="notes,staff_present")]}})
    assert record.errors == {} and record.op_id is not None


# ---------------------------------------------------------------- timestamp


@pytest.mark.parametrize("position", [0, 1, 41, 2**53 - 2])
def test_a_position_sent_as_a_timestamp_reads_back_and_the_timestamp_is_above_zero(position):
    assert timestamp_of(position) > 0
    assert position_of(timestamp_of(position)) == position


@pytest.mark.parametrize("never", [None, 0])
def test_a_phone_that_never_pulled_holds_position_zero(never):
    assert position_of(never) == 0
