"""A report's versions: every version a phone can hold is kept, so it can be a merge base.

A phone bases its next update on the version it last pulled, whoever raised it: the phone
itself, another device of its inspector, or the server (re-judging when the hours change,
a case withdrawn). So every raise of `version` goes through `new_version`, which keeps the
client fields of that version (`report_versions`) and tells the change feed; an update
based on any version ever issued then finds its base for the three-way merge (DESIGN §5.4).
"""

from datetime import UTC, datetime

from app.models import Report, ReportVersion
from app.repositories import reports as repo
from app.services import changefeed
from geo.geometry import to_geojson


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
                      deleted=report.deleted_at is not None)


def base_of(report: Report, version: int) -> dict | None:
    """The client fields of `version` of the report: the version kept then, or (a database
    from before every raise kept one) the latest kept before it, which is the same client
    fields, since only the server's own fields changed in between. None if nothing that
    old is kept: a merge must then not guess (against the current fields it would
    overwrite the server's changes with no conflict)."""
    kept = repo.report_version_at_most(report.id, version)
    return kept.data if kept is not None else None


# ---------------------------------------------------------------- canonical client fields


def instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _point(geom) -> dict | None:
    if geom is None:
        return None
    geo = to_geojson(geom)
    return {"type": "Point", "coordinates": [float(c) for c in geo["coordinates"][:2]]}


def canonical(data: dict) -> dict:
    """Loaded client fields as plain JSON values, comparable with stored versions."""
    out = {}
    for name, value in data.items():
        if name in ("observed_at", "gps_fix_at"):
            out[name] = instant(value)
        elif name == "location":
            out[name] = _point(value)
        elif name in ("office_id", "round_id"):
            out[name] = None if value is None else str(value)
        elif name == "photos":
            out[name] = canonical_photos(value)
        else:
            out[name] = value
    return out


def canonical_photos(photos: list) -> list:
    return [{"sha256": p["sha256"], "taken_at": instant(p.get("taken_at")), "caption": p.get("caption", "")}
            for p in photos]


def canonical_of(report: Report) -> dict:
    return {
        "office_id": str(report.office_id), "round_id": None if report.round_id is None else str(report.round_id),
        "observed_at": instant(report.observed_at), "gps_fix_at": instant(report.gps_fix_at),
        "location": _point(report.location), "accuracy_m": report.accuracy_m, "office_state": report.office_state,
        "staff_present": report.staff_present, "checklist": dict(report.checklist), "notes": report.notes,
        "photos": list(report.photos),
    }
