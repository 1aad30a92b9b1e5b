"""WatermelonDB's sync protocol (DESIGN §5.8) over the one engine: the pull reads the feed
through sync.pull's store as `/api/v1/sync/pull` does, the push applies ops through sync.push
as `/api/v1/sync/push` does. What the dialect adds (an op id by content, the merge base from
the token's syncs, created or updated) is sync.watermelon_sync's; what it needs from the
database is here.

Every record a phone pushes comes back on its next pull as the server holds it: merged,
amended, refused (the quarantine keeps the phone's version), or kept when its delete lost
(`update_beats_delete`). WatermelonDB marks whatever it pushed as synced once the push
answers 2xx, so only a pull can bring it the server's truth.
"""

import uuid
from datetime import datetime

import orjson
from functools import cached_property

from app.database import utcnow
from app.errors import Problem
from app.repositories import ledger as ledger_repo
from app.repositories import reports as report_repo
from app.repositories import watermelon as repo
from app.services import changefeed, end_read, unit_of_work
from app.services.accounts import Bearer
from app.services.sync_pull import SqlPullStore
from app.services.sync_store import SqlStore
from app.services.seed import DISTRICT_COUNT
from app.services.visibility import Visibility
from schemas.hours import HolidaySchema, HoursRuleSchema
from schemas.input import UNSTORABLE, unstorable
from schemas.places import DistrictSchema, OfficeSchema
from schemas.rounds import RoundSchema
from schemas.watermelon import raw_writer
from sync import push as engine
from sync import pull as feed
from sync.evidence import clock_skew_s
from sync.watermelon import to_raw
from sync.watermelon_sync import (NAMESPACE, PUSHABLE, canonical_uuid, Mark, Pushed, as_op, base_position, edit_time_on_server,
                                  position_of, read_push, timestamp_of)

MAX_RECORDS = 2_000  # per push: a week offline is a few hundred reports
PULL_CHUNK = 500  # records read and written at a time
RAW_WRITERS = {"offices": raw_writer(OfficeSchema()), "districts": raw_writer(DistrictSchema(), "number"),
               "hours_rules": raw_writer(HoursRuleSchema()), "holidays": raw_writer(HolidaySchema()),
               "rounds": raw_writer(RoundSchema()), "reports": to_raw}


def device_of(token: Bearer) -> uuid.UUID:
    """The device a token's pushes come from: the one it logged in with, else one of its own."""
    return token.device_id or uuid.uuid5(NAMESPACE, f"token:{token.id}")


def _districts_text(visibility: Visibility) -> str:
    return "*" if visibility.districts is None else ",".join(map(str, sorted(visibility.districts)))


def _districts_of(text: str) -> frozenset[int] | None:
    return None if text == "*" else frozenset(int(d) for d in text.split(",") if d)


# ---------------------------------------------------------------- pull


def pull(token: Bearer, last_pulled_at: int | None, all_as_updated: bool = False,
         migrated: bool = False) -> bytes:
    """The answer's JSON. Written a chunk of records at a time: a first sync is the whole scope
    in one answer (the protocol has no pages), and holding every record of it as objects
    at once cost some 9 KB a report, against some 1 KB of JSON."""
    user, now = token.user, utcnow()
    visibility = Visibility.of(user)
    known = position_of(last_pulled_at)
    held_scope = _held_scope(token, known, visibility)
    # The whole scope again for a phone whose districts changed, whose position this server
    # does not know, or whose schema gained tables or columns to fill (`migration`); the
    # places it no longer covers are named deleted (§5.1 answers `reset`; WatermelonDB has
    # no reset, so the server names what to drop).
    after = known if held_scope is _SAME and not migrated else 0
    store = SqlPullStore(user)
    wanted, deleted = feed.latest(store.latest_changes(after))
    # Never back from a position this server answered (WatermelonDB would only log it); a
    # position it never answered is not kept, or every change below it would be skipped.
    position = store.last_seq if held_scope is None else max(known, store.last_seq)
    if held_scope is not _SAME:
        before = _all_districts() if held_scope is None else held_scope
        gone = frozenset() if visibility.districts is None else before - visibility.districts
        for entity, ids in repo.places_in(gone).items():
            deleted[entity] = list(dict.fromkeys([*map(str, deleted[entity]), *ids]))
    tables = []
    for entity in feed.ENTITIES:
        created, updated = [], []  # JSON pieces, a chunk's records each (orjson's bytes of one record hold 4 KB)
        for chunk in _chunks(wanted[entity], PULL_CHUNK):
            raws = [RAW_WRITERS[entity](record) for record in store.records(entity, chunk)]
            may_hold = None if all_as_updated else _may_hold(token, entity, raws, known, held_scope)
            new = [raw for raw in raws if may_hold is not None and raw["id"] not in may_hold]
            known_raws = raws if may_hold is None else [raw for raw in raws if raw["id"] in may_hold]
            created += [orjson.dumps(new)[1:-1]] if new else []
            updated += [orjson.dumps(known_raws)[1:-1]] if known_raws else []
        tables.append(b'"%s":{"created":[%s],"updated":[%s],"deleted":%s}' % (
            entity.encode(), b",".join(created), b",".join(updated),
            orjson.dumps([str(i) for i in deleted[entity]])))
    # The read is over before the write: a deferred SQLite read that then writes fails at once
    # when another writer committed meanwhile, and a first sync reads for a while. (The
    # write must read nothing first: the read's objects are expired by its end.)
    record = {"token_id": token.id, "kind": "pull", "sent": known if last_pulled_at else None,
              "answered": position, "districts": _districts_text(visibility), "at": now}
    end_read()
    with unit_of_work():
        repo.add_sync(record)
    return b'{"changes":{%s},"timestamp":%d}' % (b",".join(tables), timestamp_of(position))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


_SAME = object()  # the phone's scope has not changed (or is not known to have)


def _held_scope(token: Bearer, known: int, visibility: Visibility):
    """The districts of the pull that gave the phone its position, if they are not the
    caller's now (None: the whole city, or not known); else _SAME."""
    if not known:
        return _SAME
    previous = repo.pull_answered(token.id, token.user_id, known)
    if previous is None:
        return None  # a position no pull of this user answered (another server, a restored database)
    if previous.districts == _districts_text(visibility):
        return _SAME
    return _districts_of(previous.districts)


def _all_districts() -> frozenset[int]:
    return frozenset(range(1, DISTRICT_COUNT + 1))


def _may_hold(token: Bearer, entity: str, raws: list[dict], known: int, held_scope) -> set[str]:
    """The records of a pull the phone may already hold: those on the feed by its position
    (and in its former districts, after its scope changed), and the reports it made itself,
    unless its own delete of one was refused (it destroyed it then: it must be created again)."""
    if not raws:
        return set()
    ids = [raw["id"] for raw in raws]
    held = repo.seen_by(entity, ids, known)
    if held_scope is not _SAME and held_scope is not None and entity in ("offices", "rounds", "districts"):
        key = "number" if entity == "districts" else "district"
        held -= {raw["id"] for raw in raws if raw.get(key) not in held_scope}
    if entity == "reports":
        report_ids = [uuid.UUID(i) for i in ids]
        device = device_of(token)
        held |= {str(i) for i in repo.reports_from_device(report_ids, device)}
        landed = repo.last_landed(token.user_id, device, report_ids)
        held -= {str(i) for i, (action, *_) in landed.items() if action == "delete"}
    return held


# ---------------------------------------------------------------- push


def push(token: Bearer, last_pulled_at: int, body: dict, arrived_at: datetime | None = None) -> dict:
    """`arrived_at`: when the request's first bytes were there, which the clock skew is
    measured from (as `sync_push.push`'s)."""
    user, received_at = token.user, utcnow()
    pushed_from = position_of(last_pulled_at)
    count = sum(len(records) for sets in body["changes"].values() for records in sets.values())
    if count > MAX_RECORDS:  # counted before any record is read
        raise Problem("payload-too-large", f"{count} records in one push; send at most {MAX_RECORDS}.")
    records = read_push(user.id, body["changes"], pushed_from)
    visibility = Visibility.of(user)
    sent_at = body.get("sent_at")
    # Unknown without `sent_at` (§5.8's body is `changes` alone): no correction, and no
    # edit time believed for the merge base.
    skew = clock_skew_s(arrived_at or received_at, sent_at) if sent_at is not None else None
    device = device_of(token)
    ctx = engine.Push(user.id, visibility.covers, device, received_at, skew or 0.0)
    with unit_of_work() as session:
        changefeed.lock(visibility.districts)
        plan = _Plan(token, visibility, device, records, pushed_from, skew, received_at)
        store = _PlannedStore(session, plan)
        results = [engine.refuse(store, ctx, {"entity": p.table, "action": p.kind, "record": p.raw or p.id},
                                 str(p.op_id), errors) for p, errors in plan.refused]
        landed = engine.apply_all(store, ctx, [op for _, op in plan.ops])
        results += landed
        changefeed.record_many(plan.resend(landed, received_at) + _owned_truth(plan.refused, visibility, received_at))
        repo.add_sync({"token_id": token.id, "kind": "push", "sent": None, "answered": pushed_from,
                       "districts": _districts_text(visibility), "at": received_at})
    return {"results": [_brief(r) for r in results], "replayed": plan.replayed}


class _PlannedStore(SqlStore):
    """The push's store, answering two lookups the engine makes of every new report from what
    the plan read already, in the same transaction under the same locks: which op ids
    landed before, which reports exist."""

    def __init__(self, session, plan: "_Plan"):
        super().__init__(session)
        self.plan = plan

    def landed_op_ids(self, op_ids: set) -> set:
        return op_ids & self.plan.landed_ops

    def existing_report_ids(self, report_ids: set) -> set:
        return report_ids & self.plan.reports.keys()


class _Plan:
    """What each pushed record becomes: an op for the engine, a refusal, or nothing (a replay
    of what already landed, the delete of a report the server never had)."""

    def __init__(self, token: Bearer, visibility: Visibility, device: uuid.UUID, records: list[Pushed],
                 pushed_from: int, skew: float | None, received_at: datetime):
        user_id = token.user_id
        self.user_id, self.skew, self.received_at, self.pushed_from = user_id, skew, received_at, pushed_from
        # Where a refused create's `deleted` is put on the feed for the phone to see it: an
        # inspector sees their own reports anywhere, a head those of their districts.
        self.refusal_district = (None if visibility.author_id is not None or visibility.districts is None
                                 else min(visibility.districts, default=None))
        self.refused: list[tuple[Pushed, dict]] = []
        self.ops: list[tuple[Pushed, dict]] = []
        self.replayed = 0
        self.landed_ops = landed_ops = ledger_repo.existing_op_ids({p.op_id for p in records})
        report_ids = {p.as_uuid for p in records if p.table == PUSHABLE and not p.errors} - {None}
        self.reports = {r.id: r for r in report_repo.reports_by_ids(report_ids)}
        self.before = {i: r.version for i, r in self.reports.items()}  # the engine raises them
        self.own_landed = repo.last_landed(user_id, device, [i for i, r in self.reports.items()
                                                             if r.author_id == user_id])
        self.token_id = token.id
        self._versions_at: dict[int, dict] = {}
        for p in records:
            if p.table != PUSHABLE:
                self.refused.append((p, {"table": [f"Only reports may be pushed; {_shown(p.table)} are the "
                                                   "server's. The next pull sends them as the server holds them."]}))
            elif p.errors:
                self.refused.append((p, p.errors))
            elif p.op_id in landed_ops:
                self.replayed += 1  # a lost answer: the same record again changes nothing
            elif (op := self._op(p)) is not None:
                self.ops.append((p, op))

    def _op(self, p: Pushed) -> dict | None:
        report = self.reports.get(p.as_uuid)
        if p.kind == "deleted":
            if report is None or (report.author_id == self.user_id and report.deleted_at is not None):
                return None  # never reached the server, or already deleted: nothing to do
            return as_op(p, "delete", self._base(report, None), self.received_at, self.skew or 0.0)
        if report is None or (p.kind == "created" and not p.changed):
            # New; `updated` for a report the server lacks (all of it, as a create); or a
            # create sent again with no edit since (answered as a duplicate).
            return as_op(p, "create", None, self.received_at, self.skew or 0.0)
        edit_time = edit_time_on_server(p, self.skew, self.received_at)
        return as_op(p, "update", self._base(report, edit_time), self.received_at, self.skew or 0.0)

    @cached_property
    def marks(self) -> list[Mark]:
        """The token's syncs, read only for a record the server already holds: a push of new
        reports, the most common, needs no merge base."""
        return [Mark(s.kind, s.sent, s.answered, s.at) for s in repo.syncs(self.token_id)]

    def _base(self, report, edit_time) -> int:
        """The version the phone's edit was made on: the latest of what its pulls had brought
        by then and what it had pushed itself."""
        position = base_position(self.marks, edit_time, self.pushed_from)
        if position not in self._versions_at:
            self._versions_at[position] = repo.report_versions_at(list(self.reports), position)
        candidates = [self._versions_at[position].get(report.id), self._own_version(report.id)]
        known = [v for v in candidates if v]
        return min(max(known), self.before[report.id]) if known else 1

    def _own_version(self, report_id) -> int | None:
        """The version the phone held after its own last landed op on the report: the one its
        create made; the one its update made when that update made it and was based on the
        version just before (else the update merged in what the phone never saw, or changed
        nothing: its base is what the phone held, with its own edits on top)."""
        action, version, base, made = self.own_landed.get(report_id, (None, None, None, False))
        if action == "create":
            return 1
        if action == "update" and version is not None:
            return version if made and base == version - 1 else base
        return None

    def resend(self, results: list[dict], at: datetime) -> list[dict]:
        """Feed rows for every pushed report whose push put no new version on the feed, so
        that the next pull brings the server's truth (a refused create: deleted)."""
        rows = []
        for (p, _), result in zip(self.ops, results):
            report_id = p.as_uuid
            if report_id is None:
                continue
            raised = result.get("status") in ("applied", "merged") and result.get("version", 0) > self.before.get(
                report_id, 0)
            if not raised:
                rows.append(self._truth(p, report_repo.get_report(report_id), at))
        # A report refused before it was an op (its id no UUID as the server writes one) is
        # named `deleted` where its id can be stored: the phone must drop what it holds.
        return rows + [self._truth(p, None, at) for p, _ in self.refused if p.table == PUSHABLE
                       and isinstance(p.id, str) and 0 < len(p.id) <= 36 and unstorable(p.id) is None]

    def _truth(self, p: Pushed, report, at: datetime) -> dict:
        """The feed row that sends the phone the server's truth about a report it pushed:
        the report as it is (whoever's: a head edits their inspectors'), or `deleted` for
        one the server does not hold (never a deletion of a report that exists: it would drop
        it from everyone's view)."""
        if report is None:
            return {"entity": "reports", "entity_id": str(p.id), "district": self.refusal_district,
                    "user_id": self.user_id, "deleted": True, "at": at, "version": None}
        return {"entity": "reports", "entity_id": str(report.id), "district": report.district,
                "user_id": report.author_id, "deleted": report.deleted_at is not None, "at": at,
                "version": report.version}


def _owned_truth(refused: list[tuple[Pushed, dict]], visibility: Visibility, at: datetime) -> list[dict]:
    """Feed rows for the refused records of the tables the server owns that it holds within
    the caller's scope, so that the next pull sends them as they are: the phone marked its
    own version synced. Every phone of that scope gets them again, unchanged. One the server
    lacks (an office the phone made up) has no row the phone could see: it stays there."""
    keys: dict[str, set] = {}
    for p, _ in refused:
        if p.table in repo.OWNED and (key := _key(p.table, p.id)) is not None:
            keys.setdefault(p.table, set()).add(key)
    return [{"entity": entity, "entity_id": str(key), "district": district, "user_id": None, "deleted": False,
             "at": at, "version": None}
            for entity, wanted in keys.items() for key, district in repo.owned_districts(entity, wanted).items()
            if district is None or visibility.covers(district)]


def _key(entity: str, value) -> int | uuid.UUID | None:
    """A pushed id as the key of a table the server owns (a district's is its number)."""
    if not isinstance(value, str):
        return None
    if entity in feed.INTEGER_IDS:
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 2 else None
    return canonical_uuid(value)


def _shown(name: str) -> str:
    """A table's name as a message can carry it (storable, and short)."""
    return UNSTORABLE.sub("\ufffd", name)[:64]


def _brief(result: dict) -> dict:
    """A result as the push answers it (WatermelonDB reads none of it; people and tests do)."""
    brief = {k: result[k] for k in ("op_id", "id", "status", "version", "errors", "reason") if k in result}
    if result.get("conflicts"):
        brief["conflicts"] = [{"field": c["field"], "policy": c["policy"]} for c in result["conflicts"]]
    return brief
