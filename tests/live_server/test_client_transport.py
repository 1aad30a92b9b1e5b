"""A phone's whole sync on one kept-open connection (sync.client.HttpTransport), against Bazres
served as the leg serves it: gunicorn (`make serve`) on PostGIS, `flask run` on SpatiaLite
(whose server closes each connection after its answer, and says so).
tests/unit/test_http_transport.py has the transport's edges against scripted servers."""

import time

from sync.client import Client, HttpTransport
from tests.conftest import LEG
from tests.live import PASSWORD
from tests.sync.helpers import jpeg


class Counting(HttpTransport):
    """The transport, counting the connections it opens."""

    def __init__(self, base_url: str):
        super().__init__(base_url)
        self.opened = 0

    def _connect(self):
        self.opened += 1
        return super()._connect()


def test_a_phone_logs_in_pulls_pushes_a_report_with_its_photo_and_pulls_on_one_connection(live, tmp_path):
    transport = Counting(live.url)
    phone = Client(tmp_path / "phone.db", transport)
    phone.login("inspector-9a", PASSWORD)
    phone.pull()
    office = phone.records("offices")[0]
    body, sha = jpeg("one-connection")
    (tmp_path / "door.jpg").write_bytes(body)
    report_id = phone.add_report(office["id"], "open", location=office["location"], accuracy_m=10.0,
                                 photos=[tmp_path / "door.jpg"])
    results = phone.push()
    phone.pull()
    assert [r["status"] for r in results] == ["applied"]
    assert phone.status()["photos_to_upload"] == 0
    assert phone.report(report_id)["server"]["photos_pending"] == []
    photo = live.request("GET", f"/api/v1/attachments/{sha}", user="inspector-9a")
    assert photo.status == 200 and photo.body == body
    if LEG == "postgis":
        assert transport.opened == 1  # six requests, one TCP connection
    else:
        # werkzeug's development server answers every request with `Connection: close`, and
        # the transport opens a new connection after each such answer, with no error.
        assert transport.opened >= 5


def no_backoff(seconds: float) -> None:
    raise AssertionError(f"the phone backed off {seconds} s")


def test_a_phone_that_waited_past_the_servers_keep_alive_goes_on_without_an_error(live, tmp_path):
    transport = Counting(live.url)
    phone = Client(tmp_path / "phone.db", transport, sleep=no_backoff)
    phone.login("inspector-9b", PASSWORD)
    time.sleep(7.5)  # past `make serve`'s keep-alive (5 s; gunicorn looks each second): the connection is closed
    assert phone.pull() > 0  # sent again on a new connection at once, not backed off (no_backoff would raise)
    assert transport.opened == 2  # the login's, and the pull's after gunicorn closed the first (flask run: after each)
