"""A new release of the app reaches a phone that holds unsent reports (issue 14; the way
Enketo lost its users' data, enketo/enketo#986): the new service worker takes over, the old
release's cache goes, and the outbox and the synced data are all there, offline too.

A deploy is a server restarted with other code on the same address; here the same code
with another `BAZRES_APP_RELEASE`, which changes the release as changed files would."""

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from bench.harness import free_port
from tests.app.phone import server_reports
from tests.live import PASSWORD, ROOT


class Deploy:
    """`flask run` on the live server's database, on one port, restartable with a release label."""

    def __init__(self, live, log):
        self.live, self.log = live, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, release: str) -> None:
        env = os.environ | {"DATABASE_URL": self.live.database_url, "ATTACHMENTS_DIR": str(self.live.attachments_dir),
                            "SECRET_KEY": "live-test", "BAZRES_DEMO_PASSWORD": PASSWORD, "FLASK_DEBUG": "0",
                            "BAZRES_LOGIN_LIMIT_PER_ADDRESS": "100000/minute", "BAZRES_APP_RELEASE": release}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "run", "--port",
                                             str(self.port), "--no-reload"], cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the deploy did not start; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture
def deploy(mandated, tmp_path):
    server = Deploy(mandated, tmp_path / "deploy.log")
    yield server
    server.stop()


def test_a_new_release_while_offline_keeps_the_outbox(phones, deploy, mandated):
    deploy.start("one")
    phone = phones("inspector-12a", url=deploy.url)
    phone.login()
    old_release = phone.page.get_attribute("html", "data-release")
    assert old_release.endswith("(one)")
    offices = phone.offices()[:2]
    phone.offline()
    for office in offices:
        phone.capture(office, "closed", notes="before the new release")
    assert phone.outbox_count() == 2

    deploy.stop()
    deploy.start("two")  # the new release is deployed while the phone is in the field
    # Back in coverage for a moment, the API out of reach (so the reports stay unsent):
    # the browser finds the new worker on the next visit.
    phone.page.route("**/api/**", lambda route: route.abort("connectionrefused"))
    # The app, open all along, looks for a new release when the network comes back.
    phone.offline(False)
    phone.page.wait_for_selector("html[data-release$='(two)']", state="attached", timeout=30_000)

    phone.offline()  # and out of coverage again: the new app opens with no network
    phone.page.unroute("**/api/**")
    phone.reopen("#/outbox")
    assert phone.page.get_attribute("html", "data-release").endswith("(two)"), "the new app runs offline"
    assert phone.outbox_count() == 2, "the outbox is intact"
    assert set(phone.outbox_states().values()) <= {"waiting", "sending"}
    caches = phone.page.evaluate("() => caches.keys()")
    assert len(caches) == 1, f"only the new release's files are kept: {caches}"
    assert phone.page.text_content("#release").endswith("(two)")

    phone.offline(False)
    phone.sync()
    mine = server_reports(mandated, "inspector-12a")
    assert sorted(r["office_id"] for r in mine) == sorted(o["id"] for o in offices)
