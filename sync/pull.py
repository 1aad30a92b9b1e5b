"""The pull of DESIGN §5.1, the engine: the caller's scope, paged over the change feed by an
opaque cursor.

Each page is the next `limit` feed entries the caller may see, in sequence order (which is
commit order: app.services.changefeed), reduced to the latest entry per record; each record
comes with its current state and version. A record that leaves the caller's scope (an
office moved to another district) has a `deleted` entry scoped to where it was. A caller
whose own scope changed (reassigned districts) holds a cursor for another scope: the pull
then answers `reset: true` and pages the whole scope again from the start.

The engine works through a `Store` it is given (app/services/sync_pull.py holds the
SQLAlchemy one); it reads no config and opens no transaction.
"""

from datetime import datetime
from typing import Protocol

from sync.cursor import Cursor

ENTITIES = ("offices", "districts", "hours_rules", "holidays", "rounds", "reports")
INTEGER_IDS = ("districts",)  # a district's id is its number; every other record's a UUID


# A feed entry, as a tuple in this order (a SQLAlchemy Row is one): unpacked, not read by
# name, since a pull page is thousands of them.
Change = tuple[int, str, str, bool]  # seq, entity, entity_id, deleted


class Store(Protocol):
    def changes_after(self, after: int, limit: int) -> list[Change]:
        """Up to `limit` feed entries after `after` that the caller may see, in sequence order."""

    def records(self, entity: str, ids: list[str], seqs: list[int] | None = None) -> list:
        """These records' wire form as they are now (each a dict, or JSON already written that
        the answer carries as it is), leaving out any that has since left the caller's scope
        (its deletion entry follows in the feed). `seqs`: each record's latest feed entry
        here, which changes whenever the record does (a Store may keep records by it)."""


def pull(store: Store, scope_key: str, cursor_text: str | None, limit: int, now: datetime) -> dict:
    """One page. A cursor that does not decode raises sync.cursor.BadCursor."""
    after, reset = 0, False
    if cursor_text:
        cursor = Cursor.decode(cursor_text)
        if cursor.scope == scope_key:
            after = cursor.seq
        else:
            reset = True
    rows = store.changes_after(after, limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    last_seq = rows[-1][0] if rows else after
    return {"protocol": 1, "cursor": Cursor(last_seq, scope_key).encode(), "has_more": has_more, "reset": reset,
            "server_time": now, "changes": page(store, rows)}


def page(store: Store, rows: list[Change]) -> dict:
    """The records a page of feed entries names, each as it is now, or as deleted."""
    wanted, deleted = latest(rows)
    seq_of = {(entity, entity_id): seq for seq, entity, entity_id, _ in rows}  # the last entry per record wins
    out = {entity: {"upserted": [], "deleted": deleted[entity]} for entity in ENTITIES}
    for entity in ENTITIES:
        if wanted[entity]:
            out[entity]["upserted"] = store.records(entity, wanted[entity],
                                                    [seq_of[(entity, entity_id)] for entity_id in wanted[entity]])
    return out


def latest(rows: list[Change]) -> tuple[dict[str, list[str]], dict[str, list]]:
    """The ids of the records a page of feed entries names, by entity: those to send whole
    and those deleted, as the latest entry of each record says."""
    entries: dict[tuple[str, str], bool] = {}
    for _, entity, entity_id, gone in rows:  # in sequence order: the last entry per record wins
        entries[(entity, entity_id)] = gone
    wanted: dict[str, list[str]] = {entity: [] for entity in ENTITIES}
    deleted: dict[str, list] = {entity: [] for entity in ENTITIES}
    for (entity, entity_id), gone in entries.items():
        if gone:
            deleted[entity].append(int(entity_id) if entity in INTEGER_IDS else entity_id)
        else:
            wanted[entity].append(entity_id)
    return wanted, deleted
