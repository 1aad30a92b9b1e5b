"""The push of DESIGN §5.2: ops in order, each in its own savepoint, nothing lost or doubled.

One push is one transaction holding the change-feed lock (app.services.changefeed); each
op runs in a savepoint, so a bad op rolls back alone and is quarantined while the others
land. Every landed op is written to the ledger in its own savepoint with its effect: a
replay (a lost response, a retry, the same push sent twice at once) finds it there and
answers `duplicate` with the record as it now is. The response is written after commit.
"""

import logging
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import datetime

import marshmallow as ma
import orjson
from sqlalchemy.exc import SQLAlchemyError

from app.database import is_transient, utcnow
from app.errors import Problem, flatten_messages
from app.models import LedgerEntry, OfficeCorrection, QuarantinedOp, Report, ReportVersion, SyncConflict, User
from app.repositories import attachments as attachment_repo
from app.repositories import corrections as correction_repo
from app.repositories import ledger as ledger_repo
from app.repositories import offices as office_repo
from app.repositories import reports as report_repo
from app.repositories import rounds as round_repo
from app.repositories import bulk
from app.services import changefeed, unit_of_work, violations
from app.hours import calendar
from app.services.report_form import dump_report
from app.services.report_versions import (base_of, canonical, canonical_of, canonical_photos, keep_version,
                                          new_version)
from app.services.scope import Scope
from geo.distance import metres
from geo.geometry import lon_lat, point, to_db
from schemas.input import UNSTORABLE, without_lone_surrogates
from schemas.sync import (CHECKLIST_MAX, MAX_OPS, NOTES_MAX, PHOTOS_MAX, OfficeCorrectionSchema, OpSchema,
                          ReportCreateSchema, ReportUpdateSchema, load_plain_creates, write_report)
from sync.evidence import clock_skew_s, corrected_edit_time, evidence_time
from sync.merge import MERGEABLE_FIELDS, Conflict, ImmutableFieldChanged, Limits, amendments, merge_update
from sync.replay import op_digest, same_op

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
MERGE_LIMITS = Limits(notes=NOTES_MAX, checklist=CHECKLIST_MAX, photos=PHOTOS_MAX)


class OpRejected(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _reject(field: str, message: str) -> OpRejected:
    return OpRejected({field: [message]})


@dataclass(frozen=True)
class Push:
    user: User
    device_id: uuid.UUID
    received_at: datetime
    skew_s: float
    book: violations.HoursBook = field(default_factory=lambda: violations.HoursBook())


# ---------------------------------------------------------------- the push


def push(user: User, envelope: dict) -> dict:
    ops = envelope["ops"]
    if len(ops) > MAX_OPS:
        raise Problem("payload-too-large", f"{len(ops)} ops in one push; send at most {MAX_OPS}.")
    received_at = utcnow()
    ctx = Push(user, envelope["device_id"], received_at, clock_skew_s(received_at, envelope["sent_at"]))
    with unit_of_work() as session:
        changefeed.lock(Scope.of(user).districts)
        results = _apply_all(session, ctx, ops)
    return {"protocol": 1, "server_time": received_at, "clock_skew_s": ctx.skew_s, "results": results}


def _apply_all(session, ctx: Push, ops: list) -> list[dict]:
    """Apply ops in order. New reports that need nothing from the database but an insert
    (the common case: a phone's day of reports) are written together, in one savepoint,
    with a few multi-row INSERTs; if that fails they are replayed one by one. Everything
    else goes through `_apply_one`, an op at a time."""
    fast = _FastCreates(session, ctx, ops)
    results: list = [None] * len(ops)
    for index, raw in enumerate(ops):
        if fast.take(index, raw):
            continue
        fast.flush(results)
        results[index] = _apply_one(session, ctx, raw, index)
    fast.flush(results)
    return results


def _apply_one(session, ctx: Push, raw, index: int) -> dict:
    op_id = raw.get("op_id") if isinstance(raw, dict) else None
    savepoint = session.begin_nested()
    try:
        result = _dispatch(ctx, raw)
        savepoint.commit()
        return result
    except OpRejected as rejected:
        savepoint.rollback()
        return _quarantine(ctx, raw, op_id, rejected.errors)
    except Exception as error:  # noqa: BLE001  (no single op may turn a push into a 500)
        if isinstance(error, SQLAlchemyError) and is_transient(error):
            raise  # the whole push is rolled back and answered 503: the phone sends it again
        log.exception("op %s could not be applied", op_id)
        savepoint.rollback()
        return _quarantine(ctx, raw, op_id, {"op": ["The server could not apply this op; it was not applied "
                                                     "and is kept in quarantine."]})


def _dispatch(ctx: Push, raw) -> dict:
    if not isinstance(raw, dict):
        raise _reject("op", "Each op must be a JSON object.")
    try:
        op = OP_SCHEMA.load(raw)
    except ma.ValidationError as exc:
        raise OpRejected(flatten_messages(exc.messages)) from exc
    entry = ledger_repo.ledger_entry(op["op_id"])
    if entry is not None:
        return _duplicate(ctx, entry, op)
    handler = {("reports", "create"): _create_report, ("reports", "update"): _update_report,
               ("reports", "delete"): _delete_report,
               ("office_corrections", "create"): _create_correction}[(op["entity"], op["action"])]
    return handler(ctx, op)


def _quarantine(ctx: Push, raw, op_id, errors: dict) -> dict:
    entity = raw.get("entity") if isinstance(raw, dict) else None
    action = raw.get("action") if isinstance(raw, dict) else None
    # Kept and echoed as sent, but for lone surrogates (U+FFFD instead), which no UTF-8
    # column or answer can carry.
    raw, op_id = without_lone_surrogates(raw), without_lone_surrogates(op_id)
    ledger_repo.add(QuarantinedOp(op_id=_label(op_id, 64) or "", user_id=ctx.user.id, device_id=ctx.device_id,
                           entity=_label(entity, 30), action=_label(action, 10), payload=raw, errors=errors,
                           received_at=ctx.received_at))
    return {"op_id": op_id, "status": "rejected", "errors": errors}


def _label(value, size: int) -> str | None:
    """A quarantined op's id, entity or action as a short text column can hold it, whatever
    was sent (U+0000 and lone surrogates become U+FFFD; the payload keeps the original)."""
    if value is None or value == "":
        return None
    return UNSTORABLE.sub("\ufffd", str(value))[:size]


def _ledger(ctx: Push, op: dict, status: str, version: int | None, result: dict) -> None:
    ledger_repo.add(LedgerEntry(op_id=op["op_id"], user_id=ctx.user.id, device_id=ctx.device_id, entity=op["entity"],
                         entity_id=op["id"], action=op["action"], status=status, digest=op_digest(op),
                         version=version, result=result, at=ctx.received_at))


def _duplicate(ctx: Push, entry: LedgerEntry, op: dict) -> dict:
    """A replay of a landed op: answered as it now is, if it is the same op."""
    if entry.user_id != ctx.user.id:
        raise _reject("op_id", "This op_id was already used by someone else; make a new one.")
    if not same_op(entry.entity, entry.action, entry.entity_id, entry.digest, op):
        raise _reject("op_id", f"This op_id already landed with another op ({entry.entity} {entry.action} of "
                               f"{entry.entity_id}); a replay must be the same op. Give a new op a new op_id.")
    out = {"op_id": entry.op_id, "status": "duplicate", "id": entry.entity_id, **entry.result}
    if entry.entity == "reports":
        report = report_repo.get_report(entry.entity_id)
        # A client with edits waiting on this op needs the version it made, not the one
        # the report has reached since (another phone's edit): they are based on the former.
        out["op_version"] = entry.version
        out["version"] = report.version
        out["record"] = dump_report(report)
    return out


# ---------------------------------------------------------------- new reports, in bulk


class _FastCreates:
    """Creates of new reports, checked up front and inserted in bulk.

    An op qualifies when its envelope and data are valid, its op_id and report id are new
    (checked against the ledger and the reports in one query each, and against the ops
    before it), and its office exists in the author's scope. Nothing about it can then
    fail but the inserts themselves.
    """

    def __init__(self, session, ctx: Push, ops: list):
        self.session, self.ctx, self.ops = session, ctx, ops
        self.waiting: list[tuple[int, dict, dict, object]] = []
        self.seen_ops: set = set()
        self.seen_reports: set = set()
        # The plain creates are loaded once, here, so that the ids of all the ops and the
        # offices they name are each looked up in one query.
        self.plain = load_plain_creates(ops)
        ids = [(p[0]["op_id"], p[0]["id"]) if p else _ids_of(raw) for p, raw in zip(self.plain, ops)]
        self.landed_ops = ledger_repo.existing_op_ids({op_id for op_id, _ in ids} - {None})
        self.existing_reports = report_repo.existing_report_ids({report_id for _, report_id in ids} - {None})
        wanted = {p[1]["office_id"] for p in self.plain if p}
        self.offices: dict = dict.fromkeys(wanted) | {o.id: o for o in office_repo.get_many(wanted)}
        self.round_stops = round_repo.round_stops({p[1]["round_id"] for p in self.plain if p} - {None})
        self.scope = Scope.of(ctx.user)

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
                or op["id"] in self.seen_reports or office is None or not self.scope.covers(office.district)
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
            self.round_stops |= round_repo.round_stops({data["round_id"]})
        evidence, _ = evidence_time(data["observed_at"], data["gps_fix_at"], self.ctx.skew_s, self.ctx.received_at)
        return _round_fits(data["round_id"], office.id, evidence, self.round_stops)

    def _office(self, office_id):
        if office_id not in self.offices:
            self.offices[office_id] = office_repo.get(office_id)
        return self.offices[office_id]

    def flush(self, results: list) -> None:
        if not self.waiting:
            return
        waiting, self.waiting = self.waiting, []
        savepoint = self.session.begin_nested()
        try:
            # Plain rows, not ORM objects: the unit of work's bookkeeping per object costs
            # more than the INSERT itself, and these rows need none of it.
            distances = _distances([(office, data["location"]) for _, _, data, office in waiting])
            reports = [SimpleNamespace(**_new_report_row(self.ctx, op, data, office), distance_to_office_m=metres_away)
                       for (_, op, data, office), metres_away in zip(waiting, distances)]
            days = {(office.id, calendar.format_date(calendar.tehran_day(r.evidence_time)))
                    for (_, _, _, office), r in zip(waiting, reports)}
            cases = violations.cases_for(days)
            for (_, _, _, office), report in zip(waiting, reports):
                violations.file_report(report, office, self.ctx.book, cases)
            bulk.insert_many(Report, [vars(r) for r in reports])
            pending = attachment_repo.missing_attachments((p["sha256"] for r in reports for p in r.photos), self.ctx.user.id)
            landed = []
            for (index, op, _, _), report in zip(waiting, reports):
                missing = sorted({p["sha256"] for p in report.photos} & pending)
                result = {"conflicts": [], "missing_attachments": missing, "flags": list(report.flags)}
                landed.append((index, op, report, result))
            bulk.insert_many(ReportVersion, [
                {"report_id": r.id, "version": 1, "data": canonical_of(r), "op_id": op["op_id"],
                 "at": self.ctx.received_at} for _, op, r, _ in landed])
            changefeed.record_many([
                {"entity": "reports", "entity_id": str(r.id), "district": r.district, "user_id": r.author_id,
                 "deleted": False, "at": self.ctx.received_at} for _, _, r, _ in landed])
            bulk.insert_many(LedgerEntry, [
                {"op_id": op["op_id"], "user_id": self.ctx.user.id, "device_id": self.ctx.device_id,
                 "entity": "reports", "entity_id": r.id, "action": "create", "status": "applied",
                 "digest": op_digest(op), "version": 1, "result": result, "at": self.ctx.received_at}
                for _, op, r, result in landed])
            savepoint.commit()
        except Exception as error:  # noqa: BLE001  (as in _apply_one)
            if isinstance(error, SQLAlchemyError) and is_transient(error):
                raise  # as in _apply_one
            log.warning("bulk insert of %d new reports failed; applying them one by one", len(waiting),
                        exc_info=True)
            savepoint.rollback()
            for index, _, _, _ in waiting:  # one at a time, each in its own savepoint
                results[index] = _apply_one(self.session, self.ctx, self.ops[index], index)
            return
        for index, op, report, result in landed:
            record = write_report(report, result["missing_attachments"])
            results[index] = {"op_id": op["op_id"], "status": "applied", "id": report.id, "version": 1,
                              "record": record, **result}


def _ids_of(raw) -> tuple:
    """(op_id, id) of a raw op as UUIDs, None where there is no valid one."""
    if not isinstance(raw, dict):
        return None, None
    return _as_uuid(raw.get("op_id")), _as_uuid(raw.get("id"))


def _as_uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _new_report(ctx: Push, op: dict, data: dict, office) -> Report:
    (distance,) = _distances([(office, data["location"])])
    return Report(**_new_report_row(ctx, op, data, office), distance_to_office_m=distance)


def _new_report_row(ctx: Push, op: dict, data: dict, office) -> dict:
    """Every column of a new report from a create op's loaded data, but its distance to the
    office (`_distances`, computed for many reports at once)."""
    edit_time = corrected_edit_time(op["changed_at"], ctx.skew_s).isoformat()
    evidence, source = evidence_time(data["observed_at"], data["gps_fix_at"], ctx.skew_s, ctx.received_at)
    return dict(id=op["id"], author_id=ctx.user.id, device_id=ctx.device_id, office_id=office.id,
                district=office.district, received_at=ctx.received_at, updated_at=ctx.received_at,
                clock_skew_s=ctx.skew_s, version=1, locked=False, flags=[], amendments=[], violation_id=None,
                deleted_at=None, field_times=dict.fromkeys(MERGEABLE_FIELDS, edit_time),
                round_id=data["round_id"], observed_at=data["observed_at"], gps_fix_at=data["gps_fix_at"],
                location=None if data["location"] is None else to_db(data["location"]),
                accuracy_m=data["accuracy_m"], office_state=data["office_state"],
                staff_present=data["staff_present"], checklist=data["checklist"], notes=data["notes"],
                photos=canonical_photos(data["photos"]), evidence_time=evidence,
                evidence_time_source=source)


# ---------------------------------------------------------------- reports


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


def _round_fits(round_id, office_id, evidence: datetime, stops: dict) -> bool:
    """Is the report's round one of its office and day (DESIGN §5.3)?"""
    return (office_id, calendar.format_date(calendar.tehran_day(evidence))) in stops.get(round_id, ())


def _check_round(report: Report) -> list[Conflict]:
    """A round a new report names must have a stop at its office on its day (DESIGN §5.3).
    One that does not (re-planned while the phone was out, or another district's) is not
    kept, but the report still lands without it: a closure's time is the evidence, never
    held hostage by a round; the conflict says why. (A round is set at creation: an update's
    merge takes no round_id, sync.merge.MERGEABLE_FIELDS.)"""
    if report.round_id is None or _round_fits(report.round_id, report.office_id, report.evidence_time,
                                              round_repo.round_stops({report.round_id})):
        return []
    given, report.round_id = str(report.round_id), None
    return [Conflict("round_id", None, None, given, None, "round_refused")]


def _create_report(ctx: Push, op: dict) -> dict:
    data = _load(REPORT_CREATE_SCHEMA, op)
    existing = report_repo.get_report(op["id"])
    if existing is not None:
        if existing.author_id != ctx.user.id:
            raise _reject("id", "A report with this id exists and is not yours; make a new id.")
        # A create for an id that exists is never a second report.
        _ledger(ctx, op, "duplicate", existing.version, {})
        return {"op_id": op["op_id"], "status": "duplicate", "id": existing.id, "version": existing.version,
                "record": dump_report(existing)}
    office = office_repo.get(data["office_id"])
    if office is None:
        raise _reject("data.office_id", f"There is no office {data['office_id']}; pull to refresh your offices.")
    if not Scope.of(ctx.user).covers(office.district):
        raise _reject("data.office_id", f"This office is in district {office.district}, outside your districts.")
    report = _new_report(ctx, op, data, office)
    refused = _check_round(report)
    violations.file_report(report, office, ctx.book)
    report_repo.add(report)
    return _landed(ctx, op, report, "merged" if refused else "applied", refused)


def _update_report(ctx: Push, op: dict) -> dict:
    data = _load(REPORT_UPDATE_SCHEMA, op)
    report = _own_report(ctx, op)
    client = canonical(data)
    edit_time = corrected_edit_time(op["changed_at"], ctx.skew_s)
    server = canonical_of(report)
    if report.locked:
        conflicts = amendments(server, {k: v for k, v in client.items() if k != "office_id"})
        if not conflicts:
            return _landed(ctx, op, report, "applied", [], changed=False)
        held = report.amendments
        if len(held) >= MAX_AMENDMENTS or len(orjson.dumps(held).decode()) >= MAX_AMENDMENTS_CHARS:
            raise _reject("data", f"The committee holds this report and its amendments are full (at most "
                                  f"{MAX_AMENDMENTS}, {MAX_AMENDMENTS_CHARS} characters); this change is kept "
                                  "in quarantine for the committee to see.")
        report.amendments = [*held, *({"field": c.field, "value": c.client, "by": ctx.user.id,
                                       "at": ctx.received_at.isoformat(), "op_id": str(op["op_id"])}
                                      for c in conflicts)]
        return _landed(ctx, op, report, "merged", conflicts, changed=True)
    base = base_of(report, op["base_version"])
    if base is None:
        raise _reject("base_version", f"Version {op['base_version']} of this report is not known here; pull it and "
                                      "make the change again.")
    try:
        merge = merge_update(base, server, _times(report.field_times), client,
                             edit_time, MERGE_LIMITS)
    except ImmutableFieldChanged as exc:
        raise _reject("data.office_id", "A report's office cannot change; make a new report.") from exc
    if merge.values:
        _write_fields(report, merge.values)
        report.field_times = {**report.field_times, **{k: t.isoformat() for k, t in merge.times.items()}}
        office = office_repo.get(report.office_id)
        _derive(report, ctx, office)
        violations.file_report(report, office, ctx.book)
    status = "merged" if merge.conflicts else "applied"
    return _landed(ctx, op, report, status, merge.conflicts, changed=bool(merge.values))


def _delete_report(ctx: Push, op: dict) -> dict:
    report = _own_report(ctx, op)
    if report.locked or op["base_version"] < report.version:
        why = "the committee holds it" if report.locked else "it changed since you saw it"
        conflict = Conflict("_deleted", False, False, True, False, "update_beats_delete")
        return _landed(ctx, op, report, "merged", [conflict], changed=False, reason=f"Not deleted: {why}.")
    report.deleted_at = ctx.received_at
    new_version(report, ctx.received_at, op["op_id"])
    _ledger(ctx, op, "applied", report.version, {"conflicts": []})
    return {"op_id": op["op_id"], "status": "applied", "id": report.id, "version": report.version, "record": {},
            "conflicts": []}


def _own_report(ctx: Push, op: dict) -> Report:
    """The report an update or delete is about: the author's, not deleted, and at least at
    the version the op was based on (a version from the future was never issued: a delete
    based on one must not pass for a delete of the current version)."""
    report = report_repo.lock_report(op["id"])
    if report is None or report.author_id != ctx.user.id:
        raise _reject("id", "There is no report of yours with this id.")
    if report.deleted_at is not None:
        raise _reject("id", "This report was deleted (from another device?); pull to refresh.")
    if op["base_version"] > report.version:
        raise _reject("base_version", f"The report is at version {report.version}; "
                                      f"{op['base_version']} was never issued.")
    return report


def _landed(ctx: Push, op: dict, report: Report, status: str, conflicts: list[Conflict],
            changed: bool = True, reason: str | None = None) -> dict:
    """Write the version, feed entry, conflicts and ledger entry of a landed op (with the
    reason it did not do all it asked, which a replay answers again)."""
    if op["action"] == "create":
        keep_version(report, ctx.received_at, op["op_id"])
    elif changed:
        new_version(report, ctx.received_at, op["op_id"])
    for conflict in conflicts:
        report_repo.add(SyncConflict(report_id=report.id, op_id=op["op_id"], user_id=ctx.user.id, field=conflict.field,
                              policy=conflict.policy, base=conflict.base, server=conflict.server,
                              client=conflict.client, resolved=conflict.resolved, at=ctx.received_at))
    missing = sorted(attachment_repo.missing_attachments((p["sha256"] for p in report.photos), report.author_id))
    result = {"conflicts": [c.as_dict() for c in conflicts], "missing_attachments": missing,
              "flags": list(report.flags)} | ({"reason": reason} if reason else {})
    _ledger(ctx, op, status, report.version, result)
    return {"op_id": op["op_id"], "status": status, "id": report.id, "version": report.version,
            "record": write_report(report, set(missing)), **result}


def _derive(report: Report, ctx: Push, office) -> None:
    """The server-owned fields that follow from the client's: evidence time, distance."""
    report.evidence_time, report.evidence_time_source = evidence_time(
        report.observed_at, report.gps_fix_at, ctx.skew_s, ctx.received_at)
    report.clock_skew_s = ctx.skew_s
    (report.distance_to_office_m,) = _distances([(office, report.location)])


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


# ---------------------------------------------------------------- writing merged fields


def _write_fields(report: Report, values: dict) -> None:
    for name, value in values.items():
        if name in ("observed_at", "gps_fix_at"):
            value = None if value is None else datetime.fromisoformat(value)
        elif name == "location":
            value = None if value is None else to_db(point(*value["coordinates"]))
        elif name in ("office_id", "round_id"):
            value = None if value is None else uuid.UUID(value)
        setattr(report, name, value)


def _times(field_times: dict) -> dict:
    return {k: datetime.fromisoformat(v) for k, v in field_times.items()}


# ---------------------------------------------------------------- office corrections


def _create_correction(ctx: Push, op: dict) -> dict:
    data = _load(OfficeCorrectionSchema(), op)
    if correction_repo.get_correction(op["id"]) is not None:
        _ledger(ctx, op, "duplicate", None, {})
        return {"op_id": op["op_id"], "status": "duplicate", "id": op["id"]}
    office = office_repo.get(data["office_id"])
    if office is None:
        raise _reject("data.office_id", f"There is no office {data['office_id']}.")
    if not Scope.of(ctx.user).covers(office.district):
        raise _reject("data.office_id", f"This office is in district {office.district}, outside your districts.")
    correction = correction_repo.add(OfficeCorrection(
        id=op["id"], office_id=office.id, author_id=ctx.user.id, kind=data["kind"],
        location=None if data["location"] is None else to_db(data["location"]), phone=data["phone"],
        note=data["note"], status="pending", created_at=ctx.received_at))
    _ledger(ctx, op, "applied", None, {"conflicts": []})
    return {"op_id": op["op_id"], "status": "applied", "id": correction.id, "conflicts": []}




def quarantine(user: User, page) -> tuple[list, int]:
    """Quarantined ops the caller may see: their own; a head's, their district's inspectors'."""
    if user.citywide:
        return ledger_repo.quarantine_page(None, None, page.offset, page.limit)
    if user.role == "district_head":
        return ledger_repo.quarantine_page(user.districts, None, page.offset, page.limit)
    return ledger_repo.quarantine_page(None, user.id, page.offset, page.limit)
