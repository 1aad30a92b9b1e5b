"""The push of DESIGN §5.2, the engine: ops in order, each alone, nothing lost or doubled.

The engine works through a `Store` it is given (app/services/sync_store.py is the
SQLAlchemy one): it never opens a transaction, reads Flask's config or names a model. The
caller holds the push's one transaction and the change-feed lock; each op runs in a
savepoint of it, so a bad op rolls back alone and is quarantined while the others land.
Every landed op is written to the ledger in its savepoint with its effect: a replay (a lost
response, a retry, the same push sent twice at once) finds it there and answers
`duplicate` with the record as it now is.
"""

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from types import SimpleNamespace
from typing import Protocol

import marshmallow as ma
import orjson

from app.hours import calendar
from geo.distance import metres
from geo.geometry import lon_lat
from schemas.input import UNSTORABLE, without_lone_surrogates
from schemas.messages import flatten_messages
from schemas.sync import (OfficeCorrectionSchema, OpSchema, ReportCreateSchema, ReportUpdateSchema,
                          load_plain_creates, write_report)
from sync.evidence import corrected_edit_time, evidence_time
from sync.merge import DECLARED_LIMITS, Conflict, ImmutableFieldChanged, amendments, check_immutable, merge_update
from sync.replay import op_digest, same_op
from sync.canonical import canonical, canonical_of, columns_from_canonical, columns_from_loaded, iso_text
from sync.report import BY_NAME, IMMUTABLE, MERGEABLE_FIELDS

log = logging.getLogger(__name__)
# Schemas are built once: building one deep-copies its fields, which costs more than a load.
OP_SCHEMA = OpSchema()
REPORT_CREATE_SCHEMA = ReportCreateSchema()
REPORT_UPDATE_SCHEMA = ReportUpdateSchema()
# A locked report keeps what its author sends as amendments while it holds fewer than this
# many and less than this much text: each is a whole field's value, and every push result
# and pull carries them, so without a bound one push could grow a report, and its own
# answer with the square of its size. The bound is on what the report already holds, so
# any one legal op lands while there is room (one op can bring some 36,000 characters: 50
# captioned photos and 4,000 of notes); past it, an op is refused and kept in quarantine,
# where the committee sees it. Every amendment is also a stored conflict (sync_conflicts).
MAX_AMENDMENTS = 50
MAX_AMENDMENTS_CHARS = 64_000  # of their JSON


class Store(Protocol):
    """What the engine needs of the database, within the caller's transaction. Reports and
    offices are objects with the columns as attributes; rows are dicts of columns."""

    def savepoint(self): ...  # an object with commit() and rollback()
    def is_fatal(self, error: Exception) -> bool: ...  # must the whole push roll back (the database is away)?
    def flush(self) -> None: ...  # pending changes to reports, before rows that refer to them
    def overlapping(self): ...  # a context in which the bulk inserts may return before the database is done

    def ledger_entry(self, op_id: uuid.UUID): ...
    def landed_op_ids(self, op_ids: set) -> set: ...
    def existing_report_ids(self, report_ids: set) -> set: ...
    def office(self, office_id: uuid.UUID): ...
    def offices(self, office_ids: set) -> list: ...
    def round_stops(self, round_ids: set) -> dict: ...  # round id -> {(office id, Jalali day)}
    def missing_photos(self, sha256s: Iterable[str], author_id: int) -> set: ...
    def report(self, report_id: uuid.UUID, *, lock: bool = False): ...
    def base_of(self, report, version: int) -> dict | None: ...
    def correction(self, correction_id: uuid.UUID) -> dict | None: ...

    def new_report(self, row: dict): ...  # a new report as an object, not yet added
    def add_report(self, report) -> None: ...
    def insert_reports(self, rows: list[dict]) -> list: ...  # each row's record as it was stored ...
    def written_record(self, written, missing: list[str]): ...  # ... as an answer's record, with its photos pending
    def insert_versions(self, rows: list[dict]) -> None: ...
    def record_changes(self, rows: list[dict]) -> None: ...  # the change feed
    def insert_conflicts(self, rows: list[dict]) -> None: ...
    def insert_ledger(self, rows: list[dict]) -> None: ...
    def quarantine(self, row: dict) -> None: ...
    def add_correction(self, row: dict) -> None: ...

    # Judging (DESIGN §6): sets a landing report's flags, violation_id and locked, and
    # opens or joins its case.
    def cases_for(self, days: set[tuple]) -> dict: ...
    def file_report(self, report, office, cases: dict | None = None) -> None: ...


@dataclass(frozen=True)
class Push:
    """Who pushes, from where and when: what every op of one push shares."""

    author_id: int
    covers: Callable[[int], bool]  # may this author report in this district?
    device_id: uuid.UUID
    received_at: datetime
    skew_s: float


class OpRejected(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _reject(field: str, message: str) -> OpRejected:
    return OpRejected({field: [message]})


# ---------------------------------------------------------------- the push


def apply_all(store: Store, ctx: Push, ops: list) -> list[dict]:
    """Apply ops in order, and answer each. New reports that need nothing from the database
    but an insert (the common case: a phone's day of reports) are written together, in one
    savepoint, with a few multi-row INSERTs; if that fails they are replayed one by one.
    Everything else goes through `_apply_one`, an op at a time."""
    engine = _Engine(store, ctx)
    fast = _FastCreates(engine, ops)
    results: list = [None] * len(ops)
    for index, raw in enumerate(ops):
        if fast.take(index, raw):
            continue
        fast.flush(results)
        results[index] = engine.apply_one(raw)
    fast.flush(results)
    return results


def refuse(store: Store, ctx: Push, raw, op_id, errors: dict[str, list[str]]) -> dict:
    """Quarantine what cannot be an op at all (a dialect's record that names no report, a
    table no phone may write), as a refused op is: kept with its payload and reasons."""
    return _Engine(store, ctx).quarantine(raw, op_id, errors)


class _Engine:
    def __init__(self, store: Store, ctx: Push):
        self.store, self.ctx = store, ctx

    def apply_one(self, raw) -> dict:
        op_id = raw.get("op_id") if isinstance(raw, dict) else None
        savepoint = self.store.savepoint()
        try:
            result = self._dispatch(raw)
            savepoint.commit()
            return result
        except OpRejected as rejected:
            savepoint.rollback()
            return self.quarantine(raw, op_id, rejected.errors)
        except Exception as error:  # noqa: BLE001  (no single op may turn a push into a 500)
            if self.store.is_fatal(error):
                raise  # the whole push is rolled back and answered 503: the phone sends it again
            log.exception("op %s could not be applied", op_id)
            savepoint.rollback()
            return self.quarantine(raw, op_id, {"op": ["The server could not apply this op; it was not "
                                                        "applied and is kept in quarantine."]})

    def _dispatch(self, raw) -> dict:
        if not isinstance(raw, dict):
            raise _reject("op", "Each op must be a JSON object.")
        try:
            op = OP_SCHEMA.load(raw)
        except ma.ValidationError as exc:
            raise OpRejected(flatten_messages(exc.messages)) from exc
        entry = self.store.ledger_entry(op["op_id"])
        if entry is not None:
            return self._duplicate(entry, op)
        handler = {("reports", "create"): self._create_report, ("reports", "update"): self._update_report,
                   ("reports", "delete"): self._delete_report,
                   ("office_corrections", "create"): self._create_correction}[(op["entity"], op["action"])]
        return handler(op)

    def quarantine(self, raw, op_id, errors: dict) -> dict:
        entity = raw.get("entity") if isinstance(raw, dict) else None
        action = raw.get("action") if isinstance(raw, dict) else None
        # Kept and echoed as sent, but for lone surrogates (U+FFFD instead), which no UTF-8
        # column or answer can carry.
        raw, op_id = without_lone_surrogates(raw), without_lone_surrogates(op_id)
        self.store.quarantine({"op_id": _label(op_id, 64) or "", "user_id": self.ctx.author_id,
                               "device_id": self.ctx.device_id, "entity": _label(entity, 30),
                               "action": _label(action, 10), "payload": raw, "errors": errors,
                               "received_at": self.ctx.received_at})
        return {"op_id": op_id, "status": "rejected", "errors": errors}

    def _duplicate(self, entry, op: dict) -> dict:
        """A replay of a landed op: answered as it now is, if it is the same op."""
        if entry.user_id != self.ctx.author_id:
            raise _reject("op_id", "This op_id was already used by someone else; make a new one.")
        if not same_op(entry.entity, entry.action, entry.entity_id, entry.digest, op):
            raise _reject("op_id", f"This op_id already landed with another op ({entry.entity} {entry.action} of "
                                   f"{entry.entity_id}); a replay must be the same op. Give a new op a new op_id.")
        out = {"op_id": entry.op_id, "status": "duplicate", "id": entry.entity_id, **entry.result}
        if entry.entity == "reports":
            report = self.store.report(entry.entity_id)
            # A client with edits waiting on this op needs the version it made, not the one
            # the report has reached since (another phone's edit): they are based on the former.
            out["op_version"] = entry.version
            out["version"] = report.version
            missing = self._missing(report)
            out["record"] = write_report(report, missing)
            # The photos still to send and the flags as they are now, as the record says (a
            # photo sent since the op landed is not asked for again); its conflicts stay those
            # the op met.
            if "missing_attachments" in out:
                out["missing_attachments"] = sorted(missing)
                out["flags"] = list(report.flags)
        return out

    def _missing(self, report) -> set[str]:
        """The report's photos its author has not sent; none for a deleted report, which waits
        for no photo (no query for them)."""
        if report.deleted_at is not None:
            return set()
        return self.store.missing_photos((p["sha256"] for p in report.photos), report.author_id)

    def _record(self, report) -> dict:
        return write_report(report, self._missing(report))

    # ------------------------------------------------------------ reports

    def _create_report(self, op: dict) -> dict:
        data = _load(REPORT_CREATE_SCHEMA, op)
        existing = self.store.report(op["id"])
        if existing is not None:
            if existing.author_id != self.ctx.author_id:
                raise _reject("id", "A report with this id exists and is not yours; make a new id.")
            # A create for an id that exists is never a second report.
            self.store.insert_ledger([self.ledger_row(op, "duplicate", existing.version, {})])
            return {"op_id": op["op_id"], "status": "duplicate", "id": existing.id, "version": existing.version,
                    "record": self._record(existing)}
        office = self.office_in_scope(data["office_id"])
        (distance,) = _distances([(office, data["location"])])
        report = self.store.new_report(self.new_report_row(op, data, office) | {"distance_to_office_m": distance})
        refused = self._check_round(report)
        self.store.file_report(report, office)
        self.store.add_report(report)
        return self._landed(op, report, "merged" if refused else "applied", refused)

    def office_in_scope(self, office_id):
        office = self.store.office(office_id)
        if office is None:
            raise _reject("data.office_id", f"There is no office {office_id}; pull to refresh your offices.")
        if not self.ctx.covers(office.district):
            raise _reject("data.office_id", f"This office is in district {office.district}, outside your districts.")
        return office

    def new_report_row(self, op: dict, data: dict, office) -> dict:
        """Every column of a new report from a create op's loaded data, but its distance to
        the office (`_distances`, computed for many reports at once). Its office's id as the
        op named it (the office's own, equal): read from the wire, its text is kept."""
        ctx = self.ctx
        edit_time = iso_text(corrected_edit_time(op["changed_at"], ctx.skew_s))
        evidence, source = evidence_time(data["observed_at"], data["gps_fix_at"], ctx.skew_s, ctx.received_at)
        return columns_from_loaded(data) | dict(
            id=op["id"], author_id=ctx.author_id, device_id=ctx.device_id, office_id=data["office_id"],
            district=office.district, received_at=ctx.received_at, updated_at=ctx.received_at,
            clock_skew_s=ctx.skew_s, version=1, locked=False, flags=[], amendments=[], violation_id=None,
            deleted_at=None, field_times=dict.fromkeys(MERGEABLE_FIELDS, edit_time), evidence_time=evidence,
            evidence_time_source=source)

    def _check_round(self, report) -> list[Conflict]:
        """A round a new report names must have a stop at its office on its day (DESIGN §5.3).
        One that does not (re-planned while the phone was out, or another district's) is not
        kept, but the report still lands without it: a closure's time is the evidence, never
        held hostage by a round; the conflict says why. (A round is set at creation: an
        update's merge takes no round_id, sync.report declares it AT_CREATION.)"""
        if report.round_id is None or round_fits(report.round_id, report.office_id, report.evidence_time,
                                                 self.store.round_stops({report.round_id})):
            return []
        given, report.round_id = str(report.round_id), None
        return [Conflict("round_id", None, None, given, None, "round_refused")]

    def _update_report(self, op: dict) -> dict:
        data = _load(REPORT_UPDATE_SCHEMA, op)
        report = self._own_report(op)
        client = canonical(data)
        edit_time = corrected_edit_time(op["changed_at"], self.ctx.skew_s)
        server = canonical_of(report)
        try:
            check_immutable(server, client)
        except ImmutableFieldChanged as exc:
            raise _reject(f"data.{exc.field}", f"A report's {exc.field.removesuffix('_id')} cannot change; "
                                               "make a new report.") from exc
        if report.locked:
            return self._amend(op, report, server, client)
        base = self.store.base_of(report, op["base_version"])
        if base is None:
            raise _reject("base_version", f"Version {op['base_version']} of this report is not known here; pull "
                                          "it and make the change again.")
        merge = merge_update(base, server, _times(report.field_times), client, edit_time, DECLARED_LIMITS)
        if merge.values:
            for name, value in columns_from_canonical(merge.values).items():
                setattr(report, name, value)
            report.field_times = {**report.field_times, **{k: t.isoformat() for k, t in merge.times.items()}}
            office = self.store.office(report.office_id)
            self._derive(report, office, merge.values)
            self.store.file_report(report, office)
        status = "merged" if merge.conflicts else "applied"
        return self._landed(op, report, status, merge.conflicts, changed=bool(merge.values))

    def _amend(self, op: dict, report, server: dict, client: dict) -> dict:
        """A locked report takes nothing: each change is kept beside it for the committee."""
        conflicts = amendments(server, {k: v for k, v in client.items() if BY_NAME[k].merge != IMMUTABLE})
        if not conflicts:
            return self._landed(op, report, "applied", [], changed=False)
        held = report.amendments
        if len(held) >= MAX_AMENDMENTS or len(orjson.dumps(held).decode()) >= MAX_AMENDMENTS_CHARS:
            raise _reject("data", f"The committee holds this report and its amendments are full (at most "
                                  f"{MAX_AMENDMENTS}, {MAX_AMENDMENTS_CHARS} characters); this change is kept "
                                  "in quarantine for the committee to see.")
        report.amendments = [*held, *({"field": c.field, "value": c.client, "by": self.ctx.author_id,
                                       "at": self.ctx.received_at.isoformat(), "op_id": str(op["op_id"])}
                                      for c in conflicts)]
        return self._landed(op, report, "merged", conflicts, changed=True)

    def _delete_report(self, op: dict) -> dict:
        report = self._own_report(op)
        if report.locked or op["base_version"] < report.version:
            why = "the committee holds it" if report.locked else "it changed since you saw it"
            conflict = Conflict("_deleted", False, False, True, False, "update_beats_delete")
            return self._landed(op, report, "merged", [conflict], changed=False, reason=f"Not deleted: {why}.")
        report.deleted_at = self.ctx.received_at
        return self._landed(op, report, "applied", [])

    def _own_report(self, op: dict):
        """The report an update or delete is about: the author's, in the author's districts,
        not deleted, and at least at the version the op was based on (a version from the
        future was never issued: a delete based on one must not pass for a delete of the
        current version). A report of a district the author has left is theirs no more to
        change, as its offices are no more theirs to report on; and the push holds the
        change feed's locks of the author's districts only, which a change there must hold."""
        report = self.store.report(op["id"], lock=True)
        if report is None or report.author_id != self.ctx.author_id:
            raise _reject("id", "There is no report of yours with this id.")
        if not self.ctx.covers(report.district):
            raise _reject("id", f"This report is of district {report.district}, no longer one of yours: it stays "
                                "as it is.")
        if report.deleted_at is not None:
            raise _reject("id", "This report was deleted (from another device?); pull to refresh.")
        if op["base_version"] > report.version:
            raise _reject("base_version", f"The report is at version {report.version}; "
                                          f"{op['base_version']} was never issued.")
        return report

    def _landed(self, op: dict, report, status: str, conflicts: list[Conflict], changed: bool = True,
                reason: str | None = None) -> dict:
        """Write what a landed op leaves (with the reason it did not do all it asked, which a
        replay answers again) and answer it."""
        if op["action"] != "create" and changed:
            report.version += 1
            report.updated_at = self.ctx.received_at
        missing = sorted(self._missing(report))
        landing = Landing(op, report, status, conflicts, missing, kept=op["action"] == "create" or changed,
                          reason=reason)
        self.write([landing])
        return landing.answer()

    def _derive(self, report, office, changed: dict) -> None:
        """The server-owned fields that follow from an update's changes: evidence time, distance.

        The evidence time is worked out again only when the observation's own times changed
        (DESIGN §5.3). A device time is corrected by the skew of the push that brought it: an
        edit of the notes, sent once the phone's clock was set right (or wrong), says nothing
        of the clock the observation was read from, and must not move it by hours, making or
        hiding a violation. A new `observed_at` was read from the clock of the push that
        brings it; a new GPS fix alone is set beside the observation as corrected when it
        arrived (that push's skew), and is recent or not as of this push, which brings it."""
        if "observed_at" in changed or "gps_fix_at" in changed:
            skew_s = self.ctx.skew_s if "observed_at" in changed else report.clock_skew_s
            report.evidence_time, report.evidence_time_source = evidence_time(
                report.observed_at, report.gps_fix_at, skew_s, self.ctx.received_at)
            report.clock_skew_s = skew_s
        (report.distance_to_office_m,) = _distances([(office, report.location)])

    # ------------------------------------------------------------ what a landed op leaves

    def write(self, landings: list["Landing"]) -> None:
        """The rows of landed ops, one op or a batch alike: an INSERT for each kind of row,
        whatever the count. Every version that can reach a phone is kept, so that it can be
        a merge base (DESIGN §5.4), and put on the change feed."""
        ctx, store = self.ctx, self.store
        kept = [landing for landing in landings if landing.kept]
        store.flush()  # the reports first: the rows below refer to them
        store.insert_versions([
            {"report_id": l.report.id, "version": l.report.version, "data": canonical_of(l.report),
             "op_id": l.op["op_id"], "at": ctx.received_at} for l in kept])
        store.record_changes([
            {"entity": "reports", "entity_id": str(l.report.id), "district": l.report.district,
             "user_id": l.report.author_id, "deleted": l.report.deleted_at is not None, "at": ctx.received_at,
             "version": l.report.version} for l in kept])
        store.insert_conflicts([
            {"report_id": l.report.id, "op_id": l.op["op_id"], "user_id": ctx.author_id, "field": c.field,
             "policy": c.policy, "base": c.base, "server": c.server, "client": c.client, "resolved": c.resolved,
             "at": ctx.received_at} for l in landings for c in l.conflicts])
        store.insert_ledger([self.ledger_row(l.op, l.status, l.report.version, l.result) for l in landings])

    def ledger_row(self, op: dict, status: str, version: int | None, result: dict) -> dict:
        return {"op_id": op["op_id"], "user_id": self.ctx.author_id, "device_id": self.ctx.device_id,
                "entity": op["entity"], "entity_id": op["id"], "action": op["action"], "status": status,
                "digest": op_digest(op), "version": version, "base_version": op.get("base_version"), "result": result,
                "at": self.ctx.received_at}

    # ------------------------------------------------------------ office corrections

    def _create_correction(self, op: dict) -> dict:
        data = _load(OfficeCorrectionSchema(), op)
        existing = self.store.correction(op["id"])
        if existing is not None:
            # The same proposal sent again under another op_id is no second one; anything
            # else under its id is not dropped as if it were (DESIGN §5.6): it is rejected.
            if existing["author_id"] != self.ctx.author_id:
                raise _reject("id", "This id is another inspector's correction; make a new id.")
            if not _same_correction(existing, data):
                raise _reject("id", "A correction of yours with this id says something else; send a new "
                                    "correction with a new id.")
            self.store.insert_ledger([self.ledger_row(op, "duplicate", None, {})])
            return {"op_id": op["op_id"], "status": "duplicate", "id": op["id"]}
        office = self.store.office(data["office_id"])
        if office is None:
            raise _reject("data.office_id", f"There is no office {data['office_id']}.")
        if not self.ctx.covers(office.district):
            raise _reject("data.office_id", f"This office is in district {office.district}, outside your districts.")
        self.store.add_correction({
            "id": op["id"], "office_id": office.id, "author_id": self.ctx.author_id, "kind": data["kind"],
            "location": data["location"], "phone": data["phone"], "note": data["note"], "status": "pending",
            "created_at": self.ctx.received_at})
        self.store.insert_ledger([self.ledger_row(op, "applied", None, {"conflicts": []})])
        return {"op_id": op["op_id"], "status": "applied", "id": op["id"], "conflicts": []}


@dataclass
class Landing:
    """A report op that landed, and what it leaves beside the report: the version to keep
    as a merge base (a create, a change), its conflicts, its ledger entry, its answer."""

    op: dict
    report: object  # the store's report, or a new report's plain row (the bulk path)
    status: str
    conflicts: list[Conflict]
    missing: list[str]  # photos the server still lacks
    kept: bool  # the report's version is a new one: keep it and put it on the change feed
    reason: str | None = None
    record: object = None  # the record as the bulk insert stored it (Store.written_record): not written again

    @cached_property
    def result(self) -> dict:
        """What the ledger keeps and a replay answers again (a deleted report has no photos
        to wait for and no flags to show). Made once, when the op's rows are written: the
        report is as it landed by then."""
        result = {"conflicts": [c.as_dict() for c in self.conflicts]}
        if self.report.deleted_at is None:
            result["missing_attachments"] = self.missing
            result["flags"] = list(self.report.flags)
            if self.reason:
                result["reason"] = self.reason
        return result

    def answer(self) -> dict:
        report = self.report
        if report.deleted_at is not None:
            record = {}
        else:
            record = write_report(report, set(self.missing)) if self.record is None else self.record
        return {"op_id": self.op["op_id"], "status": self.status, "id": report.id, "version": report.version,
                "record": record, **self.result}


# ---------------------------------------------------------------- new reports, in bulk


class _FastCreates:
    """Creates of new reports, checked up front and inserted in bulk.

    An op qualifies when its envelope and data are valid, its op_id and report id are new
    (checked against the ledger and the reports in one query each, and against the ops
    before it), and its office exists in the author's scope. Nothing about it can then
    fail but the inserts themselves.
    """

    def __init__(self, engine: _Engine, ops: list):
        self.engine, self.store, self.ctx, self.ops = engine, engine.store, engine.ctx, ops
        self.waiting: list[tuple[int, dict, dict, object]] = []
        self.seen_ops: set = set()
        self.seen_reports: set = set()
        # The plain creates are loaded once, here, so that the ids of all the ops and the
        # offices they name are each looked up in one query.
        self.plain = load_plain_creates(ops)
        ids = [(p[0]["op_id"], p[0]["id"]) if p else _ids_of(raw) for p, raw in zip(self.plain, ops)]
        self.landed_ops = self.store.landed_op_ids({op_id for op_id, _ in ids} - {None})
        self.existing_reports = self.store.existing_report_ids({report_id for _, report_id in ids} - {None})
        wanted = {p[1]["office_id"] for p in self.plain if p}
        self.offices: dict = dict.fromkeys(wanted) | {o.id: o for o in self.store.offices(wanted)}
        self.round_stops = self.store.round_stops({p[1]["round_id"] for p in self.plain if p} - {None})

    def take(self, index: int, raw) -> bool:
        if not (isinstance(raw, dict) and raw.get("entity") == "reports" and raw.get("action") == "create"):
            self._touch(raw)
            return False
        loaded = self.plain[index]
        if loaded is None:
            try:
                loaded = (op := OP_SCHEMA.load(raw)), REPORT_CREATE_SCHEMA.load(op["data"])
            except ma.ValidationError:
                return False  # the slow path says what is wrong, and quarantines it
        op, data = loaded
        office = self._office(data["office_id"])
        if (op["op_id"] in self.landed_ops or op["op_id"] in self.seen_ops or op["id"] in self.existing_reports
                or op["id"] in self.seen_reports or office is None or not self.ctx.covers(office.district)
                or data.get("id", op["id"]) != op["id"] or not self._in_round(data, office)):
            self._touch(raw)
            return False  # the slow path lands it, answers it as a duplicate, or says what is wrong
        self.seen_ops.add(op["op_id"])
        self.seen_reports.add(op["id"])
        self.waiting.append((index, op, data, office))
        return True

    def _touch(self, raw) -> None:
        # An op on the slow path may land this op_id or report id: later ops must see it.
        op_id, report_id = _ids_of(raw)
        self.seen_ops.add(op_id)
        self.seen_reports.add(report_id)

    def _in_round(self, data: dict, office) -> bool:
        if data["round_id"] is None:
            return True
        if data["round_id"] not in self.round_stops:
            self.round_stops |= self.store.round_stops({data["round_id"]})
        evidence, _ = evidence_time(data["observed_at"], data["gps_fix_at"], self.ctx.skew_s, self.ctx.received_at)
        return round_fits(data["round_id"], office.id, evidence, self.round_stops)

    def _office(self, office_id):
        if office_id not in self.offices:
            self.offices[office_id] = self.store.office(office_id)
        return self.offices[office_id]

    def flush(self, results: list) -> None:
        if not self.waiting:
            return
        waiting, self.waiting = self.waiting, []
        savepoint = self.store.savepoint()
        try:
            # Plain rows, not tracked objects: the unit of work's bookkeeping per object
            # costs more than the INSERT itself, and these rows need none of it.
            distances = _distances([(office, data["location"]) for _, _, data, office in waiting])
            reports = [SimpleNamespace(**self.engine.new_report_row(op, data, office), distance_to_office_m=metres_away)
                       for (_, op, data, office), metres_away in zip(waiting, distances)]
            days = {(office.id, calendar.format_date(calendar.tehran_day(r.evidence_time)))
                    for (_, _, _, office), r in zip(waiting, reports)}
            cases = self.store.cases_for(days)
            for (_, _, _, office), report in zip(waiting, reports):
                self.store.file_report(report, office, cases)
            pending = self.store.missing_photos((p["sha256"] for r in reports for p in r.photos), self.ctx.author_id)
            # Every read is done: from here the work in Python overlaps the database's
            # (Store.overlapping), each table's rows built while the server stores the last's.
            with self.store.overlapping():
                written = self.store.insert_reports([vars(r) for r in reports])
                landed = []
                for (index, op, _, _), report, record in zip(waiting, reports, written):
                    missing = sorted({p["sha256"] for p in report.photos} & pending) if report.photos else []
                    landed.append((index, Landing(op, report, "applied", [], missing, kept=True,
                                                  record=self.store.written_record(record, missing))))
                self.engine.write([landing for _, landing in landed])
                answers = [(index, landing.answer()) for index, landing in landed]
            savepoint.commit()
        except Exception as error:  # noqa: BLE001  (as in apply_one)
            if self.store.is_fatal(error):
                raise  # as in apply_one
            log.warning("bulk insert of %d new reports failed; applying them one by one", len(waiting),
                        exc_info=True)
            savepoint.rollback()
            for index, _, _, _ in waiting:  # one at a time, each in its own savepoint
                results[index] = self.engine.apply_one(self.ops[index])
            return
        for index, answer in answers:
            results[index] = answer


# ---------------------------------------------------------------- helpers


def round_fits(round_id, office_id, evidence: datetime, stops: dict) -> bool:
    """Is the report's round one of its office and day (DESIGN §5.3)?"""
    return (office_id, calendar.format_date(calendar.tehran_day(evidence))) in stops.get(round_id, ())


def _load(schema, op: dict) -> dict:
    """The op's data, loaded; the report's id it may repeat checked against the op's, and dropped."""
    try:
        data = schema.load(op["data"])
    except ma.ValidationError as exc:
        raise OpRejected({f"data.{k}": v for k, v in flatten_messages(exc.messages).items()}) from exc
    if data.pop("id", op["id"]) != op["id"]:
        raise _reject("data.id", f"data.id is {op['data']['id']}, but this op is about report {op['id']}: "
                                 "send the report's id in both, or leave it out of data.")
    return data


def _label(value, size: int) -> str | None:
    """A quarantined op's id, entity or action as a short text column can hold it, whatever
    was sent (U+0000 and lone surrogates become U+FFFD; the payload keeps the original)."""
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int, float)):
        # A list or object where a name belongs: its type, not its text (which a list nested
        # a thousand deep cannot even be made into: RecursionError, the whole push a 500).
        return f"<{type(value).__name__}>"[:size]
    return UNSTORABLE.sub("\ufffd", str(value))[:size]


def _same_correction(stored: dict, data: dict) -> bool:
    """Does a correction as loaded from an op say what the stored one says (its point to
    within a millimetre or so, as the database gives it back)?"""
    location = None if data["location"] is None else (data["location"].x, data["location"].y)
    if (location is None) != (stored["location"] is None) or (
            location is not None and max(abs(a - b) for a, b in zip(location, stored["location"])) > 1e-8):
        return False
    return all(stored[name] == data[name] for name in ("office_id", "kind", "phone", "note"))


def _ids_of(raw) -> tuple:
    """(op_id, id) of a raw op as UUIDs, None where there is no valid one."""
    if not isinstance(raw, dict):
        return None, None
    return _as_uuid(raw.get("op_id")), _as_uuid(raw.get("id"))


def _as_uuid(value):
    if not isinstance(value, str):
        return None  # not an id, whatever it holds (and str() of a deep list raises RecursionError)
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _times(field_times: dict) -> dict:
    return {k: datetime.fromisoformat(v) for k, v in field_times.items()}


def _distances(pairs: list[tuple]) -> list[float | None]:
    """Metres from each office to each location (None where there is none), to 0.1 m.

    Geodesic on WGS 84 (GeographicLib through pyproj), the same figure PostGIS and
    SpatiaLite give, computed here to save a round trip per report, and for all the
    reports of a push in one vectorised call (a call per report costs more than the sum)."""
    placed = [(i, *_office_lon_lat(office), *lon_lat(where)) for i, (office, where) in enumerate(pairs)
              if where is not None]
    out: list[float | None] = [None] * len(pairs)
    if placed:
        index, *columns = zip(*placed)
        for i, metres_away in zip(index, metres(*columns)):
            out[i] = round(float(metres_away), 1)
    return out


_OFFICE_POINTS: dict = {}


def _office_lon_lat(office) -> tuple[float, float]:
    # Parsed once per office and version (a push of 500 reports often names a dozen offices).
    key = (office.id, office.version)
    if key not in _OFFICE_POINTS:
        if len(_OFFICE_POINTS) > 10_000:
            _OFFICE_POINTS.clear()
        _OFFICE_POINTS[key] = lon_lat(office.location)
    return _OFFICE_POINTS[key]
