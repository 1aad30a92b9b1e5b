"""Photos: content-addressed, whole or resumable, verified, limited, served only to those allowed."""

import gzip

import pytest

from tests.support import assert_problem
from tests.sync.helpers import HugeBody, envelope, first_office, jpeg, op, report_data

URL = "/api/v1/attachments/"


def put(client, user, body, sha, content_type="image/jpeg"):
    return client.as_(user).request("PUT", URL + sha, data=body, headers={"Content-Type": content_type})


def test_a_whole_upload_is_stored_once_and_verified(client):
    body, sha = jpeg("whole")
    assert put(client, "inspector-6a", body, sha).status_code == 201
    assert put(client, "inspector-6a", body, sha).status_code == 200
    assert client.as_("inspector-6a").get(URL + sha).data == body
    other, other_sha = jpeg("other")
    assert_problem(put(client, "inspector-6a", other, sha.replace(sha[0], "0" if sha[0] != "0" else "1", 1)), 400)


def test_wrong_type_size_or_name_is_refused(client):
    body, sha = jpeg("typed")
    assert_problem(put(client, "inspector-6a", body, sha, "application/pdf"), 415)
    big = b"\xff" * (15 * 1024 * 1024 + 1)
    assert_problem(put(client, "inspector-6a", big, "a" * 64), 413)
    assert_problem(put(client, "inspector-6a", body, "not-a-sha"), 404)
    assert client.as_("inspector-6a").request("HEAD", URL + sha).headers["Upload-Offset"] == "0"


def test_a_broken_upload_resumes_from_upload_offset(client):
    body, sha = jpeg("resumable", 10_000)
    inspector = client.as_("inspector-6a")

    def piece(start, end):
        return inspector.request("PATCH", URL + sha, data=body[start:end + 1], headers={
            "Content-Type": "image/jpeg", "Content-Range": f"bytes {start}-{end}/{len(body)}"})

    assert piece(0, 3999).status_code == 204
    assert inspector.request("HEAD", URL + sha).headers["Upload-Offset"] == "4000"
    skipped = piece(6000, 9999)  # the phone lost track: the server says where it is
    assert_problem(skipped, 409)
    assert skipped.headers["Upload-Offset"] == "4000"
    assert inspector.get(URL + sha).status_code == 404  # not a photo until whole
    assert piece(4000, 7999).status_code == 204
    last = piece(8000, 9999)
    assert last.status_code == 201 and last.headers["Upload-Offset"] == "10000"
    assert inspector.get(URL + sha).data == body
    head = inspector.request("HEAD", URL + sha)
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == "10000"


def test_one_user_cannot_open_uploads_without_end(client):
    """Each upload in pieces may hold 15 MB until cleanup: an account has at most 20 open."""
    from app.services.attachments import MAX_OPEN_UPLOADS

    inspector = client.as_("inspector-6b")
    for i in range(MAX_OPEN_UPLOADS + 1):
        body, sha = jpeg(f"open upload {i}", 2_000)
        answer = inspector.request("PATCH", URL + sha, data=body[:1000], headers={
            "Content-Type": "image/jpeg", "Content-Range": f"bytes 0-999/{len(body)}"})
        if i < MAX_OPEN_UPLOADS:
            assert answer.status_code == 204
    refused = assert_problem(answer, 429)
    assert "uploads in pieces open" in refused["detail"] and answer.headers["Retry-After"]
    first, first_sha = jpeg("open upload 0", 2_000)  # one already open goes on
    assert inspector.request("PATCH", URL + first_sha, data=first[1000:], headers={
        "Content-Type": "image/jpeg", "Content-Range": f"bytes 1000-{len(first) - 1}/{len(first)}"}).status_code == 201
    assert client.as_("inspector-6a").request("PATCH", URL + sha, data=body[:1000], headers={
        "Content-Type": "image/jpeg", "Content-Range": f"bytes 0-999/{len(body)}"}).status_code == 204, \
        "another user is not held up"


def test_a_resumed_upload_that_does_not_hash_right_is_discarded(client):
    body, sha = jpeg("liar", 2000)
    inspector = client.as_("inspector-6a")
    wrong = b"\x00" * 1000
    inspector.request("PATCH", URL + sha, data=body[:1000],
                      headers={"Content-Type": "image/jpeg", "Content-Range": "bytes 0-999/2000"})
    bad = inspector.request("PATCH", URL + sha, data=wrong,
                            headers={"Content-Type": "image/jpeg", "Content-Range": "bytes 1000-1999/2000"})
    assert_problem(bad, 400)
    assert inspector.request("HEAD", URL + sha).headers["Upload-Offset"] == "0"
    assert inspector.get(URL + sha).status_code == 404


def test_a_report_lands_before_its_photo_and_shows_it_pending(client):
    body, sha = jpeg("evidence")
    office = first_office(client)
    inspector = client.as_("inspector-6a")
    push = inspector.post("/api/v1/sync/push", json=envelope([op(data=report_data(
        office, photos=[{"sha256": sha, "taken_at": None, "caption": "در بسته"}]))])).get_json()
    (result,) = push["results"]
    assert result["status"] == "applied"
    assert result["missing_attachments"] == [sha] and result["record"]["photos_pending"] == [sha]
    assert put(client, "inspector-6a", body, sha).status_code == 201
    pulled = inspector.post("/api/v1/sync/pull", json={"protocol": 1, "device_id": push["results"][0]["id"],
                                                        "cursor": None}).get_json()
    (report,) = [r for r in pulled["changes"]["reports"]["upserted"] if r["id"] == result["id"]]
    assert report["photos_pending"] == []
    # Who may see it: the author, their district head, the committee; not another inspector.
    for user, status in [("inspector-6a", 200), ("head-6", 200), ("committee1", 200), ("admin", 200),
                         ("inspector-6b", 404), ("head-7", 404)]:
        assert client.as_(user).get(URL + sha).status_code == status, user


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_an_upload_over_the_limit_is_refused_before_its_body_is_read(client, method):
    body = HugeBody()
    headers = {"Content-Type": "image/jpeg"}
    if method == "PATCH":
        headers["Content-Range"] = f"bytes 0-{body.size - 1}/{body.size}"
    response = client.as_("inspector-6a").request(method, URL + "b" * 64, input_stream=body, headers=headers)
    assert_problem(response, 413)
    assert body.read_bytes == 0


def test_a_photo_sent_with_a_content_encoding_is_refused_415(client):
    body, sha = jpeg("gzipped")
    response = client.as_("inspector-6a").request("PUT", URL + sha, data=gzip.compress(body), headers={
        "Content-Type": "image/jpeg", "Content-Encoding": "gzip"})
    assert "without Content-Encoding" in assert_problem(response, 415)["detail"]


def test_a_photo_sent_in_one_piece_is_stored(client):
    # The reference client sends a photo of up to 256 KiB as one PATCH: first and last piece at once.
    body, sha = jpeg("one-piece", 4096)
    inspector = client.as_("inspector-6a")
    whole = inspector.request("PATCH", URL + sha, data=body, headers={
        "Content-Type": "image/jpeg", "Content-Range": f"bytes 0-{len(body) - 1}/{len(body)}"})
    assert whole.status_code == 201 and whole.headers["Upload-Offset"] == str(len(body))
    assert inspector.get(URL + sha).data == body
    assert inspector.request("HEAD", URL + sha).headers["Upload-Offset"] == str(len(body))


def test_a_photo_sent_in_one_piece_that_does_not_hash_right_is_refused(client):
    body, sha = jpeg("one-piece-liar", 2000)
    inspector = client.as_("inspector-6a")
    other, _ = jpeg("someone-else", len(body))
    bad = inspector.request("PATCH", URL + sha, data=other, headers={
        "Content-Type": "image/jpeg", "Content-Range": f"bytes 0-{len(body) - 1}/{len(body)}"})
    assert_problem(bad, 400)
    assert inspector.request("HEAD", URL + sha).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize("when", ["open before", "begun while the body came in"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_photo_sent_whole_ends_the_senders_upload_in_pieces_of_it(client, monkeypatch, method, when):
    """An upload in pieces of a photo its sender then stored whole is over (row and partial
    file): it no longer counts among their open uploads nor waits for cleanup. Also when the
    pieces began after the whole photo's checks, while its body was still coming in."""
    from app.repositories import attachments as repo
    from app.repositories import users
    from app.services import attachments

    body, sha = jpeg(f"whole over pieces {method} {when}", 4_000)
    phone = client.as_("inspector-6a")
    user_id = users.get_by_username("inspector-6a").id

    def first_piece():
        return phone.request("PATCH", URL + sha, data=body[:1000], headers={
            "Content-Type": "image/jpeg", "Content-Range": f"bytes 0-999/{len(body)}"})

    if when == "open before":
        assert first_piece().status_code == 204
        if method == "PATCH":  # a whole PATCH at 0 would be told to resume at 1000; the pieces are lost
            attachments.partial_path(user_id, sha).unlink()
    else:
        receive = attachments._receive

        def pieces_begin_meanwhile(stream, mimetype, **options):
            received = receive(stream, mimetype, **options)
            with attachments.unit_of_work():  # as another request of the same phone would
                repo.start_upload(user_id, sha, len(body), "image/jpeg")
                repo.touch_upload(user_id, sha, 1000)
                partial = attachments.partial_path(user_id, sha)
                partial.parent.mkdir(parents=True, exist_ok=True)
                partial.write_bytes(body[:1000])
            return received

        monkeypatch.setattr(attachments, "_receive", pieces_begin_meanwhile)
    headers = {"Content-Type": "image/jpeg"}
    if method == "PATCH":
        headers["Content-Range"] = f"bytes 0-{len(body) - 1}/{len(body)}"
    assert phone.request(method, URL + sha, data=body, headers=headers).status_code == 201
    assert (user_id, sha) not in repo.uploads_held()
    assert not attachments.partial_path(user_id, sha).exists()
    assert phone.get(URL + sha).data == body
    head = phone.request("HEAD", URL + sha)
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(body))


def _fail_once(monkeypatch, module, name):
    """Make `module.name` meet the database restarting, once (a 503 after the piece was appended)."""
    import sqlalchemy.exc

    real = getattr(module, name)
    calls = []

    def failing(*args, **kwargs):
        if not calls:
            calls.append(1)
            raise sqlalchemy.exc.OperationalError("UPDATE", {}, Exception("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)


@pytest.mark.parametrize("failing", ["touch_upload", "delete_upload", "store"])
def test_a_piece_whose_transaction_failed_is_not_counted_and_the_photo_is_not_taken_for_sent(client, monkeypatch,
                                                                                         failing):
    """A 503 after a piece was appended to the file (the database restarting): the server
    answers the offset its database committed, not what the file holds, so the phone sends
    that piece again; for the last piece, a complete file must never read as sent."""
    from app.repositories import attachments as repo

    body, sha = jpeg(f"fail-{failing}", 30_000)
    phone = client.as_("inspector-6a")

    def patch(start, end):
        return phone.request("PATCH", URL + sha, data=body[start:end + 1], headers={
            "Content-Type": "image/jpeg", "Content-Range": f"bytes {start}-{end}/{len(body)}"})

    assert patch(0, 9_999).status_code == 204
    _fail_once(monkeypatch, repo, failing)
    last = 19_999 if failing == "touch_upload" else len(body) - 1
    assert_problem(patch(10_000, last), 503)
    offset = int(phone.request("HEAD", URL + sha).headers["Upload-Offset"])
    assert offset < last + 1  # the failed piece is not counted: the phone sends it again
    assert patch(offset, len(body) - 1).status_code == 201
    stored = phone.get(URL + sha)
    assert stored.status_code == 200 and stored.get_data() == body


def test_each_refusal_of_a_photo_has_its_own_problem_code(client, monkeypatch):
    """What a phone does next depends on the code: resume, give up on the photo, or wait."""
    from app.services import attachments

    body, sha = jpeg("coded", 3000)
    inspector = client.as_("inspector-6a")

    def piece(start, end, total=len(body), data=None):
        return inspector.request("PATCH", URL + sha, data=body[start:end + 1] if data is None else data, headers={
            "Content-Type": "image/jpeg", "Content-Range": f"bytes {start}-{end}/{total}"})

    def code(response, status):
        return assert_problem(response, status)["type"].removeprefix("/problems/")

    assert piece(0, 999).status_code == 204
    assert code(piece(2000, 2999), 409) == "upload-offset-mismatch"
    longer = piece(1000, 1999, total=len(body) + 1)
    assert code(longer, 409) == "upload-length-mismatch" and longer.headers["Upload-Offset"] == "1000"
    assert code(piece(1000, 2999, data=b"\x00" * 2000), 400) == "photo-hash-mismatch"
    other, _ = jpeg("not-coded", 3000)
    assert code(put(client, "inspector-6a", other, sha), 400) == "photo-hash-mismatch"
    too_big = attachments.MAX_BYTES + 1
    assert code(piece(0, 999, total=too_big), 413) == "photo-too-large"
    assert code(put(client, "inspector-6a", b"\xff" * too_big, "c" * 64), 413) == "photo-too-large"
    monkeypatch.setattr(attachments, "MAX_OPEN_UPLOADS", 0)
    assert code(piece(0, 999), 429) == "too-many-open-uploads"
