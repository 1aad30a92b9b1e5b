"""The pull of DESIGN §5.1 wired to the database: the engine (sync.pull) reads the change
feed and the records it names through the repositories, as the caller may see them."""

import uuid

import orjson
from flask import current_app

from app.database import utcnow
from app.errors import invalid
from app.models import User
from app.repositories import changes as change_repo
from app.repositories import districts as district_repo
from app.repositories import hours as hours_repo
from app.repositories import offices as office_repo
from app.repositories import reports as report_repo
from app.repositories import rounds as round_repo
from app.services import commit_read
from app.services.report_form import dump_reports, is_stored, stored_records, wire_of
from app.services.written_records import WRITTEN
from app.services.visibility import Visibility
from schemas.hours import HolidaySchema, HoursRuleSchema
from schemas.places import DistrictSchema, OfficeSchema
from schemas.rounds import RoundSchema
from schemas.sync import REPORT_WIRE_COLUMNS
from sync import pull as engine
from sync.cursor import BadCursor, scope_key


def pull(user: User, cursor_text: str | None, limit: int) -> dict:
    key = scope_key(user.role, user.id, user.districts)
    try:
        page = engine.pull(SqlPullStore(user, stored_reports=True), key, cursor_text, limit, utcnow())
    except BadCursor as exc:
        raise invalid("cursor", str(exc)) from exc
    commit_read()
    return page


class SqlPullStore:
    """sync.pull's Store: what `user` may see of the feed and of each record."""

    def __init__(self, user: User, stored_reports: bool = False):
        """`stored_reports`: reports as their stored JSON (orjson fragments), for an answer
        sent as it is (§5.1's pull); else as dicts (WatermelonDB's pull rewrites them)."""
        self.visibility = Visibility.of(user)
        self.stored_reports = stored_reports

    def changes_after(self, after: int, limit: int) -> list:
        return change_repo.list_after(after, limit, self.visibility.districts, self.visibility.author_id)

    def latest_changes(self, after: int) -> list:
        """The latest feed entry after `after` of each record the caller may see (one answer
        of the whole scope, as WatermelonDB's pull is: one row per record, not its history);
        `last_seq` is then the last of them."""
        rows = change_repo.latest_after(after, self.visibility.districts, self.visibility.author_id)
        self.last_seq = rows[-1].seq if rows else after
        return rows

    def records(self, entity: str, ids: list[str], seqs: list[int] | None = None) -> list:
        if entity not in _WRITERS:
            return getattr(self, f"_{entity}")(ids)
        if seqs is None or not self.stored_reports:  # dicts, written afresh (WatermelonDB rewrites them)
            return self._visible(_WRITERS[entity](ids).values())
        # The city's slow-changing records, as written when their feed entry was first pulled.
        keys = list(zip(ids, seqs))
        found = WRITTEN.get_many(entity, keys)
        if current_app.config.get("BAZRES_CHECK_STORED_RECORDS"):
            _check_written(entity, found)
        missing = [key for key in keys if key not in found]
        if missing:
            fresh = _WRITERS[entity]([entity_id for entity_id, _ in missing])
            found |= WRITTEN.put_many(entity, {key: fresh[key[0]] for key in missing if key[0] in fresh})
        return self._visible(found[key] for key in keys if key in found)

    def _visible(self, written) -> list:
        """The records of (district or None, record) pairs the caller may see."""
        return [record for district, record in written if district is None or self.visibility.covers(district)]

    def _rounds(self, ids: list[str]) -> list[dict]:
        return RoundSchema(many=True).dump([r for r in round_repo.get_many(_uuids(ids))
                                            if self.visibility.covers(r.district)])

    def _reports(self, ids: list[str]) -> list:
        """Each report's stored record (report_form.stored_records); one with none, or not
        under this format and version, is written from its columns."""
        if not self.stored_reports:
            return _written_from_columns(_uuids(ids))
        rows = report_repo.report_rows(_uuids(ids), ("id", "author_id", "photos", "version", "wire", "wire_key"))
        written, unwritten, stored = [], [], {}
        for report_id, author_id, photos, version, wire, key in rows:
            if is_stored(version, wire, key):
                written.append((author_id, photos, wire))
                stored[report_id] = wire
            else:
                unwritten.append(report_id)
        if current_app.config.get("BAZRES_CHECK_STORED_RECORDS"):
            _check_stored(stored)
        return stored_records(written) + _written_from_columns(unwritten)


# The city's slow-changing records by id: (the district that may see it, or None for all; its wire form).
def _offices(ids: list[str]) -> dict:
    offices = office_repo.get_many(_uuids(ids))
    return {str(o.id): (o.district, record) for o, record in zip(offices, OfficeSchema(many=True).dump(offices))}


def _districts(ids: list[str]) -> dict:
    districts = district_repo.get_many([int(i) for i in ids])
    return {str(d.number): (None, record) for d, record in zip(districts, DistrictSchema(many=True).dump(districts))}


def _hours_rules(ids: list[str]) -> dict:
    rules = hours_repo.get_rules(_uuids(ids))
    return {str(r.id): (None, record) for r, record in zip(rules, HoursRuleSchema(many=True).dump(rules))}


def _holidays(ids: list[str]) -> dict:
    holidays = hours_repo.get_holidays(_uuids(ids))
    return {str(h.id): (None, record) for h, record in zip(holidays, HolidaySchema(many=True).dump(holidays))}


_WRITERS = {"offices": _offices, "districts": _districts, "hours_rules": _hours_rules, "holidays": _holidays}


def _check_written(entity: str, found: dict) -> None:
    """The tests' check (BAZRES_CHECK_STORED_RECORDS): each kept record is what a fresh read writes."""
    fresh = _WRITERS[entity]([entity_id for entity_id, _ in found])
    for (entity_id, seq), (_, record) in found.items():
        now = fresh.get(entity_id)
        if now is None or orjson.dumps(now[1]) != bytes(orjson.dumps(record)):
            raise AssertionError(f"{entity} {entity_id} kept under feed entry {seq} is not what it is now: "
                                 f"{record!r} against {now!r} (changed without a feed entry?)")


def _written_from_columns(ids: list[uuid.UUID]) -> list[dict]:
    return dump_reports(report_repo.report_rows(ids, (*REPORT_WIRE_COLUMNS, "author_id")))


def _check_stored(stored: dict) -> None:
    """The tests' check (BAZRES_CHECK_STORED_RECORDS): each stored record (by report id) is
    what the report's columns write now, byte for byte."""
    for fresh in report_repo.report_rows(list(stored), REPORT_WIRE_COLUMNS):
        if wire_of(fresh) != stored[fresh.id]:
            raise AssertionError(f"report {fresh.id}: its stored record {stored[fresh.id]!r} is not what its "
                                 f"columns write: {wire_of(fresh)!r}")


def _uuids(ids: list[str]) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i in ids]
