"""`flask --app app cleanup-attachments`: uploads nobody references go after a stated time."""

import os
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.models import Attachment, AttachmentUpload, User
from tests.sync.helpers import envelope, first_office, jpeg, op, report_data

URL = "/api/v1/attachments/"
LONG_AGO = time.time() - 100 * 3600  # past the 72 hours an upload in pieces is kept untouched


def _user_id(username: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.username == username))


def _piece(client, user, body, sha):
    response = client.as_(user).request("PATCH", URL + sha, data=body[:4000], headers={
        "Content-Type": "image/jpeg", "Content-Range": f"bytes 0-3999/{len(body)}"})
    assert response.status_code == 204


def _put(client, seed):
    body, sha = jpeg(seed)
    response = client.as_("inspector-6a").request("PUT", URL + sha, data=body, headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 201
    return sha


def _offset(client, user, sha) -> str:
    return client.as_(user).request("HEAD", URL + sha).headers["Upload-Offset"]


def test_cleanup_removes_stale_uploads_and_photos_no_report_names_and_nothing_else(app, client):
    root = Path(app.config["ATTACHMENTS_DIR"])
    stale_body, stale = jpeg("cleanup-stale-upload", 10_000)
    fresh_body, fresh = jpeg("cleanup-fresh-upload", 10_000)
    _piece(client, "inspector-6a", stale_body, stale)
    _piece(client, "inspector-6b", fresh_body, fresh)
    orphan, used, recent = _put(client, "cleanup-orphan"), _put(client, "cleanup-used"), _put(client, "cleanup-recent")
    office = first_office(client)
    pushed = client.as_("inspector-6a").post("/api/v1/sync/push", json=envelope([op(data=report_data(
        office, photos=[{"sha256": used, "taken_at": None, "caption": ""}]))])).get_json()
    assert pushed["results"][0]["missing_attachments"] == []
    # Time passes: the upload of `stale` was last touched 100 hours ago, `orphan` and `used`
    # were stored 40 days ago; a crash left a body behind in tmp/ long ago.
    stale_file = root / "partial" / str(_user_id("inspector-6a")) / stale
    os.utime(stale_file, (LONG_AGO, LONG_AGO))
    db.session.execute(sa.update(AttachmentUpload).where(AttachmentUpload.sha256 == stale)
                       .values(updated_at=utcnow() - timedelta(hours=100)))
    db.session.execute(sa.update(Attachment).where(Attachment.sha256.in_([orphan, used]))
                       .values(created_at=utcnow() - timedelta(days=40)))
    crashed, current = root / "tmp" / "body-crashed-cleanup", root / "tmp" / "body-current-cleanup"
    crashed.write_bytes(b"half a photo")
    current.write_bytes(b"arriving")
    os.utime(crashed, (LONG_AGO, LONG_AGO))

    dry = app.test_cli_runner().invoke(args=["cleanup-attachments", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output and orphan in dry.output and used not in dry.output
    assert _offset(client, "inspector-6a", stale) == "4000" and stale_file.exists() and crashed.exists()
    assert client.as_("inspector-6a").get(URL + orphan).status_code == 200

    done = app.test_cli_runner().invoke(args=["cleanup-attachments"])
    assert done.exit_code == 0, done.output
    assert "removed" in done.output and orphan in done.output
    assert _offset(client, "inspector-6a", stale) == "0" and not stale_file.exists()
    assert _offset(client, "inspector-6b", fresh) == "4000"
    assert client.as_("inspector-6a").get(URL + orphan).status_code == 404
    assert not (root / "blobs" / orphan[:2] / orphan).exists()
    for kept in (used, recent):
        assert client.as_("inspector-6a").get(URL + kept).status_code == 200
    assert not crashed.exists() and current.exists()


def test_a_report_that_names_a_photo_after_the_scan_keeps_it(app, client, monkeypatch):
    """The scan of every report runs with no lock; a report naming an old photo that lands
    after it (here: the scan sees no report at all) is found by the check made under the
    lock, and the photo stays."""
    from app.repositories import attachments as repo

    late = _put(client, "cleanup-named-late")
    office = first_office(client)
    client.as_("inspector-6a").post("/api/v1/sync/push", json=envelope([op(data=report_data(
        office, photos=[{"sha256": late, "taken_at": None, "caption": ""}]))]))
    db.session.execute(sa.update(Attachment).where(Attachment.sha256 == late)
                       .values(created_at=utcnow() - timedelta(days=40)))
    monkeypatch.setattr(repo, "report_photo_texts", lambda: iter(()))
    done = app.test_cli_runner().invoke(args=["cleanup-attachments"])
    assert done.exit_code == 0, done.output
    assert late not in done.output
    assert client.as_("inspector-6a").get(URL + late).status_code == 200
