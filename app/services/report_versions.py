"""A report's versions: every version a phone can hold is kept, so it can be a merge base.

A phone bases its next update on the version it last pulled, whoever raised it: the phone
itself, another device of its inspector, or the server (re-judging when the hours change,
a case withdrawn). So every raise of `version` keeps the client fields of that version
(`report_versions`) and tells the change feed: the server's own raises through
`new_version` here, a push's through sync.push's `_Engine.write`, for one op or a batch. An
update based on any version ever issued then finds its base for the three-way merge
(DESIGN §5.4).
"""

from datetime import datetime

from app.models import Report, ReportVersion
from app.repositories import reports as repo
from app.services import changefeed
from sync.canonical import canonical_of


def new_version(report: Report, at: datetime, op_id=None) -> None:
    """Raise the report's version (the caller has changed it) and keep that version."""
    report.version += 1
    report.updated_at = at
    keep_version(report, at, op_id)


def keep_version(report: Report, at: datetime, op_id=None) -> None:
    """Keep the report's current version as a merge base and put it on the change feed."""
    repo.add(ReportVersion(report_id=report.id, version=report.version, data=canonical_of(report), op_id=op_id,
                           at=at))
    changefeed.record("reports", report.id, district=report.district, user_id=report.author_id,
                      deleted=report.deleted_at is not None, version=report.version)


def base_of(report: Report, version: int) -> dict | None:
    """The client fields of `version` of the report: the version kept then, or (a database
    from before every raise kept one) the latest kept before it, which is the same client
    fields, since only the server's own fields changed in between. None if nothing that
    old is kept: a merge must then not guess (against the current fields it would
    overwrite the server's changes with no conflict)."""
    kept = repo.report_version_at_most(report.id, version)
    return kept.data if kept is not None else None
