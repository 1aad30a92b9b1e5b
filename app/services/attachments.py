"""Photos, content-addressed by SHA-256: whole uploads and resumable ones (DESIGN §5.5).

A blob exists only once all of it has arrived and hashes to its name: bytes go to a
temporary or partial file first and are moved into place (an atomic rename) after the
hash checks out, and only then is the `attachments` row written. So a crash mid-upload
leaves a partial file to resume, never a photo that counts as stored but is not whole.
"""

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.database import utcnow
from app.errors import Problem
from app.extensions import db
from app.models import Attachment, AttachmentUpload, Report, User
from app.services import unit_of_work
from app.services.scope import Scope

MAX_BYTES = 15 * 1024 * 1024
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
CHUNK = 64 * 1024
SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass(frozen=True)
class Progress:
    offset: int  # bytes held so far
    total: int | None
    complete: bool


def _root() -> Path:
    return Path(current_app.config["ATTACHMENTS_DIR"])


def blob_path(sha: str) -> Path:
    return _root() / "blobs" / sha[:2] / sha


def _partial_path(sha: str) -> Path:
    return _root() / "partial" / sha


def check_name(sha: str) -> None:
    if not SHA256_NAME.match(sha):
        raise Problem("not-found", "An attachment's name is its lower-case hex SHA-256.")


def check_type(content_type: str | None) -> str:
    mimetype = (content_type or "").split(";")[0].strip().lower()
    if mimetype not in CONTENT_TYPES:
        raise Problem("unsupported-media-type", f"Photos are {', '.join(CONTENT_TYPES)}, not {mimetype or 'untyped'}.")
    return mimetype


def check_size(length: int | None) -> int:
    if length is None:
        raise Problem("length-required", "Give a Content-Length.")
    if length > MAX_BYTES:
        raise Problem("payload-too-large", f"A photo is at most {MAX_BYTES} bytes; this one is {length}.")
    return length


def progress(sha: str) -> Progress:
    check_name(sha)
    stored = db.session.get(Attachment, sha)
    if stored is not None:
        return Progress(stored.size, stored.size, True)
    upload = db.session.get(AttachmentUpload, sha)
    partial = _partial_path(sha)
    held = partial.stat().st_size if upload is not None and partial.exists() else 0
    return Progress(held, upload.total if upload else None, False)


def put_whole(user: User, sha: str, content_type: str | None, length: int | None, stream) -> bool:
    """Store a whole upload; True if it was new (201), False if already there (200)."""
    check_name(sha)
    mimetype = check_type(content_type)
    check_size(length)
    if db.session.get(Attachment, sha) is not None:
        return False
    directory = _root() / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=directory, delete=False) as handle:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
            handle.write(chunk)
    temp = Path(handle.name)
    if digest.hexdigest() != sha:
        temp.unlink(missing_ok=True)
        raise Problem("bad-request", f"The bytes hash to {digest.hexdigest()}, not to {sha}: nothing stored.")
    return _store(user, sha, mimetype, temp)


def put_piece(user: User, sha: str, content_type: str | None, content_range: str | None, length: int | None,
              stream) -> Progress:
    """Append one piece of a resumable upload (`Content-Range: bytes START-END/TOTAL`)."""
    check_name(sha)
    match = CONTENT_RANGE.match((content_range or "").strip())
    if not match:
        raise Problem("bad-request", "Give Content-Range: bytes START-END/TOTAL.")
    start, end, total = map(int, match.groups())
    check_size(total)
    if end < start or end >= total or length != end - start + 1:
        raise Problem("bad-request", f"Content-Range {start}-{end}/{total} does not fit a body of {length} bytes.")
    with unit_of_work() as session:
        if session.get(Attachment, sha) is not None:
            return Progress(total, total, True)
        upload = session.scalar(sa.select(AttachmentUpload).where(AttachmentUpload.sha256 == sha).with_for_update())
        if upload is None:
            upload = AttachmentUpload(sha256=sha, total=total, content_type=check_type(content_type),
                                      user_id=user.id, updated_at=utcnow())
            session.add(upload)
            _partial_path(sha).unlink(missing_ok=True)
        elif upload.total != total:
            raise Problem("conflict", f"This upload is {upload.total} bytes long, not {total}.",
                          headers={"Upload-Offset": str(_held(sha))})
        held = _held(sha)
        if start != held:
            raise Problem("conflict", f"The server holds {held} bytes; resume from there.",
                          headers={"Upload-Offset": str(held)})
        partial = _partial_path(sha)
        partial.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("ab") as handle:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        held = _held(sha)
        upload.updated_at = utcnow()
        if held < total:
            return Progress(held, total, False)
        digest = _hash_file(partial)
        # A photo that came in one piece has an upload row only in this session, never
        # written: it is dropped from the session, not deleted from the table.
        if upload in session.new:
            session.expunge(upload)
        else:
            session.delete(upload)
        if digest != sha:
            partial.unlink(missing_ok=True)
            session.commit()
            raise Problem("bad-request", f"The whole upload hashes to {digest}, not to {sha}: discarded, start again.")
        _store_in(session, user, sha, upload.content_type, partial)
        return Progress(total, total, True)


def _held(sha: str) -> int:
    partial = _partial_path(sha)
    return partial.stat().st_size if partial.exists() else 0


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _store(user: User, sha: str, mimetype: str, source: Path) -> bool:
    with unit_of_work() as session:
        if session.get(Attachment, sha) is not None:
            source.unlink(missing_ok=True)
            return False
        _store_in(session, user, sha, mimetype, source)
    return True


def _store_in(session, user: User, sha: str, mimetype: str, source: Path) -> None:
    # The file is in place before the row says it is stored (the row commits after this).
    target = blob_path(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    size = source.stat().st_size
    os.replace(source, target)
    # Stored whole, by whatever path: an upload of it begun earlier (a request cut by a
    # crash, then the photo sent again) is over, row and partial file alike.
    session.execute(sa.delete(AttachmentUpload).where(AttachmentUpload.sha256 == sha))
    _partial_path(sha).unlink(missing_ok=True)
    session.add(Attachment(sha256=sha, size=size, content_type=mimetype, uploaded_by=user.id, created_at=utcnow()))


def readable(user: User, sha: str) -> Attachment:
    """The attachment, if it exists and the user may see a report that uses it (else 404)."""
    check_name(sha)
    stored = db.session.get(Attachment, sha)
    if stored is None:
        raise Problem("not-found", "There is no such photo, or it is not yours to see.")
    if user.citywide or stored.uploaded_by == user.id:
        return stored
    uses = sa.select(Report.author_id, Report.district).where(sa.cast(Report.photos, sa.Text).like(f"%{sha}%"))
    scope = Scope.of(user)
    for author_id, district in db.session.execute(uses):
        if author_id == user.id or (user.role == "district_head" and scope.covers(district)):
            return stored
    raise Problem("not-found", "There is no such photo, or it is not yours to see.")
