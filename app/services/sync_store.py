"""sync.push's Store on SQLAlchemy: the push engine's reads and writes through the
repositories, the change feed and judging, in the caller's one transaction."""

import uuid
from types import SimpleNamespace

from sqlalchemy.exc import SQLAlchemyError

from app.database import is_transient
from app.models import LedgerEntry, OfficeCorrection, QuarantinedOp, Report, ReportVersion, SyncConflict
from app.repositories import attachments as attachment_repo
from app.repositories import bulk
from app.repositories import corrections as correction_repo
from app.repositories import ledger as ledger_repo
from app.repositories import offices as office_repo
from app.repositories import reports as report_repo
from app.repositories import rounds as round_repo
from app.services import changefeed, violations
from app.services.hours_book import HoursBook
from app.services.report_form import wire_key, wire_of, with_pending
from app.services.report_versions import base_of
from geo.geometry import lon_lat, to_db

# A push's new reports go to the database in batches of this many (insert_reports): a first
# batch soon, so that the database starts early, and not so small that the batches' own cost
# shows.
REPORTS_A_BATCH = 50


class SqlStore:
    def __init__(self, session):
        self.session = session
        # Rules and holidays loaded once for the push's reports, which mostly share a day.
        self.book = HoursBook()

    def savepoint(self):
        return self.session.begin_nested()

    def is_fatal(self, error: Exception) -> bool:
        return isinstance(error, SQLAlchemyError) and is_transient(error)

    def flush(self) -> None:
        bulk.flush()

    def overlapping(self):
        return bulk.overlapping()

    # ------------------------------------------------------------ reads

    def ledger_entry(self, op_id: uuid.UUID) -> LedgerEntry | None:
        return ledger_repo.ledger_entry(op_id)

    def landed_op_ids(self, op_ids: set) -> set:
        return ledger_repo.existing_op_ids(op_ids)

    def existing_report_ids(self, report_ids: set) -> set:
        return report_repo.existing_report_ids(report_ids)

    def office(self, office_id: uuid.UUID):
        return office_repo.get(office_id)

    def offices(self, office_ids: set) -> list:
        return office_repo.get_many(office_ids)

    def round_stops(self, round_ids: set) -> dict:
        return round_repo.round_stops(round_ids)

    def missing_photos(self, sha256s, author_id: int) -> set:
        return attachment_repo.missing_attachments(sha256s, author_id)

    def report(self, report_id: uuid.UUID, *, lock: bool = False) -> Report | None:
        return report_repo.lock_report(report_id) if lock else report_repo.get_report(report_id)

    def base_of(self, report: Report, version: int) -> dict | None:
        return base_of(report, version)

    def correction(self, correction_id: uuid.UUID) -> dict | None:
        found = correction_repo.get_correction(correction_id)
        if found is None:
            return None
        return {"author_id": found.author_id, "office_id": found.office_id, "kind": found.kind,
                "location": None if found.location is None else lon_lat(found.location), "phone": found.phone,
                "note": found.note}

    # ------------------------------------------------------------ writes

    def new_report(self, row: dict) -> Report:
        return Report(**row)

    def add_report(self, report: Report) -> None:
        report_repo.add(report)

    def insert_reports(self, rows: list[dict]) -> list[str]:
        """Plain rows, which no flush event sees: each written with its record (report_form),
        and those records returned, for the push's answer (`written_record`). The records
        are written a batch at a time, each batch sent as it is ready (bulk.insert_batches):
        the database stores one while the next is written."""
        written: list[str] = []

        def batches():
            for start in range(0, len(rows), REPORTS_A_BATCH):
                batch = rows[start:start + REPORTS_A_BATCH]
                records = [wire_of(SimpleNamespace(**row)) for row in batch]
                written.extend(records)
                yield [row | {"wire": record, "wire_key": wire_key(row["version"])}
                       for row, record in zip(batch, records)]

        bulk.insert_batches(Report, batches())
        if len(written) != len(rows):  # (every batch is made by the time the insert returns)
            raise RuntimeError(f"{len(written)} records written for {len(rows)} reports")
        return written

    def written_record(self, written: str, missing: list[str]):
        return with_pending(written, missing)

    def insert_versions(self, rows: list[dict]) -> None:
        bulk.insert_many(ReportVersion, rows)

    def record_changes(self, rows: list[dict]) -> None:
        changefeed.record_many(rows)

    def insert_conflicts(self, rows: list[dict]) -> None:
        bulk.insert_many(SyncConflict, rows)

    def insert_ledger(self, rows: list[dict]) -> None:
        bulk.insert_many(LedgerEntry, rows)

    def quarantine(self, row: dict) -> None:
        ledger_repo.add(QuarantinedOp(**row))

    def add_correction(self, row: dict) -> None:
        location = row["location"]
        correction_repo.add(OfficeCorrection(**row | {"location": None if location is None else to_db(location)}))

    # ------------------------------------------------------------ judging (DESIGN §6)

    def cases_for(self, days: set[tuple]) -> dict:
        return violations.cases_for(days)

    def file_report(self, report, office, cases: dict | None = None) -> None:
        violations.file_report(report, office, self.book, cases)
