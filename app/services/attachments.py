"""Photos, content-addressed by SHA-256: whole uploads and resumable ones (DESIGN §5.5).

A blob exists only once all of it has arrived and hashes to its name: bytes go to a
temporary or partial file first and are moved into place (an atomic rename) after the
hash checks out, and only then is the `attachments` row committed (it is inserted just
before the rename, which tells whether the photo is new, but no one sees it until the
commit). So a crash mid-upload leaves a partial file to resume, never a photo that counts
as stored but is not whole. The bytes are synced before the write transaction opens (a sync
of up to 15 MB must not hold SQLite's one writer), the directory after the rename, and the
directory's own name once per process: all before the commit, so a power cut after it (the
phone then told the photo is stored, and no longer sending it) cannot leave the photo empty
or missing.

A hash is a name, not a proof: whoever sends a photo's bytes is recorded as one of its
senders (also when someone else stored the same photo before), an upload in pieces is its
sender's alone, and a photo is read only by its senders and by those who may see a report
of a sender that uses it.

A body can take minutes to arrive over 2G, so it is read with no transaction open: on
SQLite a write request's first query (the token's) begins the database's one write
transaction (`BEGIN IMMEDIATE`), which every other write in the city would wait behind.
That transaction is ended before the body is read, and the writes come after, in a short
one of their own.
"""

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app.errors import Problem
from app.models import Attachment, AttachmentUpload, User
from app.repositories import attachments as repo
from app.services import end_read, unit_of_work
from app.services.visibility import Visibility
from schemas.patterns import SHA256_HEX

MAX_BYTES = 15 * 1024 * 1024
# Uploads in pieces one user may have open at once (a phone sends one photo at a time): with
# MAX_BYTES each, what one account can hold on disk until cleanup is bounded.
MAX_OPEN_UPLOADS = 20
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
CHUNK = 64 * 1024
# Matched whole (fullmatch): `$` would also match before a trailing newline.
SHA256_NAME = re.compile(SHA256_HEX)  # matched whole (fullmatch)
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
# Each type's signature, the first bytes every file of it starts with.
SIGNATURES = {"image/jpeg": re.compile(rb"\xff\xd8\xff"), "image/png": re.compile(rb"\x89PNG\r\n\x1a\n"),
              "image/webp": re.compile(rb"RIFF....WEBP", re.DOTALL)}
SIGNATURE_BYTES = 12


@dataclass(frozen=True)
class Progress:
    offset: int  # bytes held so far
    total: int | None
    complete: bool
    created: bool = False  # this request stored the photo for the first time


def _root() -> Path:
    return Path(current_app.config["ATTACHMENTS_DIR"])


def blob_path(sha: str) -> Path:
    return _root() / "blobs" / sha[:2] / sha


def partial_dir() -> Path:
    return _root() / "partial"


def partial_path(user_id: int, sha: str) -> Path:
    return partial_dir() / str(user_id) / sha


def temp_dir() -> Path:
    return _root() / "tmp"


def check_name(sha: str) -> None:
    if not SHA256_NAME.fullmatch(sha):
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
        raise Problem("photo-too-large", f"A photo is at most {MAX_BYTES} bytes; this one is {length}.")
    return length


def check_image(head: bytes, mimetype: str) -> None:
    """Refuse bytes that do not start with the signature of their declared type."""
    if not SIGNATURES[mimetype].match(head):
        raise Problem("not-an-image", f"The bytes are not a {mimetype} image: they do not begin with its "
                      "signature. Nothing was stored.")


def progress(user: User, sha: str) -> Progress:
    """What the server holds of this photo from this user: never what others sent."""
    check_name(sha)
    stored = repo.sent_by(sha, user.id)
    if stored is not None:
        return Progress(stored.size, stored.size, True)
    upload = repo.upload(user.id, sha)
    if upload is None:
        return Progress(0, None, False)
    return Progress(_held(upload), upload.total, False)


def put_whole(user: User, sha: str, content_type: str | None, length: int | None, stream) -> bool:
    """Store a whole upload; True if it was new (201), False if already there (200).

    The bytes are read and verified even when the photo is stored already: sending them is
    what makes the caller one of its senders."""
    check_name(sha)
    mimetype = check_type(content_type)
    check_size(length)
    user_id = user.id
    _end_transaction()
    temp, digest = _receive(stream, mimetype, sync=True)
    if digest != sha:
        temp.unlink(missing_ok=True)
        raise Problem("photo-hash-mismatch", f"The bytes hash to {digest}, not to {sha}: nothing stored.")
    with unit_of_work():
        return _store(user_id, sha, mimetype, temp)


def put_piece(user: User, sha: str, content_type: str | None, content_range: str | None, length: int | None,
              stream) -> Progress:
    """Append one piece of the caller's resumable upload (`Content-Range: bytes START-END/TOTAL`)."""
    check_name(sha)
    match = CONTENT_RANGE.fullmatch((content_range or "").strip())
    if not match:
        raise Problem("bad-request", "Give Content-Range: bytes START-END/TOTAL.")
    start, end, total = map(int, match.groups())
    check_size(total)
    if end < start or end >= total or length != end - start + 1:
        raise Problem("bad-request", f"Content-Range {start}-{end}/{total} does not fit a body of {length} bytes.")
    user_id = user.id
    # A piece that cannot be taken is refused before its body is read; the same checks
    # are made again, under lock, before it is appended.
    state = repo.piece_state(user_id, sha)
    if state.sent_size is not None:
        return Progress(state.sent_size, state.sent_size, True)
    upload = _check_piece(state, start, total)
    mimetype = upload.content_type if upload is not None else check_type(content_type)
    _end_transaction()
    whole = start == 0 and length == total
    # A first piece is checked for the declared image type as it comes in, once it has
    # enough bytes to show it (a shorter one is checked when the pieces come together).
    piece, digest = _receive(stream, mimetype if start == 0 and (whole or length >= SIGNATURE_BYTES) else None,
                             sync=whole)
    try:
        if piece.stat().st_size != length:
            raise Problem("bad-request", f"The body has {piece.stat().st_size} bytes, not the {length} it announced.")
        if whole:
            # The whole photo in one piece (the usual case on a good line): stored as a PUT
            # stores it, with no partial file to write, fsync and read back.
            if digest != sha:
                raise Problem("photo-hash-mismatch", f"The bytes hash to {digest}, not to {sha}: nothing stored.")
            with unit_of_work():
                created = _store(user_id, sha, mimetype, piece)
            return Progress(total, total, True, created)
        # The last piece: the whole photo is hashed now, before the write transaction (up
        # to 15 MB, tens of ms: not while holding SQLite's one writer). The bytes before
        # `start` are the ones the database committed, which only a request at a smaller
        # offset could rewrite, and that one would find `start` taken (409).
        whole_hash = _hash_file(partial_path(user_id, sha), start, piece) if start + length == total else None
        with unit_of_work() as session:
            return _append(session, user_id, sha, mimetype, start, total, piece, whole_hash)
    finally:
        piece.unlink(missing_ok=True)


def _end_transaction() -> None:
    # Only reads were made (the token, the checks); see the module's docstring for why.
    end_read()


def _check_piece(state: repo.PieceState, start: int, total: int) -> repo.Upload | None:
    """The caller's upload a piece at `start` goes on (None: it starts one), or 409."""
    upload = state.upload
    if upload is None and state.open_uploads >= MAX_OPEN_UPLOADS:
        raise Problem("too-many-open-uploads", f"You have {MAX_OPEN_UPLOADS} uploads in pieces open: finish "
                                               "one (or let it expire) before starting another.",
                      headers={"Retry-After": "60"})
    held = _held(upload) if upload is not None else 0
    if upload is not None and upload.total != total:
        raise Problem("upload-length-mismatch", f"This upload is {upload.total} bytes long, not {total}.",
                      headers={"Upload-Offset": str(held)})
    if start != held:
        raise Problem("upload-offset-mismatch", f"The server holds {held} bytes; resume from there.",
                      headers={"Upload-Offset": str(held)})
    return upload


def _append(session, user_id: int, sha: str, mimetype: str, start: int, total: int, piece: Path,
            whole_hash: tuple[str, bytes] | None) -> Progress:
    repo.lock_uploads_of(user_id)
    state = repo.piece_state(user_id, sha)
    if state.sent_size is not None:  # the caller sent it whole meanwhile
        return Progress(state.sent_size, state.sent_size, True)
    upload = _check_piece(state, start, total)
    partial = partial_path(user_id, sha)
    partial.parent.mkdir(parents=True, exist_ok=True)
    if upload is not None:
        mimetype = upload.content_type
    else:
        repo.start_upload(user_id, sha, total, mimetype)
    # A local append (and its fsync) under the lock; the piece itself came in before. What
    # the file holds past `start` came from a request whose transaction failed after its
    # append (the row, not the file, says what arrived): it is cut off first.
    with piece.open("rb") as source, partial.open("ab") as target:
        target.truncate(start)
        shutil.copyfileobj(source, target, CHUNK)
        target.flush()
        os.fsync(target.fileno())
    held = start + piece.stat().st_size
    if held < total:
        repo.touch_upload(user_id, sha, held)
        return Progress(held, total, False)
    repo.delete_upload(user_id, sha)
    digest, head = whole_hash
    try:
        if digest != sha:
            raise Problem("photo-hash-mismatch",
                          f"The whole upload hashes to {digest}, not to {sha}: discarded, start again.")
        check_image(head, mimetype)
    except Problem:
        partial.unlink(missing_ok=True)
        session.commit()
        raise
    created = _store(user_id, sha, mimetype, partial)
    return Progress(total, total, True, created)


def _receive(stream, mimetype: str | None, sync: bool = False) -> tuple[Path, str]:
    """Read a body into a file of its own: (its path, its sha256). With `mimetype`, the body
    begins a photo of that type, and is refused as soon as its first bytes show it does not.
    With `sync`, the file is on disk when this returns (a whole photo, to be moved into place;
    a piece is synced where it is appended)."""
    directory = temp_dir()
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    head = b""
    # A plain file on mkstemp's descriptor: NamedTemporaryFile's wrapper re-wraps each method
    # it is asked for (functools.wraps: some 20 AttributeErrors raised and caught a photo).
    descriptor, name = tempfile.mkstemp(dir=directory, prefix="body-")
    with open(descriptor, "wb") as handle:
        try:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                if mimetype is not None and len(head) < SIGNATURE_BYTES:
                    head += chunk[:SIGNATURE_BYTES - len(head)]
                    if len(head) == SIGNATURE_BYTES:
                        check_image(head, mimetype)
                digest.update(chunk)
                handle.write(chunk)
            if mimetype is not None and len(head) < SIGNATURE_BYTES:
                check_image(head, mimetype)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            handle.close()
            Path(name).unlink(missing_ok=True)
            raise
    return Path(name), digest.hexdigest()


def _held(upload: AttachmentUpload | repo.Upload) -> int:
    """The bytes of an upload that have arrived: as its row says, and its file still holds
    (a file moved into place by a request whose transaction then failed holds none)."""
    partial = partial_path(upload.user_id, upload.sha256)
    return min(upload.received, partial.stat().st_size if partial.exists() else 0)


def _hash_file(partial: Path, start: int, piece: Path) -> tuple[str, bytes]:
    """The sha256 and the first bytes of a whole upload: the first `start` bytes of its
    partial file, then its last piece."""
    digest, head = hashlib.sha256(), bytearray()
    for path, left in ((partial, start), (piece, None)):
        if left == 0:
            continue
        with path.open("rb") as handle:
            while left is None or left > 0:
                chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                head += chunk[:max(0, SIGNATURE_BYTES - len(head))]
                digest.update(chunk)
    return digest.hexdigest(), bytes(head)


def _store(user_id: int, sha: str, mimetype: str, source: Path) -> bool:
    """Make `source` (whole, verified, on disk: synced by the caller) the stored photo unless it
    is there already, and the caller one of its senders; True if it was not stored before.

    Stored whole, by whatever path: the caller's upload of it begun earlier (a request cut
    by a crash, then the photo sent again; or pieces begun while this body came in) is
    over, row and partial file alike."""
    size = source.stat().st_size
    created = repo.store(sha, size, mimetype, user_id)
    if created:
        # The file is in place, on disk, before the row says it is stored: the row commits
        # after this (and until then another sender's insert of it waits, then does nothing).
        target = blob_path(sha)
        _durable_directory(target.parent)
        os.replace(source, target)
        _sync(target.parent)
    else:
        source.unlink(missing_ok=True)
    partial_path(user_id, sha).unlink(missing_ok=True)
    return created


# The directories this process has made sure of: there, and their names on disk.
_DURABLE: set[Path] = set()


def _durable_directory(path: Path) -> None:
    """`path` exists and a power cut cannot take its name back: its parents up to the
    attachments directory (the operator's) are synced, once per process and directory, also
    when another process made it (whose sync may not have happened yet)."""
    if path in _DURABLE:
        return
    path.mkdir(parents=True, exist_ok=True)
    root = _root()
    for parent in path.parents:
        _sync(parent)
        if parent == root:
            break
    _DURABLE.add(path)


def _sync(path: Path) -> None:
    """Ask the kernel to put a file's bytes, or a directory's names, on the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def readable(user: User, sha: str) -> Attachment:
    """The photo, to its senders, the committee and admins, and a district head whose district
    has a report that uses it by an author who sent it; else 404."""
    check_name(sha)
    stored = repo.get(sha)
    if stored is not None:
        visibility = Visibility.of(user)
        if visibility.districts is None or repo.sent_by(sha, user.id) is not None:
            return stored
        # An inspector sees only their own reports: were they a sender, they were let in above.
        if visibility.author_id is None and repo.used_in(sha, visibility.districts):
            return stored
    raise Problem("not-found", "There is no such photo, or it is not yours to see.")
