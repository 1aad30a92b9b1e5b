"""The pull of DESIGN §5.1: the caller's scope, paged over the change feed by an opaque cursor.

Each page is the next `limit` feed entries the caller may see, in sequence order (which is
commit order: app.services.changefeed), reduced to the latest entry per record; each record
comes with its current state and version. A record that leaves the caller's scope (an
office moved to another district) has a `deleted` entry scoped to where it was. A caller
whose own scope changed (reassigned districts) holds a cursor for another scope: the pull
then answers `reset: true` and pages the whole scope again from the start.
"""

import uuid

from app.database import utcnow
from app.errors import invalid
from app.models import Change, Role, User
from app.repositories import changes as change_repo
from app.repositories import districts as district_repo
from app.repositories import hours as hours_repo
from app.repositories import offices as office_repo
from app.repositories import reports as report_repo
from app.repositories import rounds as round_repo
from app.services.report_form import dump_reports
from app.services.scope import Scope
from schemas.hours import HolidaySchema, HoursRuleSchema
from schemas.places import DistrictSchema, OfficeSchema
from schemas.rounds import RoundSchema
from sync.cursor import BadCursor, Cursor, scope_key

ENTITIES = ("offices", "districts", "hours_rules", "holidays", "rounds", "reports")


def pull(user: User, cursor_text: str | None, limit: int) -> dict:
    key = scope_key(user.role, user.id, user.districts)
    after, reset = 0, False
    if cursor_text:
        try:
            cursor = Cursor.decode(cursor_text)
        except BadCursor as exc:
            raise invalid("cursor", str(exc)) from exc
        if cursor.scope == key:
            after = cursor.seq
        else:
            reset = True
    # An inspector sees only their own reports; a head, their districts'.
    author = user.id if user.role == Role.INSPECTOR else None
    rows = change_repo.list_after(after, limit + 1, Scope.of(user).districts, author)
    has_more = len(rows) > limit
    rows = rows[:limit]
    last_seq = rows[-1].seq if rows else after
    return {"protocol": 1, "cursor": Cursor(last_seq, key).encode(), "has_more": has_more, "reset": reset,
            "server_time": utcnow(), "changes": _changes(user, rows)}


def _changes(user: User, rows: list[Change]) -> dict:
    latest: dict[tuple[str, str], Change] = {}
    for row in rows:  # in sequence order: the last entry per record wins
        latest[(row.entity, row.entity_id)] = row
    out = {entity: {"upserted": [], "deleted": []} for entity in ENTITIES}
    wanted: dict[str, list[str]] = {entity: [] for entity in ENTITIES}
    for (entity, entity_id), row in latest.items():
        if row.deleted:
            out[entity]["deleted"].append(int(entity_id) if entity == "districts" else entity_id)
        else:
            wanted[entity].append(entity_id)
    scope = Scope.of(user)
    for office in office_repo.get_many(_ids(wanted["offices"], uuid.UUID)):
        # An office that has since left the scope is skipped: its deletion entry follows.
        if scope.covers(office.district):
            out["offices"]["upserted"].append(OfficeSchema().dump(office))
    for district in district_repo.get_many(_ids(wanted["districts"], int)):
        out["districts"]["upserted"].append(DistrictSchema().dump(district))
    out["hours_rules"]["upserted"] = HoursRuleSchema(many=True).dump(
        hours_repo.get_rules(_ids(wanted["hours_rules"], uuid.UUID)))
    out["holidays"]["upserted"] = HolidaySchema(many=True).dump(
        hours_repo.get_holidays(_ids(wanted["holidays"], uuid.UUID)))
    out["rounds"]["upserted"] = RoundSchema(many=True).dump(
        [r for r in round_repo.get_many(_ids(wanted["rounds"], uuid.UUID)) if scope.covers(r.district)])
    out["reports"]["upserted"] = dump_reports(report_repo.reports_by_ids(_ids(wanted["reports"], uuid.UUID)))
    return out


def _ids(ids: list[str], convert) -> list:
    return [convert(i) for i in ids]
