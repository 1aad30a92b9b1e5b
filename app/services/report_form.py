"""A report as the wire carries it: its record, with the photos its author has yet to send.

Each report keeps its record as JSON (`Report.wire`, all but `photos_pending`, which the
uploads change), written whenever the report is: by the ORM's flush (`_keep_wire`, for
every report an object is made or changed for) and by the push's bulk insert of plain rows
(`wire_of`). A pull sends it as it is, with the photos still to send put in."""

import zlib

import orjson
from sqlalchemy import Row, event
from sqlalchemy.orm import Mapper

from app.models import Report
from app.repositories import attachments as attachment_repo
from schemas.sync import REPORT_WIRE_COLUMNS, write_report


def dump_reports(reports: list[Report] | list[Row]) -> list[dict]:
    """Many reports, with one query for all their missing photos (a pull page, a case)."""
    pending = attachment_repo.missing_photos((r.author_id, p["sha256"]) for r in reports for p in r.photos)
    return [write_report(r, {p["sha256"] for p in r.photos if (r.author_id, p["sha256"]) in pending})
            for r in reports]


# The stored records' format: raise WIRE_REVISION when write_report writes a field otherwise;
# a field added to or dropped from the record changes the digest by itself. A record stored
# under another format (or by code that raised the version without writing it) is not sent.
WIRE_REVISION = 1
WIRE_FORMAT = f"{WIRE_REVISION}.{zlib.crc32(','.join(REPORT_WIRE_COLUMNS).encode()):08x}"


def wire_of(report) -> str:
    """The report's record as JSON, without `photos_pending` (written last by write_report)."""
    record = write_report(report, ())
    del record["photos_pending"]
    return orjson.dumps(record).decode()


def wire_key(version: int) -> str:
    return f"{WIRE_FORMAT}:{version}"


def is_stored(version: int, wire: str | None, key: str | None) -> bool:
    """Whether a report's (version, wire, wire_key) hold a record a pull may send as it is."""
    return key == wire_key(version) and wire is not None and wire.endswith("}")


# A record whose author has sent every photo ends as this (with_pending of none).
_NONE_PENDING = ',"photos_pending":[]}'


def stored_records(rows: list[tuple]) -> list[orjson.Fragment]:
    """(author_id, photos, wire) of reports as the records a pull sends: each stored record
    with the photos its author has yet to send put in as its last key, as write_report places
    it. Plain tuples, unpacked once: a pull page is thousands."""
    pending = attachment_repo.missing_photos((author, p["sha256"]) for author, photos, _ in rows for p in photos)
    if not pending:
        return [orjson.Fragment(wire[:-1] + _NONE_PENDING) for _, _, wire in rows]
    return [with_pending(wire, sorted({p["sha256"] for p in photos if (author, p["sha256"]) in pending}))
            for author, photos, wire in rows]


def with_pending(wire: str, pending: list[str]) -> orjson.Fragment:
    """A stored record (`wire_of`) as the record write_report writes: `pending` (sorted) put in
    as its last key."""
    return orjson.Fragment(f'{wire[:-1]},"photos_pending":{orjson.dumps(pending).decode()}}}')


@event.listens_for(Report, "before_insert")
def _keep_wire_of_new(_mapper: Mapper, _connection, report: Report) -> None:
    # A column left unset takes its default in the INSERT, after this event: set here first,
    # the same value, so that the record is written as the row will hold it.
    for column in Report.__table__.columns:
        if column.default is not None and column.key not in report.__dict__:
            setattr(report, column.key, column.default.arg(None) if column.default.is_callable else column.default.arg)
    report.wire, report.wire_key = wire_of(report), wire_key(report.version)


@event.listens_for(Report, "before_update")
def _keep_wire(_mapper: Mapper, _connection, report: Report) -> None:
    # Written from the whole object: every writer of a report holds it loaded afresh under
    # its row lock (reports.lock_report) or the city's feed lock (re-judging).
    report.wire, report.wire_key = wire_of(report), wire_key(report.version)
