"""`python -m sync.client` against a live server over real HTTP (commits: marked concurrency)."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Change, LedgerEntry, Report, ReportVersion
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.concurrency
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(app):
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def cli(store, *args):
    result = subprocess.run([sys.executable, "-m", "sync.client", "--store", str(store), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    return result


def test_log_in_pull_add_a_report_push_and_see_the_status(app, server, tmp_path):
    store = tmp_path / "phone.db"
    login = cli(store, "--server", server, "login", "inspector-15a", "--password", DEMO_PASSWORD)
    assert login.returncode == 0, login.stderr
    assert "logged in as inspector-15a (inspector, districts [15])" in login.stdout
    assert cli(store, "pull").returncode == 0
    status = json.loads(cli(store, "status").stdout.strip().splitlines()[-1])
    assert status["offices"] >= 2 and status["outbox"] == 0
    with app.app_context():
        office = db.session.execute(sa.text("SELECT id FROM offices WHERE district = 15 ORDER BY code LIMIT 1")).scalar()
    added = cli(store, "add-report", "--office", str(office), "--state", "open", "--lat", "35.64", "--lon", "51.45",
                "--accuracy", "9", "--notes", "بسته بود")
    report_id = added.stdout.strip().splitlines()[0]
    pushed = cli(store, "push")
    assert pushed.returncode == 0 and " applied " in pushed.stdout
    status = json.loads(pushed.stdout.strip().splitlines()[-1])
    assert status["outbox"] == 0 and status["reports"] == 1
    bad_login = cli(tmp_path / "other.db", "--server", server, "login", "inspector-15a", "--password", "wrong")
    assert bad_login.returncode == 1 and "401" in bad_login.stderr
    with app.app_context():
        import uuid

        rid = uuid.UUID(report_id)
        assert db.session.get(Report, rid).notes == "بسته بود"
        db.session.execute(sa.delete(ReportVersion).where(ReportVersion.report_id == rid))
        db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.entity_id == rid))
        db.session.execute(sa.delete(Change).where(Change.entity_id == report_id))
        db.session.execute(sa.delete(Report).where(Report.id == rid))
        db.session.commit()
