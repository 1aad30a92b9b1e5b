"""A report as the wire carries it: its record, with the photos its author has yet to send."""

from sqlalchemy import Row

from app.models import Report
from app.repositories import attachments as attachment_repo
from schemas.sync import write_report


def dump_reports(reports: list[Report] | list[Row]) -> list[dict]:
    """Many reports, with one query for all their missing photos (a pull page, a case)."""
    pending = attachment_repo.missing_photos((r.author_id, p["sha256"]) for r in reports for p in r.photos)
    return [write_report(r, {p["sha256"] for p in r.photos if (r.author_id, p["sha256"]) in pending})
            for r in reports]
