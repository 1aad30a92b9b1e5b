"""After a load or chaos run: is everything the phones made on the server exactly once, whole?

Checked straight in the database (and the attachments directory), not through the API:

- every op the server acknowledged is in the op ledger with its report, each report was
  created by exactly one ledger entry (a retried op applied once), and no report came from
  those devices that no phone made;
- no half-written report: each has its version rows 1…version, a ledger entry and a change
  in the feed;
- every photo the server acknowledged is stored, and only as a complete file whose SHA-256
  is its name; no attachment row anywhere lacks its file; no report has a photo pending
  but one its phone never delivered;
- nothing the phones sent was quarantined.

What a phone made but gave up on before the server answered (an overloaded run) is counted
in `undelivered`, apart from the problems: the server never had a chance to lose it.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.harness import libpq


@dataclass
class Findings:
    reports_expected: int = 0
    reports_found: int = 0
    photos_expected: int = 0
    photos_stored: int = 0
    ops_acknowledged: int = 0
    problems: list[str] = field(default_factory=list)
    leftovers: dict[str, int] = field(default_factory=dict)  # harmless: partial/tmp files, stray blobs
    undelivered: dict[str, int] = field(default_factory=dict)  # what phones gave up on before an answer

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str, examples=()) -> None:
        examples = list(examples)
        self.problems.append(text + (f" (e.g. {', '.join(map(str, examples[:3]))})" if examples else ""))


def check(database_url: str, attachments_dir: Path | None, *, report_ids: list[str], device_ids: list[str],
          photos: dict[str, int], acknowledged: dict[str, str], photos_acknowledged: set[str]) -> Findings:
    """Check the invariants for what the phones made (`photos`: sha256 -> size). What the server
    acknowledged (ops answered, photos answered 201) must be there; what a phone gave up on
    before it was acknowledged is counted as not delivered, not as lost."""
    found = Findings(reports_expected=len(report_ids), photos_expected=len(photos),
                     ops_acknowledged=len(acknowledged))
    with psycopg.connect(libpq(database_url)) as conn:
        _reports(conn, found, report_ids, device_ids)
        _ledger(conn, found, report_ids, acknowledged)
        _whole_reports(conn, found, report_ids)
        _photos(conn, found, attachments_dir, photos, photos_acknowledged, report_ids)
        quarantined = conn.execute("SELECT count(*) FROM quarantine WHERE device_id = ANY(%s::uuid[])",
                                   (device_ids,)).fetchone()[0]
        if quarantined:
            found.problem(f"{quarantined} op(s) from these phones were quarantined")
    return found


def _reports(conn, found: Findings, report_ids: list[str], device_ids: list[str]) -> None:
    rows = conn.execute("SELECT id::text FROM reports WHERE id = ANY(%s::uuid[])", (report_ids,)).fetchall()
    present = {r[0] for r in rows}
    found.reports_found = len(present)
    missing = set(report_ids) - present
    if missing:
        found.undelivered["reports"] = len(missing)  # lost only if acknowledged: see _ledger
    extra = conn.execute("SELECT id::text FROM reports WHERE device_id = ANY(%s::uuid[]) AND NOT id = ANY(%s::uuid[])",
                         (device_ids, report_ids)).fetchall()
    if extra:
        found.problem(f"{len(extra)} report(s) from these devices that no phone made (doubled?)",
                      [r[0] for r in extra])


def _ledger(conn, found: Findings, report_ids: list[str], acknowledged: dict[str, str]) -> None:
    acked = sorted(acknowledged)
    in_ledger = {r[0] for r in conn.execute("SELECT op_id::text FROM op_ledger WHERE op_id = ANY(%s::uuid[])",
                                            (acked,))}
    lost = [op for op in acked if acknowledged[op] != "rejected" and op not in in_ledger]
    if lost:
        found.problem(f"{len(lost)} acknowledged op(s) missing from the op ledger", lost)
    orphaned = conn.execute(
        "SELECT l.op_id::text FROM op_ledger l LEFT JOIN reports r ON r.id = l.entity_id "
        "WHERE l.op_id = ANY(%s::uuid[]) AND l.entity = 'reports' AND r.id IS NULL", (acked,)).fetchall()
    if orphaned:
        found.problem(f"{len(orphaned)} acknowledged op(s) whose report is not there", [r[0] for r in orphaned])
    creates = conn.execute(
        "SELECT entity_id::text, count(*) FROM op_ledger WHERE entity_id = ANY(%s::uuid[]) AND action = 'create' "
        "GROUP BY entity_id", (report_ids,)).fetchall()
    doubled = [rid for rid, n in creates if n != 1]
    if doubled:
        found.problem(f"{len(doubled)} report(s) created by more than one ledger entry", doubled)


def _whole_reports(conn, found: Findings, report_ids: list[str]) -> None:
    # A report row without all its versions, its ledger entry or its change in the feed
    # would be a half-written push.
    ids = (report_ids,)
    versions = dict(conn.execute("SELECT id::text, version FROM reports WHERE id = ANY(%s::uuid[])", ids).fetchall())
    rows = dict(conn.execute("SELECT v.report_id::text, count(*) FROM report_versions v JOIN reports r ON "
                             "r.id = v.report_id WHERE r.id = ANY(%s::uuid[]) AND v.version BETWEEN 1 AND r.version "
                             "GROUP BY v.report_id", ids).fetchall())
    ledger = dict(conn.execute("SELECT entity_id::text, count(*) FROM op_ledger WHERE entity_id = ANY(%s::uuid[]) "
                               "GROUP BY entity_id", ids).fetchall())
    feed = dict(conn.execute("SELECT entity_id, count(*) FROM changes WHERE entity = 'reports' AND entity_id = ANY(%s) "
                             "GROUP BY entity_id", ids).fetchall())
    half = [rid for rid, version in versions.items()
            if rows.get(rid, 0) != version or ledger.get(rid, 0) < 1 or feed.get(rid, 0) < 1]
    if half:
        found.problem(f"{len(half)} half-written report(s) (versions, ledger entry or change missing)", half)


def _photos(conn, found: Findings, attachments_dir: Path | None, photos: dict[str, int], acknowledged: set[str],
            report_ids: list[str]) -> None:
    shas = sorted(photos)
    stored = {sha: size for sha, size in conn.execute(
        "SELECT sha256, size FROM attachments WHERE sha256 = ANY(%s)", (shas,))}
    found.photos_stored = len(stored)
    lost = [sha for sha in shas if sha in acknowledged and sha not in stored]
    if lost:
        found.problem(f"{len(lost)} photo(s) acknowledged but not stored", lost)
    undelivered = [sha for sha in shas if sha not in acknowledged and sha not in stored]
    if undelivered:
        found.undelivered["photos"] = len(undelivered)
    wrong_size = [sha for sha, size in stored.items() if size != photos[sha]]
    if wrong_size:
        found.problem(f"{len(wrong_size)} photo(s) stored with the wrong size", wrong_size)
    pending = conn.execute("""
        SELECT count(*) FROM reports r, json_array_elements(r.photos::json) p
        WHERE r.id = ANY(%s::uuid[]) AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = p->>'sha256')""",
                           (report_ids,)).fetchone()[0]
    if pending > len(undelivered):
        found.problem(f"{pending} photo(s) of these reports still pending, {len(undelivered)} never delivered")
    unfinished = conn.execute("SELECT count(*) FROM attachment_uploads WHERE sha256 = ANY(%s)", (shas,)).fetchone()[0]
    if unfinished:
        found.problem(f"{unfinished} finished photo(s) still have an upload in progress")
    if attachments_dir is None:
        return
    # Every attachment row in the database, not only these phones': a row counts a photo as
    # stored, so its file must be whole and hash to its name.
    rows = {sha: size for sha, size in conn.execute("SELECT sha256, size FROM attachments")}
    blobs = Path(attachments_dir) / "blobs"
    broken = [sha for sha, size in rows.items() if not _whole(blobs / sha[:2] / sha, sha, size)]
    if broken:
        found.problem(f"{len(broken)} attachment row(s) without a whole file that hashes to the name", broken)
    on_disk = {p.name for p in blobs.glob("*/*")} if blobs.exists() else set()
    found.leftovers = {
        "blobs without a row": len(on_disk - set(rows)),
        "partial files": _count(Path(attachments_dir) / "partial"),
        "temporary files": _count(Path(attachments_dir) / "tmp"),
    }


def _whole(path: Path, sha: str, size: int) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return len(data) == size and hashlib.sha256(data).hexdigest() == sha


def _count(directory: Path) -> int:
    """Files below `directory`, at any depth (uploads in pieces are kept per user: partial/<user>/<sha>)."""
    return sum(1 for path in directory.rglob("*") if path.is_file()) if directory.exists() else 0
