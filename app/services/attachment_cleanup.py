"""Photos nobody references are cleaned up after a stated time (DESIGN §5.5):
`flask --app app cleanup-attachments [--dry-run]`.

- an upload in pieces untouched for ATTACHMENT_PARTIAL_HOURS (its row and partial file), and
  any file under `partial/` or `tmp/` that no upload owns and that old (left by a crash);
- a stored photo older than ATTACHMENT_UNREFERENCED_DAYS that no report names in its photos
  or amendments (deleted reports too: they stay for audit), with its senders and file.

Rows go first, in one transaction; files after it commits, so a file is never missing
while a row says it is there. The scan of every report for the photos it names runs before,
with no lock; the deleting transaction holds the whole city's change-feed lock (as a
citywide write does) and looks again only for reports naming the photos it found, so no
push lands a report naming a photo between that check and its deletion, and pushes wait
for the check, not for the scan.
"""

import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app

from app.database import utcnow
from app.repositories import attachments as repo
from app.services import attachments, changefeed, unit_of_work

HASH_IN_TEXT = re.compile(r"[0-9a-f]{64}")


@dataclass
class Cleaned:
    uploads: list[tuple[int, str]] = field(default_factory=list)  # (user_id, sha256) of stale uploads in pieces
    stray_files: list[Path] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)  # sha256s of photos no report names


def clean(dry_run: bool = False) -> Cleaned:
    partial_hours = current_app.config["ATTACHMENT_PARTIAL_HOURS"]
    unreferenced_days = current_app.config["ATTACHMENT_UNREFERENCED_DAYS"]
    now = utcnow()
    upload_cutoff = now - timedelta(hours=partial_hours)
    photo_cutoff = now - timedelta(days=unreferenced_days)
    # The long read first, with no lock: every report's photos, against the old photos.
    with unit_of_work():
        unreferenced = repo.stored_before(photo_cutoff)
        if unreferenced:
            for text in repo.report_photo_texts():
                unreferenced.difference_update(HASH_IN_TEXT.findall(text))
    with unit_of_work():
        changefeed.lock(None)  # no report lands meanwhile (see the module's docstring)
        out = Cleaned(uploads=repo.stale_uploads(upload_cutoff, delete=not dry_run))
        # Under the lock, only the few candidates again: a report that named one since.
        unreferenced -= repo.named_by_reports(unreferenced)
        out.photos = sorted(unreferenced) if dry_run else repo.delete_stored(unreferenced, photo_cutoff)
        held = repo.uploads_held() | set(out.uploads)
    out.stray_files = _stray_files(held, time.time() - partial_hours * 3600)
    if not dry_run:
        for user_id, sha in out.uploads:
            attachments.partial_path(user_id, sha).unlink(missing_ok=True)
        for sha in out.photos:
            attachments.blob_path(sha).unlink(missing_ok=True)
        for path in out.stray_files:
            path.unlink(missing_ok=True)
    return out


def _stray_files(held: set[tuple[int, str]], older_than: float) -> list[Path]:
    """Files under partial/ and tmp/ last written before `older_than` (epoch seconds) that no
    upload holds: a body cut off by a crash, a partial file whose row is gone."""
    owned = {attachments.partial_path(user_id, sha) for user_id, sha in held}
    candidates = [*_files(attachments.partial_dir()), *_files(attachments.temp_dir())]
    return sorted(path for path in candidates if path not in owned and path.stat().st_mtime < older_than)


def _files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []
