"""A photo trickling in over 2G holds no lock that other people's writes wait on (issue 13,
item 3): on SQLite a write transaction is the one database-wide writer, so the body must be
read before any write transaction opens. Against a real server: the test client hides it."""

import gzip
import hashlib
import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.sync.helpers import envelope, jpeg, op, report_data

PIECE = 20 * 1024


class SlowUpload(threading.Thread):
    """A phone on 2G: sends the headers and the first pieces of a photo, waits until told to go
    on (so the test knows the upload is still unfinished), then trickles the rest."""

    def __init__(self, live, method: str, body: bytes, sha: str, headers: dict):
        super().__init__(daemon=True)
        self.live, self.method, self.body, self.sha, self.headers = live, method, body, sha, headers
        self.started, self.go, self.done = threading.Event(), threading.Event(), threading.Event()
        self.status: int | None = None
        self.answer_headers: dict = {}

    def run(self):
        connection = self.live.connect(timeout=120)
        try:
            connection.putrequest(self.method, f"/api/v1/attachments/{self.sha}")
            for name, value in self.headers.items():
                connection.putheader(name, value)
            connection.putheader("Authorization", f"Bearer {self.live.token('inspector-6a')}")
            connection.putheader("Content-Length", str(len(self.body)))
            connection.endheaders()
            head = 4 * PIECE
            connection.send(self.body[:head])
            self.started.set()
            self.go.wait(120)
            for start in range(head, len(self.body), PIECE):
                connection.send(self.body[start:start + PIECE])
                time.sleep(0.1)
            response = connection.getresponse()
            self.status, self.answer_headers = response.status, dict(response.getheaders())
            response.read()
        finally:
            connection.close()
            self.done.set()


def _files_being_written(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file() and "blobs" not in path.parts}


def _wait_until_the_server_reads_the_body(live, before: set[Path]) -> None:
    # The server makes the file it writes the body into once the request is past its
    # authentication: from then on, whatever it holds is held while the body trickles in.
    deadline = time.monotonic() + 60
    while not _files_being_written(live.attachments_dir) - before:
        assert time.monotonic() < deadline, "the server never began to read the upload"
        time.sleep(0.05)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "PATCH, the last of two pieces"])
def test_a_slow_photo_upload_holds_up_no_other_districts_push_and_no_login(live, method):
    body, sha = jpeg(f"slow-{method}", 200_000)
    headers = {"Content-Type": "image/jpeg"}
    sent = body
    if method == "PATCH":
        headers["Content-Range"] = f"bytes 0-{len(body) - 1}/{len(body)}"
    elif method.startswith("PATCH,"):  # the first half goes in at once, the second trickles
        half = len(body) // 2
        first = live.request("PATCH", f"/api/v1/attachments/{sha}", body[:half], user="inspector-6a",
                             headers=headers | {"Content-Range": f"bytes 0-{half - 1}/{len(body)}"})
        assert first.status == 204, first.body
        headers["Content-Range"] = f"bytes {half}-{len(body) - 1}/{len(body)}"
        sent = body[half:]
    office = live.request("GET", "/api/v1/offices?district=7&page_size=1", user="inspector-7a").json()[0]
    live.token("inspector-6a")  # logged in before the upload starts
    before = _files_being_written(live.attachments_dir)
    upload = SlowUpload(live, method.split(",")[0], sent, sha, headers)
    upload.start()
    try:
        assert upload.started.wait(60)
        _wait_until_the_server_reads_the_body(live, before)
        push = live.request("POST", "/api/v1/sync/push", envelope([op(data=report_data(office))]),
                            user="inspector-7a")
        login = live.request("POST", "/api/v1/auth/token", {"username": "head-7", "password": "bazres-demo"})
        assert push.status == 200, push.body
        assert push.json()["results"][0]["status"] == "applied"
        assert login.status == 201, login.body
        assert not upload.done.is_set()  # all that while, the photo was still on its way
    finally:
        upload.go.set()
        upload.join(120)
    assert upload.status == 201
    stored = live.request("GET", f"/api/v1/attachments/{sha}", user="inspector-6a")
    assert stored.status == 200 and hashlib.sha256(stored.body).hexdigest() == sha


def test_an_upload_in_pieces_resumes_refuses_a_wrong_offset_and_ends_once_against_a_real_server(live):
    # A PATCH reads its upload's state before its body: on PostgreSQL in autocommit, on a
    # pooled connection of its own (bulk.read_alone), which only a real server runs (the
    # test client's session is bound to one connection, in a transaction already begun).
    body, sha = jpeg("live-pieces", 10_000)

    def piece(start, end, user="inspector-6a"):
        return live.request("PATCH", f"/api/v1/attachments/{sha}", body[start:end + 1], user=user, headers={
            "Content-Type": "image/jpeg", "Content-Range": f"bytes {start}-{end}/{len(body)}"})

    assert piece(0, 3999).status == 204
    skipped = piece(6000, 9999)
    assert skipped.status == 409 and skipped.headers["Upload-Offset"] == "4000"
    assert piece(0, 3999, user="inspector-6b").status == 204  # another user's upload is their own
    assert piece(4000, 9999).status == 201
    again = piece(0, 9999)  # sent again whole after a lost answer: already there, nothing appended
    assert again.status == 200 and again.headers["Upload-Offset"] == "10000"
    stored = live.request("GET", f"/api/v1/attachments/{sha}", user="inspector-6a")
    assert stored.status == 200 and stored.body == body


def _trickled(live, path: str, body: bytes, headers: dict, seconds: int = 5) -> tuple[int, dict]:
    """POST `body` to `path` as a phone on 2G sends it: the headers, then a fifth of the body a
    second. The answer's status and JSON."""
    connection = live.connect(timeout=60)
    try:
        connection.putrequest("POST", path)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        step = len(body) // seconds + 1
        for start in range(0, len(body), step):
            connection.send(body[start:start + step])
            time.sleep(1)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("encoding", ["plain", "gzip"])
def test_a_push_whose_body_trickles_in_measures_the_phones_clock_from_its_first_bytes(live, encoding):
    """`clock_skew_s` is the server's receive time − `sent_at` (DESIGN §5.2): the phone's
    clock error, not the seconds its body took over 2G. A right clock whose push took 5 s to
    arrive is not taken for one 5 s slow (nor, past two minutes, corrected)."""
    office = live.request("GET", "/api/v1/offices?district=6&page_size=1", user="inspector-6a").json()[0]
    sent_at = datetime.now(timezone.utc)
    body = json.dumps(envelope([op(data=report_data(office, observed_at=sent_at - timedelta(minutes=10)))],
                               sent_at=sent_at)).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {live.token('inspector-6a')}"}
    if encoding == "gzip":
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    status, answer = _trickled(live, "/api/v1/sync/push", body, headers)
    assert status == 200, answer
    assert time.time() - sent_at.timestamp() >= 5
    assert abs(answer["clock_skew_s"]) < 2.5, answer["clock_skew_s"]
    (result,) = answer["results"]
    assert result["status"] == "applied" and abs(result["record"]["clock_skew_s"]) < 2.5
    assert result["record"]["evidence_time_source"] == "device"


def test_a_watermelondb_push_whose_body_trickles_in_measures_the_clock_from_its_first_bytes(live):
    """The same in WatermelonDB's protocol (DESIGN §5.8, its `sent_at`): the report it lands,
    as the next pull brings it, has the phone's clock error for its skew, not the upload's time."""
    office = live.request("GET", "/api/v1/offices?district=6&page_size=1", user="inspector-6a").json()[0]
    url = "/api/v1/sync/watermelon?last_pulled_at="
    timestamp = live.request("GET", url + "null", user="inspector-6a").json()["timestamp"]
    sent_ms = int(time.time() * 1000)
    longitude, latitude = office["location"]["coordinates"]
    record = {"id": str(uuid.uuid4()), "office_id": office["id"], "round_id": None, "observed_at": sent_ms - 600_000,
              "gps_fix_at": None, "latitude": latitude, "longitude": longitude, "accuracy_m": 12,
              "office_state": "open", "staff_present": 2, "checklist": "{}", "notes": "", "photos": "[]",
              "flags": "[]", "amendments": "[]", "photos_pending": "[]", "version": 0, "created_at": sent_ms,
              "updated_at": sent_ms, "_status": "created", "_changed": ""}
    body = json.dumps({"changes": {"reports": {"created": [record], "updated": [], "deleted": []}},
                       "sent_at": sent_ms}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {live.token('inspector-6a')}"}
    status, answer = _trickled(live, f"{url}{timestamp}", body, headers)
    assert status == 200, answer
    assert time.time() * 1000 - sent_ms >= 5000
    pulled = live.request("GET", f"{url}{timestamp}", user="inspector-6a").json()["changes"]["reports"]
    (landed,) = [r for kind in ("created", "updated") for r in pulled[kind] if r["id"] == record["id"]]
    assert abs(landed["clock_skew_s"]) < 2.5 and landed["evidence_time_source"] == "device", landed
