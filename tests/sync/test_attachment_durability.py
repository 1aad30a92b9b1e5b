"""A photo counts as stored only once its bytes and its name are on disk: a power cut after the
row commits must not leave a stored photo that is empty or missing (the phone, told it is
stored, no longer has it to send).

What the kernel is asked, in order, is recorded: the body's file synced before the write
transaction opens (a sync of up to 15 MB must not hold SQLite's one writer), moved into place,
its directory synced, and only then the commit.
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
    """The durability steps as they happen: ('sync', path), ('replace', to), ('begin',), ('commit',)."""
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
    monkeypatch.setattr(attachments, "_DURABLE", set())  # as in a process that has stored nothing yet
    # The session's transaction (the tests' sessions commit to a savepoint of their own: its
    # end is what a request's commit is here).
    began = lambda session, transaction, connection: seen.append(("begin",))  # noqa: E731
    committed = lambda session: seen.append(("commit",))  # noqa: E731
    event.listen(Session, "after_begin", began)
    event.listen(Session, "after_commit", committed)
    yield seen
    event.remove(Session, "after_begin", began)
    event.remove(Session, "after_commit", committed)


def paths(app, sha: str) -> tuple[str, str, str]:
    with app.app_context():
        blob = attachments.blob_path(sha)
        return str(blob), str(attachments.temp_dir()), str(attachments.partial_dir())


@pytest.mark.parametrize("how", ["PUT", "PATCH whole", "PATCH in pieces"])
def test_a_photo_is_on_disk_before_the_row_that_says_it_is_stored_commits(client, app, steps, how):
    body, sha = jpeg(f"durable {how}", 9000)
    blob, temporary, partial = paths(app, sha)
    inspector = client.as_("inspector-6a")
    if how == "PUT":
        answer = inspector.request("PUT", URL + sha, data=body, headers={"Content-Type": "image/jpeg"})
    else:
        pieces = [(0, len(body) - 1)] if how == "PATCH whole" else [(0, 4999), (5000, len(body) - 1)]
        for start, end in pieces:
            answer = inspector.request("PATCH", URL + sha, data=body[start:end + 1], headers={
                "Content-Type": "image/jpeg", "Content-Range": f"bytes {start}-{end}/{len(body)}"})
    assert answer.status_code == 201

    moved = steps.index(("replace", blob))
    source = {"PUT": temporary, "PATCH whole": temporary, "PATCH in pieces": partial}[how]
    # The bytes: synced under the name they came in with, and for a whole body before the
    # transaction that stores it began (a piece is appended, and synced, under its lock).
    bytes_synced = max(i for i, step in enumerate(steps[:moved]) if step[0] == "sync" and step[1].startswith(source))
    if how != "PATCH in pieces":
        storing_began = max(i for i, step in enumerate(steps[:moved]) if step == ("begin",))
        assert bytes_synced < storing_began
    # The name: the photo's directory synced after the move, and that directory's own name
    # (blobs/, the attachments directory) once for this process, before it.
    assert steps[moved + 1] == ("sync", os.path.dirname(blob))
    before = [step[1] for step in steps[:moved] if step[0] == "sync"]
    assert os.path.dirname(os.path.dirname(blob)) in before
    # Then the row that says it is stored.
    assert ("commit",) in steps[moved + 2:]
    assert inspector.get(URL + sha).data == body


def test_a_photo_stored_before_is_not_moved_into_place_again(client, app, steps):
    body, sha = jpeg("durable twice", 3000)
    blob, _, _ = paths(app, sha)
    for user in ("inspector-6a", "inspector-6b"):
        answer = client.as_(user).request("PUT", URL + sha, data=body, headers={"Content-Type": "image/jpeg"})
        assert answer.status_code == (201 if user == "inspector-6a" else 200)
    assert [step for step in steps if step[0] == "replace"] == [("replace", blob)]
    assert steps.count(("sync", os.path.dirname(blob))) == 1  # after the one move
