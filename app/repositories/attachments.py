"""Queries on photos: the stored blobs, who sent each, and uploads in pieces (DESIGN §5.5)."""

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.models import Attachment, AttachmentSender, AttachmentUpload, Report, User
from app.repositories import bulk

# A district head's GET looks at this many reports that may use a photo (see `used_in`).
USES_LOOKED_AT = 20


def get(sha: str) -> Attachment | None:
    return db.session.get(Attachment, sha)


def sent_by(sha: str, user_id: int) -> Attachment | None:
    """The stored photo, if this user has sent its bytes themself."""
    return db.session.scalar(sa.select(Attachment).join(AttachmentSender).where(
        Attachment.sha256 == sha, AttachmentSender.user_id == user_id))


@dataclass(frozen=True)
class Upload:
    """A user's upload in pieces, as its row holds it."""
    user_id: int
    sha256: str
    total: int
    received: int
    content_type: str


@dataclass(frozen=True)
class PieceState:
    """What a piece of a user's upload is checked against."""
    sent_size: int | None  # the stored photo's size, if this user has sent its bytes themself
    upload: Upload | None  # the user's upload in pieces of it
    open_uploads: int  # how many uploads in pieces the user has open


def _piece_state_statement() -> sa.Select:
    user_id, sha = sa.bindparam("user_id"), sa.bindparam("sha")
    sent = (sa.select(Attachment.size).join(AttachmentSender)
            .where(Attachment.sha256 == sha, AttachmentSender.user_id == user_id).scalar_subquery())
    open_uploads = (sa.select(sa.func.count()).select_from(AttachmentUpload)
                    .where(AttachmentUpload.user_id == user_id).scalar_subquery().correlate(None))
    one_row = sa.select(sa.literal(1).label("one")).subquery()
    return (sa.select(sent, open_uploads, AttachmentUpload.user_id, AttachmentUpload.sha256, AttachmentUpload.total,
                      AttachmentUpload.received, AttachmentUpload.content_type)
            .select_from(one_row)
            .outerjoin(AttachmentUpload, sa.and_(AttachmentUpload.user_id == user_id, AttachmentUpload.sha256 == sha)))


# Built once, with its parameters bound at each call: every photo's PATCH asks (building the
# statement and its cache key cost more CPU than its round trip, issue 18).
_PIECE_STATE = _piece_state_statement()


def piece_state(user_id: int, sha: str) -> PieceState:
    """`sent_by`, `upload` and `open_uploads` in one query: a photo's PATCH asks all three,
    before its body is read (in autocommit on PostgreSQL, `bulk.read_alone`: one round trip)
    and again under the uploads' lock, in the transaction that appends a piece."""
    (row,) = bulk.read_alone(_PIECE_STATE, {"user_id": user_id, "sha": sha})
    size, count, *upload = row
    return PieceState(size, Upload(*upload) if upload[0] is not None else None, count)


def missing_attachments(shas: Iterable[str], author_id: int) -> set[str]:
    """Which of these sha256s the author has not sent themself. A hash is a name, not a
    proof (DESIGN §5.5): a photo someone else stored is still missing from this author."""
    return {sha for _, sha in missing_photos((author_id, sha) for sha in shas)}


# Values bound in one IN list at most: PostgreSQL takes 65,535 parameters a statement, SQLite
# 32,766 (a list past either fails the statement, and a pull that always fails never syncs).
IN_CHUNK = 10_000


_SENT_BY_ANY = bulk.Prebuilt(lambda dialect: sa.select(AttachmentSender.user_id, AttachmentSender.sha256).where(
    bulk.any_of(AttachmentSender.sha256, "hashes", dialect), bulk.any_of(AttachmentSender.user_id, "authors", dialect)))


def missing_photos(photos: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (author_id, sha256) pairs the author has not sent: the reports of many authors
    (a case, a pull page) in one query (on the session's connection, no autoflush: senders
    are written by Core statements only)."""
    photos = set(photos)
    if not photos:
        return set()
    statement = _SENT_BY_ANY()
    hashes, authors = sorted({sha for _, sha in photos}), sorted({author for author, _ in photos})
    sent = set()
    for at in range(0, len(hashes), IN_CHUNK):  # a pull page of 2,000 reports may name 100,000 photos
        rows = db.session.connection().execute(statement, {"hashes": hashes[at:at + IN_CHUNK], "authors": authors})
        sent.update((author, sha) for author, sha in rows)
    return photos - sent


def _store_statements(dialect: str) -> tuple:
    """`store`'s statements for this dialect, with the photo's values as parameters (sha,
    size, content_type, user_id, now): on PostgreSQL one, its data-modifying WITH doing the
    three; on SQLite, three."""
    sha, user_id, now = sa.bindparam("sha"), sa.bindparam("user_id"), sa.bindparam("now")
    new = (bulk.insert(Attachment, dialect).values(sha256=sha, size=sa.bindparam("size"), content_type=sa.bindparam("content_type"),
                                     uploaded_by=user_id, created_at=now)
           .on_conflict_do_nothing().returning(Attachment.sha256))
    sender = bulk.insert(AttachmentSender, dialect).values(sha256=sha, user_id=user_id, sent_at=now).on_conflict_do_nothing()
    ended = sa.delete(AttachmentUpload).where(AttachmentUpload.user_id == user_id, AttachmentUpload.sha256 == sha)
    if dialect != "postgresql":
        return new, sender, ended
    # The sender's foreign key is checked at the statement's end, when the photo's row is in.
    stored = new.cte("stored")
    return (sa.select(sa.exists(sa.select(stored.c.sha256))).add_cte(sender.cte("sender")).add_cte(ended.cte("ended")),)


_STORE = bulk.Prebuilt(_store_statements)


def store(sha: str, size: int, content_type: str, user_id: int) -> bool:
    """A whole, verified photo's row unless it is there already (two users sending the same
    photo at once both get here; the second insert does nothing), the user one of its
    senders, and the user's upload in pieces of it over if one is open (one may have begun
    while the photo's body came in); True if the photo's row is new."""
    values = {"sha": sha, "size": size, "content_type": content_type, "user_id": user_id, "now": utcnow()}
    connection = db.session.connection()  # Core statements: the ORM's execution path would add nothing
    statements = _STORE()
    if len(statements) == 1:
        return connection.scalar(statements[0], values)
    new, sender, ended = statements
    created = connection.execute(new, values).first() is not None
    connection.execute(sender, values)
    connection.execute(ended, values)
    return created


def start_upload(user_id: int, sha: str, total: int, content_type: str) -> None:
    db.session.execute(sa.insert(AttachmentUpload).values(user_id=user_id, sha256=sha, total=total,
                                                           content_type=content_type, updated_at=utcnow()))


def lock_uploads_of(user_id: int) -> None:
    """Hold the user's row until the transaction ends, so that the pieces one user sends
    append one after the other, a first piece sent twice at once too (PostgreSQL; SQLite's
    write transactions are already serial). FOR NO KEY UPDATE: rows that merely refer to
    the user (a report, a token) are not held up."""
    db.session.execute(sa.select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def upload(user_id: int, sha: str) -> AttachmentUpload | None:
    """A user's upload in pieces."""
    return db.session.scalar(sa.select(AttachmentUpload).where(AttachmentUpload.user_id == user_id,
                                                               AttachmentUpload.sha256 == sha))


def touch_upload(user_id: int, sha: str, received: int) -> None:
    """The upload has `received` bytes, as of this transaction's commit."""
    db.session.execute(sa.update(AttachmentUpload).where(
        AttachmentUpload.user_id == user_id, AttachmentUpload.sha256 == sha).values(updated_at=utcnow(),
                                                                                     received=received))


def delete_upload(user_id: int, sha: str) -> None:
    db.session.execute(sa.delete(AttachmentUpload).where(AttachmentUpload.user_id == user_id,
                                                         AttachmentUpload.sha256 == sha))


def used_in(sha: str, districts: Collection[int]) -> bool:
    """Whether a report of these districts uses the photo and its author sent the bytes.

    Photos are JSON, so the LIKE only narrows and each candidate is checked exactly (a
    caption may quote a hash). It is bounded: only the reports of the photo's senders are
    looked at (found by the author index), and at most USES_LOOKED_AT of them."""
    senders = sa.select(AttachmentSender.user_id).where(AttachmentSender.sha256 == sha)
    candidates = (sa.select(Report.photos)
                  .where(Report.author_id.in_(senders), Report.district.in_(sorted(districts)),
                         sa.cast(Report.photos, sa.Text).like(f"%{sha}%"))
                  .limit(USES_LOOKED_AT))
    return any(photo.get("sha256") == sha for photos in db.session.scalars(candidates) for photo in photos)


def stale_uploads(before: datetime, *, delete: bool) -> list[tuple[int, str]]:
    """(user_id, sha256) of the uploads in pieces untouched since `before`, deleted if asked.

    The DELETE itself tests the age and returns what it removed, so an upload that a piece
    touched meanwhile stays (PostgreSQL tests again a row it had to wait for)."""
    stale = AttachmentUpload.updated_at < before
    if not delete:
        rows = db.session.execute(sa.select(AttachmentUpload.user_id, AttachmentUpload.sha256).where(stale))
    else:
        rows = db.session.execute(sa.delete(AttachmentUpload).where(stale)
                                  .returning(AttachmentUpload.user_id, AttachmentUpload.sha256))
    return [(user_id, sha) for user_id, sha in rows]


def uploads_held() -> set[tuple[int, str]]:
    return {(user_id, sha) for user_id, sha in db.session.execute(
        sa.select(AttachmentUpload.user_id, AttachmentUpload.sha256))}


def stored_before(before: datetime) -> set[str]:
    return set(db.session.scalars(sa.select(Attachment.sha256).where(Attachment.created_at < before)))


def report_photo_texts() -> Iterator[str]:
    """The photos and amendments of every report, deleted ones too (they stay for audit), as
    JSON text, a page at a time."""
    query = sa.select(sa.cast(Report.photos, sa.Text), sa.cast(Report.amendments, sa.Text))
    for photos, amendments in db.session.execute(query.execution_options(yield_per=1000)):
        yield f"{photos} {amendments}"


def named_by_reports(shas: Collection[str], batch: int = 100) -> set[str]:
    """Which of these photos a report names in its photos or amendments (the database
    searches the text; only the names found come back)."""
    found: set[str] = set()
    text = sa.cast(Report.photos, sa.Text) + " " + sa.cast(Report.amendments, sa.Text)
    ordered = sorted(shas)
    for start in range(0, len(ordered), batch):
        chunk = ordered[start:start + batch]
        for (names,) in db.session.execute(sa.select(text).where(sa.or_(*(text.contains(sha) for sha in chunk)))):
            found.update(sha for sha in chunk if sha in names)
    return found


def delete_stored(shas: Collection[str], before: datetime) -> list[str]:
    """Delete these photos' rows (their senders go with them), if still older than `before`."""
    if not shas:
        return []
    return list(db.session.scalars(sa.delete(Attachment).where(
        Attachment.sha256.in_(sorted(shas)), Attachment.created_at < before).returning(Attachment.sha256)))
