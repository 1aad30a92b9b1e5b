"""A photo's hash is a name, not a proof (DESIGN §5.5): uploads belong to who sends them, a
report's photo counts only once its author sent the bytes, and only images are stored."""

import hashlib
from pathlib import Path

import pytest

from tests.support import assert_problem
from tests.sync.helpers import envelope, first_office, jpeg, op, report_data

URL = "/api/v1/attachments/"


def put(client, user, body, sha, content_type="image/jpeg"):
    return client.as_(user).request("PUT", URL + sha, data=body, headers={"Content-Type": content_type})


def patch(client, user, body, sha, start, total, content_type="image/jpeg"):
    return client.as_(user).request("PATCH", URL + sha, data=body, headers={
        "Content-Type": content_type, "Content-Range": f"bytes {start}-{start + len(body) - 1}/{total}"})


def head(client, user, sha):
    return client.as_(user).request("HEAD", URL + sha)


def push_report(client, user, sha, district=6, caption="", **fields):
    office = first_office(client, user, district)
    (result,) = client.as_(user).post("/api/v1/sync/push", json=envelope([op(data=report_data(
        office, photos=[{"sha256": sha, "taken_at": None, "caption": caption}], **fields))])).get_json()["results"]
    assert result["status"] == "applied", result
    return result


def pulled_report(client, user, report_id):
    pulled = client.as_(user).post("/api/v1/sync/pull", json={
        "protocol": 1, "device_id": "5f0c6c4e-0000-4000-8000-000000000001", "cursor": None}).get_json()
    (report,) = [r for r in pulled["changes"]["reports"]["upserted"] if r["id"] == report_id]
    return report


def send_whole(client, user, body, sha, how):
    if how == "PUT":
        return put(client, user, body, sha)
    half = len(body) // 2
    assert patch(client, user, body[:half], sha, 0, len(body)).status_code == 204
    return patch(client, user, body[half:], sha, half, len(body))


def test_another_users_patch_neither_touches_nor_reveals_an_upload_in_progress(client):
    body, sha = jpeg("mine-alone", 10_000)
    assert patch(client, "inspector-6a", body[:4000], sha, 0, 10_000).status_code == 204
    other = head(client, "inspector-6b", sha)
    assert other.headers["Upload-Offset"] == "0" and "Upload-Length" not in other.headers
    spoiled = patch(client, "inspector-6b", b"\x00" * 4000, sha, 4000, 10_000)  # as if to go on from 6a's piece
    assert_problem(spoiled, 409)
    assert spoiled.headers["Upload-Offset"] == "0"
    # 6b's own upload of that name, with other bytes, goes on beside 6a's.
    assert patch(client, "inspector-6b", b"\xff\xd8\xff" + b"\x00" * 1997, sha, 0, 10_000).status_code == 204
    assert head(client, "inspector-6b", sha).headers["Upload-Offset"] == "2000"
    assert head(client, "inspector-6a", sha).headers["Upload-Offset"] == "4000"
    assert patch(client, "inspector-6a", body[4000:], sha, 4000, 10_000).status_code == 201
    assert client.as_("inspector-6a").get(URL + sha).data == body


def test_head_says_only_whether_the_caller_has_sent_the_photo(client):
    body, sha = jpeg("sent-by-6a")
    assert put(client, "inspector-6a", body, sha).status_code == 201
    mine = head(client, "inspector-6a", sha)
    assert mine.headers["Upload-Offset"] == mine.headers["Upload-Length"] == str(len(body))
    theirs = head(client, "inspector-6b", sha)
    assert theirs.headers["Upload-Offset"] == "0" and "Upload-Length" not in theirs.headers


@pytest.mark.parametrize("how", ["PUT", "PATCH"])
def test_a_photo_someone_else_stored_stays_missing_until_the_author_sends_it(client, how):
    body, sha = jpeg(f"stored-by-6a-{how}")
    assert put(client, "inspector-6a", body, sha).status_code == 201
    result = push_report(client, "inspector-6b", sha)
    assert result["missing_attachments"] == [sha] and result["record"]["photos_pending"] == [sha]
    assert pulled_report(client, "inspector-6b", result["id"])["photos_pending"] == [sha]
    assert client.as_("head-6").get(URL + sha).status_code == 404  # no report of a sender uses it
    assert client.as_("inspector-6b").get(URL + sha).status_code == 404
    liar, _ = jpeg("not-the-photo", len(body))
    assert_problem(put(client, "inspector-6b", liar, sha), 400)
    assert head(client, "inspector-6b", sha).headers["Upload-Offset"] == "0"

    sent = send_whole(client, "inspector-6b", body, sha, how)
    assert sent.status_code == 200 and sent.headers["Upload-Offset"] == str(len(body))  # already there
    assert pulled_report(client, "inspector-6b", result["id"])["photos_pending"] == []
    update = op("update", id_=result["id"], base_version=1, data={"notes": "با عکس"})
    (updated,) = client.as_("inspector-6b").post("/api/v1/sync/push", json=envelope([update])).get_json()["results"]
    assert updated["missing_attachments"] == [] and updated["record"]["photos_pending"] == []
    assert client.as_("head-6").get(URL + sha).data == body


def test_naming_someone_elses_photo_in_ones_own_report_does_not_let_one_read_it(client):
    body, sha = jpeg("district-6-evidence")
    assert put(client, "inspector-6a", body, sha).status_code == 201
    push_report(client, "inspector-6a", sha)
    borrowed = push_report(client, "inspector-7a", sha, district=7)
    assert borrowed["missing_attachments"] == [sha]
    for user in ("inspector-7a", "head-7", "inspector-6b"):
        assert_problem(client.as_(user).get(URL + sha), 404)
    for user in ("inspector-6a", "head-6", "committee1", "admin"):
        assert client.as_(user).get(URL + sha).data == body, user


def test_a_case_shows_each_reports_photo_pending_until_its_own_author_sent_it(client):
    from tests.violations.test_scenarios import at

    body, sha = jpeg("one-photo-two-reports")
    assert put(client, "inspector-6a", body, sha).status_code == 201
    when = at("1405-01-06", "10:00")
    fields = {"office_state": "closed", "observed_at": when}
    sent = push_report(client, "inspector-6a", sha, **fields)
    named = push_report(client, "inspector-6b", sha, **fields)
    assert sent["record"]["violation_id"] == named["record"]["violation_id"] is not None
    case = client.as_("committee1").get(f"/api/v1/violations/{sent['record']['violation_id']}").get_json()
    pending = {r["id"]: r["photos_pending"] for r in case["reports"]}
    assert pending == {sent["id"]: [], named["id"]: [sha]}


def test_a_caption_that_quotes_a_hash_does_not_make_a_report_use_the_photo(client):
    body, sha = jpeg("quoted-only")
    other, other_sha = jpeg("the-one-used")
    assert put(client, "inspector-6a", body, sha).status_code == 201
    push_report(client, "inspector-6a", other_sha, caption=f"not {sha}")
    assert client.as_("head-6").get(URL + sha).status_code == 404
    push_report(client, "inspector-6a", sha)
    assert client.as_("head-6").get(URL + sha).data == body


@pytest.mark.parametrize("method", ["PUT", "PATCH", "HEAD", "GET"])
def test_a_name_with_a_trailing_newline_is_not_found_and_makes_no_file(app, client, method):
    body, sha = jpeg(f"newline-{method}")
    headers = {"Content-Type": "image/jpeg", "Content-Range": f"bytes 0-{len(body) - 1}/{len(body)}"}
    response = client.as_("inspector-6a").request(method, URL + sha + "%0A", data=body, headers=headers)
    assert response.status_code == 404
    if method != "HEAD":
        assert assert_problem(response, 404)["type"] == "/problems/not-found"
    names = [path.name for path in Path(app.config["ATTACHMENTS_DIR"]).rglob("*")]
    assert not [name for name in names if name.endswith("\n")]
    assert sha not in names


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"png-bytes" * 40
WEBP = b"RIFF\x00\x01\x00\x00WEBPVP8 " + b"webp-bytes" * 40
PDF = b"%PDF-1.7\n" + b"not a photo" * 40


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (PNG, "image/png", 201), (WEBP, "image/webp", 201), (jpeg("real")[0], "image/jpeg", 201),
    (PDF, "image/jpeg", 415), (PNG, "image/jpeg", 415), (jpeg("jpeg-as-webp")[0], "image/webp", 415),
    (b"\xff\xd8", "image/jpeg", 415),
], ids=["png", "webp", "jpeg", "pdf-as-jpeg", "png-as-jpeg", "jpeg-as-webp", "two-bytes"])
@pytest.mark.parametrize("how", ["PUT", "PATCH"])
def test_only_image_bytes_of_the_declared_type_are_stored(client, how, body, content_type, status):
    sha = hashlib.sha256(body).hexdigest()
    if how == "PUT":
        response = put(client, "inspector-6a", body, sha, content_type)
    else:
        response = patch(client, "inspector-6a", body, sha, 0, len(body), content_type)
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 415:
        problem = assert_problem(response, 415)
        assert problem["type"] == "/problems/not-an-image" and content_type in problem["detail"]
        assert client.as_("inspector-6a").get(URL + sha).status_code == 404
    else:
        assert client.as_("inspector-6a").get(URL + sha).data == body


def test_bytes_that_are_no_image_are_refused_when_their_pieces_come_together(client):
    # A first piece too short to judge by (5 bytes) is taken; the whole is judged at the end.
    body = PDF
    sha = hashlib.sha256(body).hexdigest()
    assert patch(client, "inspector-6a", body[:5], sha, 0, len(body)).status_code == 204
    last = patch(client, "inspector-6a", body[5:], sha, 5, len(body))
    assert assert_problem(last, 415)["type"] == "/problems/not-an-image"
    assert head(client, "inspector-6a", sha).headers["Upload-Offset"] == "0"  # discarded, start again
    assert client.as_("inspector-6a").get(URL + sha).status_code == 404
