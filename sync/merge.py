"""The three-way merge of DESIGN §5.4: pure functions over plain report data.

A client `update` carries the fields it changed and the version it started from (the
base). When the server has moved on since the base, each field is merged against the
base, never by overwriting the record:

| field(s)                                  | both sides changed it since the base   |
|-------------------------------------------|----------------------------------------|
| office_id                                 | immutable: any change is rejected      |
| observed_at, gps_fix_at, location,        | the later edit wins (`latest_edit`)    |
| accuracy_m, office_state, staff_present   |                                        |
| checklist                                 | per item; an item both changed: later  |
| notes                                     | both texts kept, server's first        |
| photos                                    | three-way set union by sha256          |
| anything, on a locked report              | kept as an amendment, not applied      |
| delete of a changed or locked report      | refused, the report stays              |

"Later" compares edit times corrected by each push's clock skew, so a phone whose clock
runs fast cannot win every conflict. Ties go to the server (it was there first).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sync.report import FIELDS, IMMUTABLE, LATEST_EDIT, MERGE_TEXT, MERGEABLE_FIELDS, MERGED, PER_ITEM, UNION

# The policies of the table above are declared with the fields, in sync.report.FIELDS.
IMMUTABLE_FIELDS = tuple(f.name for f in FIELDS if f.merge == IMMUTABLE)
POLICY = {f.name: f.merge for f in FIELDS}
NOTES_SEPARATOR = "\n\n"
CUT_MARK = "…"  # ends merged notes cut to the field's limit (the whole text is in the conflict)


class ImmutableFieldChanged(ValueError):
    """The client tried to change a field fixed at creation (office_id)."""

    def __init__(self, field: str):
        super().__init__(f"{field} is fixed when a report is created")
        self.field = field


def check_immutable(server: dict, client: dict) -> None:
    """Raise ImmutableFieldChanged if the client changes a field fixed at creation: an
    unlocked report's update and a locked one's alike (the table above; an amendment is
    kept of a change the committee may weigh, not of one no report can take)."""
    for name in IMMUTABLE_FIELDS:
        if name in client and client[name] != server.get(name):
            raise ImmutableFieldChanged(name)


@dataclass(frozen=True)
class Conflict:
    field: str
    base: object
    server: object
    client: object
    resolved: object
    policy: str

    def as_dict(self) -> dict:
        return {"field": self.field, "base": self.base, "server": self.server, "client": self.client,
                "resolved": self.resolved, "policy": self.policy}


@dataclass
class Merge:
    """What to write: the new field values, their edit times, and the conflicts met."""

    values: dict = field(default_factory=dict)
    times: dict = field(default_factory=dict)  # field (or "checklist.item") -> edit instant
    conflicts: list[Conflict] = field(default_factory=list)


def _photo_key(photo) -> str:
    return photo["sha256"] if isinstance(photo, dict) else str(photo)


class Limits(dict):
    """The fields' own limits by name (characters, items, photos), which a merge keeps too:
    without them, N merges of one field in a push would grow it N times over (and the answer
    and the stored versions with the square of N). What does not fit is not lost: the
    client's whole value stays in the conflict."""

    def __init__(self, **most: int):
        super().__init__(most)


NO_LIMITS = Limits()
# The declared ones, which a push's merges keep.
DECLARED_LIMITS = Limits(**{f.name: f.most for f in FIELDS if f.merge in MERGED and f.most is not None})


def merge_update(base: dict, server: dict, server_times: dict, client: dict, client_time: datetime,
                 limits: Limits = NO_LIMITS) -> Merge:
    """Merge the fields a client changed (`client`) into the server's current state.

    `base` is the report as the client last saw it (the version it based its edit on),
    `server` the report now, `server_times` when each server field (and checklist item)
    was last edited, `client_time` when the client made its edit (skew-corrected).
    When base == server this simply applies the client's fields. Merged fields keep to
    `limits`: what does not fit stays in the conflict, whole.
    """
    check_immutable(server, client)
    merge = Merge()
    for name in MERGEABLE_FIELDS:
        if name not in client:
            continue
        b, s, c = base.get(name), server.get(name), client[name]
        server_changed = s != b
        policy = POLICY[name]
        if policy == PER_ITEM:
            _merge_items(merge, name, b or {}, s or {}, c or {}, server_times, client_time, limits.get(name))
        elif not server_changed or c == s:
            if c != s:
                merge.values[name] = c
                merge.times[name] = client_time
        elif c == b:
            continue  # only the server changed it: keep the server's value
        elif policy == LATEST_EDIT:
            client_wins = client_time > _time(server_times, name)
            resolved = c if client_wins else s
            if client_wins:
                merge.values[name] = c
                merge.times[name] = client_time
            merge.conflicts.append(Conflict(name, b, s, c, resolved, "latest_edit"))
        elif policy == MERGE_TEXT:
            resolved = merge_text(b or "", s or "", c or "", limits.get(name))
            if resolved != s:  # (a text with no room left keeps the server's: nothing to write)
                merge.values[name] = resolved
                merge.times[name] = max(client_time, _time(server_times, name))
            merge.conflicts.append(Conflict(name, b, s, c, resolved, "merge_text"))
        elif policy == UNION:
            resolved = merge_photos(b or [], s or [], c or [])[:limits.get(name)]
            if resolved != s:
                merge.values[name] = resolved
                merge.times[name] = max(client_time, _time(server_times, name))
            merge.conflicts.append(Conflict(name, b, s, c, resolved, "union"))
    return merge


NEVER = datetime.min.replace(tzinfo=UTC)


def _time(times: dict, key: str) -> datetime:
    return times.get(key) or NEVER


def _merge_items(merge: Merge, name: str, base: dict, server: dict, client: dict, server_times: dict,
                 client_time: datetime, most: int | None = None) -> None:
    result = dict(server)
    changed = False
    for item, c in client.items():
        b, s = base.get(item), server.get(item)
        key = f"{name}.{item}"
        if c == s:
            continue
        if item not in result and most is not None and len(result) >= most:
            # A new item past the checklist's limit: kept in the conflict, not in the report.
            merge.conflicts.append(Conflict(key, b, s, c, s, "over_limit"))
            continue
        if s == b or item not in server and item not in base:
            result[item] = c
            merge.times[key] = client_time
            changed = True
        elif c == b:
            continue
        else:
            client_wins = client_time > _time(server_times, key)
            resolved = c if client_wins else s
            if client_wins:
                result[item] = c
                merge.times[key] = client_time
                changed = True
            merge.conflicts.append(Conflict(key, b, s, c, resolved, "latest_edit"))
    # An item missing from the client's checklist is "not touched", not "removed": updates
    # carry what changed, and an answer once given is set to null rather than dropped.
    if changed:
        merge.values[name] = result


def merge_text(base: str, server: str, client: str, longest: int | None = None) -> str:
    """Both texts kept, the server's first. A client text that only appended to the base
    contributes just what it appended, so nothing is repeated.

    The result keeps to `longest` characters, the field's own limit: without it, N merges
    of one field in a push would grow it N times over (and the answer and the stored
    versions with the square of N). What is cut is not lost: the caller keeps the client's
    whole text in the conflict it records."""
    addition = client[len(base):].lstrip("\n") if base and client.startswith(base) else client
    if not addition or addition in server:
        return server
    merged = f"{server}{NOTES_SEPARATOR}{addition}" if server else addition
    if longest is None or len(merged) <= longest:
        return merged
    if len(server) + len(NOTES_SEPARATOR) + 1 >= longest:
        return server  # no room for even a mark: the client's text is all in the conflict
    return merged[:longest - 1] + CUT_MARK


def merge_photos(base: list, server: list, client: list) -> list:
    """Three-way set merge by sha256: removals on either side stick, additions on either side join."""
    in_base = {_photo_key(p) for p in base}
    removed_by_client = in_base - {_photo_key(p) for p in client}
    result = [p for p in server if _photo_key(p) not in removed_by_client]
    present = {_photo_key(p) for p in result}
    # A photo in the base that the server removed stays removed, even if the client kept it.
    result += [p for p in client if _photo_key(p) not in in_base and _photo_key(p) not in present]
    return result


def amendments(server: dict, client: dict) -> list[Conflict]:
    """A locked report takes nothing: each changed field becomes an amendment, kept aside."""
    return [Conflict(name, None, server.get(name), value, server.get(name), "locked_amendment")
            for name, value in client.items() if server.get(name) != value]
