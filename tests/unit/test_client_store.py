"""The reference client's store when the phone dies mid-write: what belongs together (a report
and its op, an edit and the op that carries it) is there together after a restart, or not at all.

Each phone here is a real process killed (os._exit, no cleanup) at the moment its store writes
the op: SQLite then rolls back on the next open whatever that process had not committed.
"""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sync.client import SCHEMA, Client, Response, TransportError
from tests.unit.test_client_retries import Scripted  # a transport that gives the answers it is given

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


def test_a_reader_of_the_store_never_makes_the_phone_s_write_wait_or_fail(tmp_path):
    device = Client(tmp_path / "phone.db")
    assert device.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: the log is synced at each commit
    # The command line's `status` (or a backup) in the middle of a read, as the app writes:
    # in the rollback journal's mode, the write's commit waited for the reader, 5 s, then failed.
    reader = sqlite3.connect(tmp_path / "phone.db", isolation_level=None, timeout=0.2)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM reports").fetchone() == (0,)
    device.db.execute("PRAGMA busy_timeout = 200")
    report_id = device.add_report(OFFICE, "open")
    assert reader.execute("SELECT count(*) FROM reports").fetchone() == (0,)  # its snapshot
    reader.execute("COMMIT")
    assert reader.execute("SELECT id FROM reports").fetchall() == [(report_id,)]


def test_a_store_made_before_opens_while_another_connection_reads_it(tmp_path):
    store = tmp_path / "phone.db"
    old = sqlite3.connect(store, isolation_level=None)
    old.executescript(SCHEMA)
    old.execute("INSERT INTO meta (key, value) VALUES ('device_id', 'phone-1')")
    old.execute("BEGIN")
    old.execute("SELECT count(*) FROM meta").fetchone()  # holds a read lock: the mode cannot change now
    device = Client(store)
    assert device.device_id == "phone-1" and device.status()["reports"] == 0
    old.execute("COMMIT")
    old.close()
    device.add_report(OFFICE, "open")
    assert Client(store).db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def page(*office_ids, reset=False, more=False, cursor="c") -> Response:
    """A server's answer to a pull."""
    offices = [{"id": office_id, "name": office_id, "version": 1} for office_id in office_ids]
    return Response(200, {}, json.dumps({"changes": {"offices": {"upserted": offices, "deleted": []}},
                                         "cursor": cursor, "reset": reset, "has_more": more}).encode())


def test_a_reset_whose_pages_come_over_two_syncs_drops_what_the_server_no_longer_sends(tmp_path):
    store = tmp_path / "phone.db"
    Client(store, Scripted(page("kept", "gone"))).pull()
    # The inspector's districts changed: the server starts the phone over, and the line drops
    # after its first page. The next sync goes on from that page's cursor, without `reset`.
    phone = Client(store, Scripted(page("kept", reset=True, more=True, cursor="c1"), TransportError("dropped")),
                   retries=1, sleep=lambda s: None)
    with pytest.raises(TransportError):
        phone.pull()
    assert {o["id"] for o in phone.records("offices")} == {"kept", "gone"}  # not over yet
    Client(store, Scripted(page("new", cursor="c2"))).pull()
    # Before, "gone" stayed on the phone for good: the reset was forgotten with the dropped line.
    assert {o["id"] for o in Client(store).records("offices")} == {"kept", "new"}
    Client(store, Scripted(page(cursor="c3"))).pull()  # the reset is over: a later page drops nothing
    assert {o["id"] for o in Client(store).records("offices")} == {"kept", "new"}
