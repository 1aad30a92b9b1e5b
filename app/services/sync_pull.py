"""The pull of DESIGN §5.1 wired to the database: the engine (sync.pull) reads the change
feed and the records it names through the repositories, as the caller may see them."""

import uuid

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
from app.services.report_form import dump_reports, is_stored, stored_records, wire_of
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
        return engine.pull(SqlPullStore(user, stored_reports=True), key, cursor_text, limit, utcnow())
    except BadCursor as exc:
        raise invalid("cursor", str(exc)) from exc


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

    def records(self, entity: str, ids: list[str]) -> list[dict]:
        return getattr(self, f"_{entity}")(ids)

    def _offices(self, ids: list[str]) -> list[dict]:
        return [OfficeSchema().dump(office) for office in office_repo.get_many(_uuids(ids))
                if self.visibility.covers(office.district)]

    def _districts(self, ids: list[str]) -> list[dict]:
        return [DistrictSchema().dump(district) for district in district_repo.get_many([int(i) for i in ids])]

    def _hours_rules(self, ids: list[str]) -> list[dict]:
        return HoursRuleSchema(many=True).dump(hours_repo.get_rules(_uuids(ids)))

    def _holidays(self, ids: list[str]) -> list[dict]:
        return HolidaySchema(many=True).dump(hours_repo.get_holidays(_uuids(ids)))

    def _rounds(self, ids: list[str]) -> list[dict]:
        return RoundSchema(many=True).dump([r for r in round_repo.get_many(_uuids(ids))
                                            if self.visibility.covers(r.district)])

    def _reports(self, ids: list[str]) -> list:
        """Each report's stored record (report_form.stored_records); one with none, or not
        under this format and version, is written from its columns."""
        if not self.stored_reports:
            return _written_from_columns(_uuids(ids))
        rows = report_repo.report_rows(_uuids(ids), ("id", "author_id", "photos", "version", "wire", "wire_key"))
        written = [row for row in rows if is_stored(row)]
        unwritten = [row.id for row in rows if not is_stored(row)]
        if current_app.config.get("BAZRES_CHECK_STORED_RECORDS"):
            _check_stored(written)
        records = stored_records(written)
        return records + _written_from_columns(unwritten)


def _written_from_columns(ids: list[uuid.UUID]) -> list[dict]:
    return dump_reports(report_repo.report_rows(ids, (*REPORT_WIRE_COLUMNS, "author_id")))


def _check_stored(rows: list) -> None:
    """The tests' check (BAZRES_CHECK_STORED_RECORDS): each stored record is what the report's
    columns write now, byte for byte."""
    stored = {row.id: row.wire for row in rows}
    for fresh in report_repo.report_rows(list(stored), REPORT_WIRE_COLUMNS):
        if wire_of(fresh) != stored[fresh.id]:
            raise AssertionError(f"report {fresh.id}: its stored record {stored[fresh.id]!r} is not what its "
                                 f"columns write: {wire_of(fresh)!r}")


def _uuids(ids: list[str]) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i in ids]
