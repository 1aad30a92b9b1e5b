"""A photo counts as stored only once its bytes and its name are on disk: a power cut after the
row commits must not leave a stored photo that is empty or missing (the phone, told it is
stored, no longer has it to send).

What the kernel is asked, in order, is recorded: the body's file synced, moved into place, its
directory synced, and only then the database's commit.
"""

import os

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.services import attachments
from tests.sync.helpers import jpeg

URL = "/api/v1/attachments/"


@pytest.fixture
def steps(app, monkeypatch):
    """The durability steps as they happen: ('sync', path), ('replace', to), ('commit',)."""
    seen: list[tuple] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        seen.append(("sync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(source, target):
        seen.append(("replace", str(target)))
        return real_replace(source, target)

    monkeypatch.setattr(attachments.os, "fsync", fsync)
    monkeypatch.setattr(attachments.os, "replace", replace)
    # The session's commit (the tests' sessions commit to a savepoint of their own: its
    # transaction ending is what a request's commit is here).
    listener = lambda session: seen.append(("commit",))  # noqa: E731
    event.listen(Session, "after_commit", listener)
    yield seen
    event.remove(Session, "after_commit", listener)


def stored_in_order(seen: list[tuple], blob: str) -> None:
    moved = seen.index(("replace", blob))
    assert seen[moved - 1][0] == "sync" and seen[moved - 1][1] != blob  # the bytes, under their temporary name
    assert seen[moved + 1] == ("sync", os.path.dirname(blob))  # the name
    assert ("commit",) in seen[moved + 2:]  # the row that says it is stored, after both


@pytest.mark.parametrize("how", ["PUT", "PATCH whole", "PATCH in pieces"])
def test_a_photo_is_on_disk_before_the_row_that_says_it_is_stored_commits(client, app, steps, how):
    body, sha = jpeg(f"durable {how}", 9000)
    inspector = client.as_("inspector-6a")
    if how == "PUT":
        answer = inspector.request("PUT", URL + sha, data=body, headers={"Content-Type": "image/jpeg"})
    else:
        cut = len(body) if how == "PATCH whole" else 5000
        for start, end in ((0, cut - 1), (cut, len(body) - 1))[: 1 if cut == len(body) else 2]:
            answer = inspector.request("PATCH", URL + sha, data=body[start:end + 1], headers={
                "Content-Type": "image/jpeg", "Content-Range": f"bytes {start}-{end}/{len(body)}"})
    assert answer.status_code == 201
    with app.app_context():
        blob = str(attachments.blob_path(sha))
    stored_in_order(steps, blob)
    assert inspector.get(URL + sha).data == body


def test_a_photo_stored_before_is_not_written_or_synced_again(client, app, steps):
    body, sha = jpeg("durable twice", 3000)
    for user in ("inspector-6a", "inspector-6b"):
        answer = client.as_(user).request("PUT", URL + sha, data=body, headers={"Content-Type": "image/jpeg"})
        assert answer.status_code == (201 if user == "inspector-6a" else 200)
    assert [s for s in steps if s[0] == "replace"] == [("replace", str_blob(app, sha))]


def str_blob(app, sha: str) -> str:
    with app.app_context():
        return str(attachments.blob_path(sha))
