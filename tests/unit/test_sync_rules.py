"""The sync rules as pure functions: every row of DESIGN §5.4, evidence time, cursors, replays, bounds."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.violations.judge import SOUND, WEAK, Evidence, judge
from schemas.input import TOO_DEEP_MARK, too_deep, without_lone_surrogates
from sync.cursor import BadCursor, Cursor, scope_key
from sync.evidence import clock_skew_s, evidence_time
from sync.merge import ImmutableFieldChanged, Limits, amendments, merge_photos, merge_text, merge_update
from sync.replay import op_digest, same_op

T = datetime(2026, 3, 25, 5, 0, tzinfo=UTC)
EARLIER, LATER = T - timedelta(minutes=5), T + timedelta(minutes=5)

BASE = {"office_id": "o1", "office_state": "open", "staff_present": 2, "accuracy_m": 10.0,
        "location": {"type": "Point", "coordinates": [51.4, 35.7]}, "observed_at": "2026-03-25T08:00:00+03:30",
        "gps_fix_at": None, "checklist": {"sign": True, "queue": None}, "notes": "in the morning",
        "photos": [{"sha256": "a" * 64}]}


def server_with(**changes):
    return BASE | changes


def test_without_a_concurrent_change_the_client_fields_are_applied():
    merge = merge_update(BASE, BASE, {}, {"office_state": "closed", "notes": "shut"}, T)
    assert merge.values == {"office_state": "closed", "notes": "shut"} and merge.conflicts == []
    assert merge.times == {"office_state": T, "notes": T}


def test_office_id_is_immutable():
    with pytest.raises(ImmutableFieldChanged):
        merge_update(BASE, BASE, {}, {"office_id": "o2"}, T)
    assert merge_update(BASE, BASE, {}, {"office_id": "o1"}, T).values == {}


@pytest.mark.parametrize("field", ["observed_at", "gps_fix_at", "location", "accuracy_m", "office_state",
                                   "staff_present"])
@pytest.mark.parametrize(("client_time", "client_wins"), [(LATER, True), (EARLIER, False), (T, False)])
def test_latest_edit_fields_take_the_later_edit(field, client_time, client_wins):
    server_value, client_value = f"server-{field}", f"client-{field}"
    merge = merge_update(BASE, server_with(**{field: server_value}), {field: T}, {field: client_value}, client_time)
    (conflict,) = merge.conflicts
    assert conflict.policy == "latest_edit" and conflict.field == field
    assert conflict.base == BASE[field] and conflict.server == server_value and conflict.client == client_value
    assert conflict.resolved == (client_value if client_wins else server_value)
    assert (field in merge.values) is client_wins


def test_a_field_only_the_server_changed_keeps_the_server_value():
    merge = merge_update(BASE, server_with(staff_present=5), {"staff_present": T}, {"staff_present": 2}, LATER)
    assert merge.values == {} and merge.conflicts == []


def test_a_field_only_the_client_changed_is_applied_without_conflict():
    merge = merge_update(BASE, server_with(staff_present=5), {"staff_present": T}, {"office_state": "closed"}, EARLIER)
    assert merge.values == {"office_state": "closed"} and merge.conflicts == []


def test_both_sides_making_the_same_change_is_no_conflict():
    merge = merge_update(BASE, server_with(office_state="closed"), {}, {"office_state": "closed"}, EARLIER)
    assert merge.values == {} and merge.conflicts == []


def test_checklist_merges_per_item_and_an_item_both_changed_goes_to_the_later_edit():
    server = server_with(checklist={"sign": False, "queue": None})
    times = {"checklist.sign": T}
    merge = merge_update(BASE, server, times, {"checklist": {"sign": True, "queue": True, "fire_exit": False}}, LATER)
    assert merge.values["checklist"] == {"sign": False, "queue": True, "fire_exit": False}
    assert merge.conflicts == []  # the client sent sign unchanged (True == base)
    merge = merge_update(BASE, server, times, {"checklist": {"sign": None}}, LATER)
    (conflict,) = merge.conflicts
    assert conflict.field == "checklist.sign" and conflict.policy == "latest_edit" and conflict.resolved is None
    assert merge.values["checklist"]["sign"] is None
    merge = merge_update(BASE, server, times, {"checklist": {"sign": None}}, EARLIER)
    assert merge.conflicts[0].resolved is False and "checklist" not in merge.values


def test_notes_both_kept_server_first():
    merge = merge_update(BASE, server_with(notes="in the morning\nserver adds"), {"notes": T},
                         {"notes": "in the morning\nclient adds"}, LATER)
    (conflict,) = merge.conflicts
    assert conflict.policy == "merge_text"
    assert merge.values["notes"] == "in the morning\nserver adds\n\nclient adds"


def test_merge_text_keeps_both_whole_texts_when_neither_appended():
    assert merge_text("a", "server rewrote", "client rewrote") == "server rewrote\n\nclient rewrote"
    assert merge_text("a", "a b", "a b") == "a b"


def test_photos_are_a_three_way_union_by_sha256():
    a, b, c, d = ({"sha256": ch * 64} for ch in "abcd")
    merged = merge_update(BASE | {"photos": [a, b]}, BASE | {"photos": [a, b, c]}, {"photos": T},
                          {"photos": [b, d]}, LATER)
    (conflict,) = merged.conflicts
    assert conflict.policy == "union"
    assert merged.values["photos"] == [b, c, d]  # a removed by the client, c added by the server, d by the client


@given(st.sets(st.sampled_from("abcdef")), st.sets(st.sampled_from("abcdef")), st.sets(st.sampled_from("abcdef")))
def test_photo_merge_keeps_every_addition_and_every_removal(base, server, client):
    photos = lambda keys: [{"sha256": k} for k in sorted(keys)]  # noqa: E731
    result = {p["sha256"] for p in merge_photos(photos(base), photos(server), photos(client))}
    assert (server - base) | (client - base) <= result  # nothing anyone added is lost
    assert not (result & ((base - server) | (base - client)))  # nothing anyone removed comes back
    assert len(result) == len(merge_photos(photos(base), photos(server), photos(client)))  # no duplicates


def test_a_locked_report_takes_amendments_not_changes():
    conflicts = amendments(BASE, {"office_state": "closed", "notes": "in the morning"})
    (conflict,) = conflicts
    assert conflict.policy == "locked_amendment" and conflict.client == "closed" and conflict.resolved == "open"


# Evidence time ------------------------------------------------------------------------

RECEIVED = datetime(2026, 3, 25, 10, 0, tzinfo=UTC)


def test_gps_fix_time_wins_when_plausible():
    # The phone is 2 h fast: it says R-3h for what was really R-5h; the fix, 3 min after that, wins.
    fix = RECEIVED - timedelta(hours=5) + timedelta(minutes=3)
    assert evidence_time(RECEIVED - timedelta(hours=3), fix, -7200, RECEIVED) == (fix, "gps")


@pytest.mark.parametrize("gap", [timedelta(minutes=11), timedelta(hours=4), -timedelta(hours=5, minutes=30)])
def test_a_gps_fix_hours_from_the_corrected_phone_time_is_not_the_evidence_time(gap):
    observed = RECEIVED - timedelta(hours=6)
    assert evidence_time(observed, observed + gap, 0, RECEIVED) == (observed, "device")


def test_a_phone_two_hours_slow_is_corrected_by_the_push_skew():
    # Really seen at 05:30 UTC (09:00 Tehran); the phone says 03:30 (07:00) and is 2 h slow.
    skew = clock_skew_s(RECEIVED, RECEIVED - timedelta(hours=2))
    assert skew == 7200
    when, source = evidence_time(datetime(2026, 3, 25, 3, 30, tzinfo=UTC), None, skew, RECEIVED)
    assert (when, source) == (datetime(2026, 3, 25, 5, 30, tzinfo=UTC), "corrected_device")


def test_a_small_skew_leaves_device_time_alone():
    observed = RECEIVED - timedelta(hours=1)
    assert evidence_time(observed, None, 30, RECEIVED) == (observed, "device")


@pytest.mark.parametrize("fix", [RECEIVED + timedelta(hours=1), RECEIVED - timedelta(days=30),
                                 RECEIVED - timedelta(hours=20)])
def test_an_implausible_gps_fix_is_ignored(fix):
    observed = RECEIVED - timedelta(hours=1)
    assert evidence_time(observed, fix, 0, RECEIVED) == (observed, "device")


# Cursors ------------------------------------------------------------------------------

@given(st.integers(min_value=0, max_value=2**53), st.text(alphabet="0123456789abcdef", min_size=16, max_size=16))
def test_cursors_round_trip(seq, scope):
    assert Cursor.decode(Cursor(seq, scope).encode()) == Cursor(seq, scope)


@pytest.mark.parametrize("text", ["", "garbage", "eyJ2IjoyfQ", Cursor(1, "x").encode()[:-3]])
def test_foreign_cursors_are_refused(text):
    with pytest.raises(BadCursor):
        Cursor.decode(text)


def test_scope_key_changes_when_districts_change():
    assert scope_key("inspector", 7, [6]) != scope_key("inspector", 7, [6, 7])
    assert scope_key("inspector", 7, [7, 6]) == scope_key("inspector", 7, [6, 7])


# Bounds on what a phone can make the server hold ------------------------------------------

def test_merged_notes_keep_the_field_limit_and_mark_the_cut():
    merged = merge_text("base", "s" * 3000, "c" * 3000, 4000)
    assert len(merged) == 4000 and merged.startswith("s" * 3000) and merged.endswith("…")
    assert merge_text("", "s" * 3999, "client", 4000) == "s" * 3999  # no room even for a mark
    assert merge_text("", "server", "client", 4000) == "server\n\nclient"


def test_merged_checklists_and_photos_keep_their_limits_and_the_rest_stays_in_the_conflicts():
    limits = Limits(notes=4000, checklist=3, photos=2)
    server = BASE | {"checklist": {"a": True, "b": True}, "photos": [{"sha256": "s1"}, {"sha256": "s2"}]}
    client = {"checklist": {"c": True, "d": False}, "photos": [{"sha256": "c1"}]}
    merge = merge_update(BASE | {"checklist": {}, "photos": []}, server, {}, client, LATER, limits)
    assert merge.values["checklist"] == {"a": True, "b": True, "c": True}
    (over,) = [c for c in merge.conflicts if c.policy == "over_limit"]
    assert (over.field, over.client) == ("checklist.d", False)
    assert "photos" not in merge.values  # full: the server's two stay, nothing to write
    (union,) = [c for c in merge.conflicts if c.policy == "union"]
    assert union.client == [{"sha256": "c1"}]


def test_nesting_is_measured_without_recursion_and_named_by_its_keys():
    deep = None
    for _ in range(100_000):
        deep = [deep]
    assert too_deep({"data": {"checklist": {"a": deep}}}) == "data.checklist.a"
    assert too_deep({"device_id": deep}) == "device_id"
    assert too_deep({"data": {"photos": [{"sha256": "x"}]}}) is None
    assert without_lone_surrogates({"a": deep})["a"][0][0][0][0][0][0][0][0][0][0] == TOO_DEEP_MARK


def test_a_replay_is_the_same_op_only_with_the_same_data_whatever_its_key_order():
    landed = {"entity": "reports", "action": "create", "id": "r1", "base_version": None,
              "data": {"notes": "a", "office_state": "open"}}
    digest = op_digest(landed)
    reordered = landed | {"data": {"office_state": "open", "notes": "a"}}
    assert same_op("reports", "create", "r1", digest, reordered)
    assert not same_op("reports", "create", "r1", digest, landed | {"data": {"notes": "b", "office_state": "open"}})
    assert not same_op("reports", "update", "r1", digest, landed)
    assert not same_op("reports", "create", "r1", digest, landed | {"id": "r2"})
    assert same_op("reports", "create", "r1", None, landed | {"data": {}})  # landed before digests were kept


def test_a_gps_time_on_the_other_side_of_the_hours_makes_a_closure_weak_either_way():
    evidence = Evidence("closed", RECEIVED, "device", 0.0, RECEIVED, 20.0, 10.0)
    assert judge(evidence, True, "rule").flag == SOUND
    assert judge(evidence, True, "rule", gps_must_be_open=False).flag == WEAK
    assert judge(evidence, False, "rule", gps_must_be_open=True).flag == WEAK
    assert judge(evidence, False, "rule", gps_must_be_open=False).flag is None
