"""The reference client's store when the phone dies mid-write: what belongs together (a report
and its op, an edit and the op that carries it) is there together after a restart, or not at all.

Each phone here is a real process killed (os._exit, no cleanup) at the moment its store writes
the op: SQLite then rolls back on the next open whatever that process had not committed.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sync.client import Client

ROOT = Path(__file__).resolve().parents[2]
OFFICE = "7f1c2a4e-5b6d-4c8e-9f0a-1b2c3d4e5f60"

# Runs in a child process: a phone that has the store's work in hand and dies (exit 9) as soon as
# the store writes to its outbox (a TEMP trigger, this connection's only).
DYING_PHONE = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from sync.client import Client
device = Client({store!r})
device.db.create_function("die", 0, lambda: os._exit(9))
device.db.execute("CREATE TEMP TRIGGER die_{event} BEFORE {event} ON outbox BEGIN SELECT die(); END")
{work}
print("survived")
"""


def dying_phone(store: Path, event: str, work: str) -> subprocess.CompletedProcess:
    code = DYING_PHONE.format(root=str(ROOT), store=str(store), event=event, work=work)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_phone_that_dies_as_it_queues_a_report_keeps_neither_the_report_nor_its_photo(tmp_path):
    store, photo = tmp_path / "phone.db", tmp_path / "door.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    died = dying_phone(store, "INSERT", f"device.add_report({OFFICE!r}, 'closed', photos=[Path({str(photo)!r})])")
    assert died.returncode == 9, died.stderr

    device = Client(store)
    # A report without its op would stay on the phone and never be sent.
    assert device.reports() == [] and device.outbox() == []
    assert device.status()["photos_to_upload"] == 0

    report_id = device.add_report(OFFICE, "closed", photos=[photo])
    again = Client(store)
    assert [r["id"] for r in again.reports()] == [report_id]
    assert [(op["action"], op["id"]) for op in again.outbox()] == [("create", report_id)]
    assert again.status()["photos_to_upload"] == 1


def test_a_phone_that_dies_as_it_folds_an_edit_into_the_unsent_op_keeps_the_report_as_it_was(tmp_path):
    store = tmp_path / "phone.db"
    report_id = Client(store).add_report(OFFICE, "closed", notes="در بسته بود")
    died = dying_phone(store, "UPDATE", f"device.edit_report({report_id!r}, notes='باز شد')")
    assert died.returncode == 9, died.stderr

    device = Client(store)
    # The report edited and its op not: the phone would show the edit and never send it.
    assert device.report(report_id)["notes"] == "در بسته بود"
    assert [op["data"]["notes"] for op in device.outbox()] == ["در بسته بود"]

    device.edit_report(report_id, notes="باز شد")
    again = Client(store)
    assert again.report(report_id)["notes"] == "باز شد"
    assert [op["data"]["notes"] for op in again.outbox()] == ["باز شد"]


def test_an_edit_or_delete_of_a_report_the_phone_does_not_have_is_refused_and_changes_nothing(tmp_path):
    device = Client(tmp_path / "phone.db")
    for act in (lambda: device.edit_report("no-such-report", notes="x"), lambda: device.delete_report("no-such")):
        with pytest.raises(KeyError):
            act()
    assert device.outbox() == []
    device.add_report(OFFICE, "open")  # the store is not left inside a transaction
    assert len(device.outbox()) == 1


def test_the_store_commits_through_a_write_ahead_log_synced_at_each_commit(tmp_path):
    device = Client(tmp_path / "phone.db")
    assert device.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert device.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: the log is synced at each commit
    # A second connection (the command line's, beside an app's) reads the store while a
    # write is under way.
    device.db.execute("BEGIN IMMEDIATE")
    device.db.execute("INSERT INTO meta (key, value) VALUES ('x', ?)", (json.dumps(1),))
    assert Client(tmp_path / "phone.db").status()["reports"] == 0
    device.db.execute("ROLLBACK")
