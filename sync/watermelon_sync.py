"""The same engine in WatermelonDB's protocol (DESIGN §5.8): the dialect's rules, no database.

WatermelonDB's `synchronize()` pulls, saves the new position, and only then pushes every
record the phone changed, as whole raw records with `_status` and `_changed`; it carries no
op id and no base version, and it ignores the push's answer. So the server works out from
what it remembers of the phone (its token's syncs, `Mark`) and from the records themselves
what §5.2's engine needs:

- **An op id, by content** (`op_id_of`): the same record sent again (a lost answer: the
  next sync pulls, then pushes the very same `_changed` columns, values and `updated_at`)
  names the same op, which the ledger already holds: it changes nothing.
- **The merge base** (`base_position`): the feed position the phone held when it made the
  edit. Not the push's `last_pulled_at`: that pull, made just before the push, may have
  brought another phone's edit, and WatermelonDB kept its own columns over it; taken as the
  base it would make the other phone's edit look like the base and drop it. Each pull is
  remembered with its time; an edit (`updated_at`, corrected by the push's clock skew) was
  made on what the last pull before it brought. Where the edit time is unknown, the
  position is the one held before the first pull since the token's last landed push (a
  failed push is followed by a pull that already holds the other phone's edit). Where in
  doubt the older position is taken: an older base can keep a text twice (both kept,
  §5.4's `merge_text`), a newer one can drop a person's edit.
- **Created or updated** on a pull (app/services/sync_watermelon.py): a record the phone
  may hold goes under `updated`; `created` would resurrect a report whose delete the phone
  has yet to push.

A feed position `p` is sent as `timestamp` p + 1: WatermelonDB takes only a number above 0
as a position, and an empty feed is at 0.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from schemas.input import without_lone_surrogates
from sync.report import FIELDS
from sync.watermelon import EARLIEST_MS, LATEST_MS, raw_columns, to_data

NAMESPACE = uuid.UUID("5d9b3f7a-2c14-4e8f-9a61-0b7d3c2e1f48")
PUSHABLE = "reports"
KINDS = ("created", "updated")
CLIENT_COLUMNS = ("id", *(column for f in FIELDS for column in raw_columns(f.name)))


def position_of(timestamp: int | None) -> int:
    """The feed position a WatermelonDB `last_pulled_at` stands for (None and 0: nothing yet)."""
    return 0 if not timestamp else timestamp - 1


def timestamp_of(position: int) -> int:
    return position + 1


@dataclass(frozen=True)
class Mark:
    """One sync of a token: a pull from `sent` (None: the first) answered at `answered`, or a
    landed push made from `answered`."""

    kind: str  # pull | push
    sent: int | None
    answered: int
    at: datetime


def base_position(marks: list[Mark], edit_time: datetime | None, pushed_from: int) -> int:
    """The feed position the phone held when it made an edit, from its token's syncs in the
    order they happened (the last, the pull this push follows, answered at `pushed_from`).

    A pull counts only once the phone is known to have applied it: its next request came
    from the position it answered (the push of the same sync, or the next pull). Its
    answer may have been lost, or applied minutes after it was sent on a slow line; an
    edit made between the answer and that next request may or may not have seen it, and
    is given the position before it."""
    pulls = [i for i, m in enumerate(marks) if m.kind == "pull"]
    # The pull of this very sync came after every edit it pushes: its edits were made on
    # what the phone held before it.
    this_sync = next((marks[i] for i in reversed(pulls) if marks[i].answered == pushed_from), None)
    ceiling = pushed_from if this_sync is None else (this_sync.sent or 0)
    if edit_time is not None:
        held = [marks[i].answered for i in pulls if (at := _applied_by(marks, i)) is not None and at <= edit_time]
        oldest = (marks[pulls[0]].sent or 0) if pulls else ceiling
        return min(held[-1] if held else oldest, ceiling)
    last_push = max((i for i, m in enumerate(marks) if m.kind == "push"), default=-1)
    since = [m for m in marks[last_push + 1:] if m.kind == "pull"]
    return min(since[0].sent or 0, ceiling) if since else ceiling


def _applied_by(marks: list[Mark], index: int) -> datetime | None:
    """When the phone had surely applied pull `index`: its next request from that position."""
    answered = marks[index].answered
    for m in marks[index + 1:]:
        if (m.kind == "pull" and m.sent == answered) or (m.kind == "push" and m.answered == answered):
            return m.at
    return None


# ---------------------------------------------------------------- a push, read


@dataclass
class Pushed:
    """One record of a push, as read: what it is, and the op data it carries."""

    table: str
    kind: str  # created | updated | deleted
    id: object  # as sent: a string, unless the phone is broken
    raw: dict | None = None
    # The columns `_changed` names: an update's, and a create's edited since it was made (one
    # whose push's answer was lost and that the phone edited before sending it again).
    changed: set[str] | None = None
    edit_time: datetime | None = None  # `updated_at` (else `created_at`), on the phone's clock
    op_id: uuid.UUID | None = None
    as_uuid: uuid.UUID | None = None  # `id`, if it is a UUID written as the server writes one
    errors: dict = field(default_factory=dict)  # why it cannot be an op at all


def read_push(user_id: int, changes: dict, pushed_from: int) -> list[Pushed]:
    """Every record of a push's `changes`, in WatermelonDB's order (tables as sent; in each,
    created, updated, deleted). Nothing here trusts the record: each is checked by the
    engine's schemas once it is an op."""
    out = []
    for table, sets in changes.items():
        for kind in (*KINDS, "deleted"):
            for item in sets.get(kind) or ():
                out.append(_read(user_id, table, kind, item, pushed_from))
    return out


def _read(user_id: int, table: str, kind: str, item, pushed_from: int) -> Pushed:
    if kind == "deleted":
        # A delete carries nothing but the id: a delete sent again after its answer was lost
        # follows another pull, so the push's position tells a new delete (the report came
        # back because the first one lost, and was deleted again) from the same one sent twice.
        pushed = Pushed(table, kind, item, as_uuid=canonical_uuid(item))
        if not isinstance(item, str):
            pushed.errors = {"id": ["A deleted record is named by its id, a string."]}
        pushed.op_id = _content_id(user_id, table, kind, item, None, pushed_from)
        return pushed
    if not isinstance(item, dict):
        return Pushed(table, kind, None, errors={"record": ["Each record must be a JSON object."]},
                      op_id=_content_id(user_id, table, kind, None, item, None))
    changed = _changed(item.get("_changed"))
    # WatermelonDB stamps `updated_at` on every edit of a model that has it: the edit's time.
    # A create's time is `created_at` too; an update with no `updated_at` has none.
    stamp = item.get("updated_at") if _is_ms(item.get("updated_at")) else None
    created = item.get("created_at") if kind == "created" and _is_ms(item.get("created_at")) else None
    edit_ms = stamp if stamp is not None else created
    pushed = Pushed(table, kind, item.get("id"), item, changed,
                    None if edit_ms is None else datetime.fromtimestamp(edit_ms / 1000, UTC))
    pushed.as_uuid = canonical_uuid(pushed.id)
    if pushed.as_uuid is None:
        pushed.errors = {"id": ["A report's id must be a UUID in lower case with hyphens (crypto.randomUUID()): "
                                "set WatermelonDB's id generator to it (setGenerator)."]}
    # The columns the record carries and their values, plus its edit time: a replay of the
    # same record is the same op; the phone's next edit of it is another. (A create edited
    # since it was made carries its edited columns; another phone's change to the others,
    # pulled in between, must not make its replay look new.) With no edit time, a value set
    # back to an earlier one would look like its own replay: the push's position is taken
    # instead, and a replay then merges again (a text kept twice, never an edit lost).
    columns = CLIENT_COLUMNS if kind == "created" and not changed else sorted(changed)
    carried = {c: item.get(c) for c in columns}
    pure_create = kind == "created" and not changed
    pushed.op_id = _content_id(user_id, table, kind, pushed.id, carried,
                               stamp if stamp is not None else created if pure_create else f"@{pushed_from}")
    return pushed


def canonical_uuid(value) -> uuid.UUID | None:
    """`value` as a UUID if it is one written as the server writes it, else None."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return parsed if str(parsed) == value else None


def _changed(value) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {column.strip() for column in value.split(",") if column.strip()}


def _is_ms(value) -> bool:
    return type(value) in (int, float) and EARLIEST_MS <= value <= LATEST_MS


def _content_id(user_id: int, table: str, kind: str, record_id, carried, edit_ms) -> uuid.UUID:
    payload = [user_id, table, kind, record_id, carried, edit_ms]
    try:
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:  # what orjson refuses (a lone surrogate, a huge integer, deep nesting)
        text = json.dumps(without_lone_surrogates(payload), sort_keys=True, default=str).encode()
    return uuid.uuid5(NAMESPACE, hashlib.sha256(text).hexdigest())


def as_op(pushed: Pushed, action: str, base_version: int | None, received_at: datetime, skew_s: float) -> dict:
    """The §5.2 op a pushed report becomes: a `create` takes every client column, an
    `update` those `_changed` names, a `delete` none."""
    changed_at = (pushed.edit_time or received_at - timedelta(seconds=skew_s)).isoformat()
    op = {"op_id": str(pushed.op_id), "entity": "reports", "action": action, "id": pushed.id,
          "base_version": base_version, "changed_at": changed_at}
    if action != "delete":
        op["data"] = to_data(pushed.raw, None if action == "create" else pushed.changed)
    return op


def edit_time_on_server(pushed: Pushed, skew_s: float | None, received_at: datetime) -> datetime | None:
    """The record's edit time on the server's clock (the phone's plus the push's skew), if
    it can be believed: the push said when it was sent (`sent_at`), and the edit is not
    later than the push's arrival."""
    if pushed.edit_time is None or skew_s is None:
        return None
    edited = pushed.edit_time + timedelta(seconds=skew_s)
    return edited if edited <= received_at else None
