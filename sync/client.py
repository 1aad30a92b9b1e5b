"""A reference offline client: what a phone does, as a library and as a command.

    python -m sync.client --server http://127.0.0.1:5000 --store phone.db login inspector-6a
    python -m sync.client --store phone.db pull
    python -m sync.client --store phone.db add-report --office <id> --state closed --photo door.jpg
    python -m sync.client --store phone.db push
    python -m sync.client --store phone.db status

The store is a local SQLite file: the server's records (offices, rules, …), the inspector's
reports with their last known server version, an outbox of ops and the photos to upload.
Rules it keeps, so that nothing is lost or doubled:

- every op gets its `op_id` once, when it is made, and keeps it through every retry, so a
  retry after a lost response is answered `duplicate`, never applied twice;
- an op is sealed once it has been sent: later edits to the same report go into a new op,
  whose base is the version the edit was made on; edits made before the first send are
  folded into one op;
- network failures, 5xx and 429 answers are retried with jittered exponential backoff, waiting
  at least what the server's Retry-After asks;
- photos go up after their report, in pieces, resuming from the server's Upload-Offset;
- a pull with `reset` drops server records it did not get again, never unsynced reports,
  once its last page is in, also when the pages came over several syncs (a line dropped
  between two);
- what belongs together is written together: a report and its op (and its photos), an edit and
  the op that carries it, a page of a pull and its cursor, each in one transaction, so a phone
  that dies in between has either both or neither;
- the store is in WAL mode with full sync: a commit is on disk when it returns (one fsync of
  the log, where the default rollback journal took four and a file made and deleted), and a
  reader (the command line's `status`) never makes a write wait or fail. A copy of the store
  is its three files: `phone.db`, `phone.db-wal`, `phone.db-shm` (or the one file, once
  every connection to it has closed). A store that cannot change mode (another connection
  reading it as it opens, a file system without shared memory) stays as it was for this
  connection, as safe, slower.
"""

import argparse
import getpass
import hashlib
import http.client
import json
import math
import random
import re
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sync.report import NAMES as REPORT_FIELDS  # the fields a phone writes (plain declarations only)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (entity TEXT, id TEXT, version INTEGER, data TEXT, PRIMARY KEY (entity, id));
CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, data TEXT, version INTEGER, server TEXT);
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT UNIQUE, entity TEXT,
    action TEXT, id TEXT, base_version INTEGER, changed_at TEXT, data TEXT, sealed INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS photos (sha256 TEXT PRIMARY KEY, path TEXT, uploaded INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS rejected (op_id TEXT PRIMARY KEY, op TEXT, errors TEXT);
CREATE TABLE IF NOT EXISTS reset_seen (entity TEXT, id TEXT, PRIMARY KEY (entity, id));
"""
TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))
ENTITIES = ("offices", "districts", "hours_rules", "holidays", "rounds", "reports")
PIECE = 256 * 1024


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None


class TransportError(Exception):
    """The request may or may not have reached the server (a timeout, a dropped line)."""


class HttpTransport:
    """HTTP/1.1 with the standard library, on one connection kept open from request to request,
    as a phone's own HTTP stack keeps it: a sync is some ten requests (log in, pull, push, a
    photo each, pull), and a new connection for each cost a TCP handshake each (a round trip,
    a second or more on a 2G line) and, at the 08:00 rush, the server an accept and a close
    each (issue 18; bench/HISTORY.md, "A seventeenth machine"). The server may close a connection that
    sat idle (gunicorn after its keep-alive, 5 s under `make serve`) or say it closes it after
    an answer (`Connection: close`: werkzeug's server after each, `make serve` after a shed
    with a large body): a request that finds the connection it reused closed, before any
    answer came, is sent once more at once on a new one. The protocol makes that safe: an op
    is applied once however often it is sent (its op_id), a photo is named by its hash, a
    piece lands at one offset.

    Through a proxy the environment names (`http_proxy`, `https_proxy`, not bypassed by
    `no_proxy`), requests go as urllib sends them, a connection each. One request at a time:
    a transport is one phone's line (a lock keeps two threads from sharing it mid-request)."""

    def __init__(self, base_url: str, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path
        # The environment's proxies as they are now, read once, with an opener of this
        # transport's own (urlopen's is made once a process and keeps the first it saw).
        proxies = urllib.request.getproxies()
        self._proxied = parts.scheme in proxies and not urllib.request.proxy_bypass(parts.netloc)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies)) if self._proxied else None
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if self._proxied:
            return self._through_urllib(method, path, body, headers)
        with self._lock:
            kept, self._connection = self._connection, None  # none kept until an answer is read whole
            if kept is not None:
                try:
                    return self._exchange(kept, method, path, body, headers, reused=True)
                except _ClosedWhileIdle:
                    pass  # closed while it sat idle, before any answer: once more, on a new connection
            return self._exchange(self._connect(), method, path, body, headers, reused=False)

    def _exchange(self, connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None,
                  headers: dict, reused: bool) -> Response:
        answer = None
        try:
            connection.request(method, self._prefix + path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except (http.client.HTTPException, OSError) as err:
            connection.close()
            if reused and answer is None and isinstance(err, _CLOSED_BY_SERVER):
                raise _ClosedWhileIdle from err
            raise TransportError(str(err) or type(err).__name__) from err
        if answer.will_close:
            connection.close()
        else:
            self._connection = connection
        return Response(answer.status, dict(answer.headers), data)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._scheme == "https":  # verified as urllib verifies it (http.client's default context)
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _through_urllib(self, method: str, path: str, body: bytes | None, headers: dict) -> Response:
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return Response(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as err:
            return Response(err.code, dict(err.headers), err.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
            raise TransportError(str(err)) from err


# What a phone's login records as its device's software (Device.user_agent).
USER_AGENT = f"bazres-sync-client/1 Python/{sys.version_info.major}.{sys.version_info.minor}"

# What a reused connection the server had closed meanwhile fails with: no answer at all
# (RemoteDisconnected is a ConnectionResetError), or the request's bytes refused. Not a
# timeout: that request may be running still.
_CLOSED_BY_SERVER = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class _ClosedWhileIdle(Exception):
    """The connection reused had been closed by the server before this request's answer began."""


def retry_after_s(response: Response, longest: float = 300) -> float:
    """The server's Retry-After in seconds (0 if absent or not a number of seconds), at most
    `longest`: a phone in the field does not wait an hour on one header. `nan` and `inf` are
    not numbers of seconds (a `nan` would reach `time.sleep` and end the sync with an error)."""
    value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), "")
    try:
        seconds = float(value)
    except ValueError:
        return 0.0
    return min(max(seconds, 0.0), longest) if math.isfinite(seconds) else 0.0


# A request the server sheds past capacity is sent again after its Retry-After for up to this
# long in all before the phone gives up on it for this sync (nothing is lost: the outbox keeps it).
SHED_PATIENCE_S = 600


def problem_code(response: Response) -> str:
    """The code of a problem+json answer (`/problems/<code>`, listed at /problems), or ""."""
    try:
        body = response.json()
    except ValueError:
        return ""
    kind = body.get("type") if isinstance(body, dict) else None
    return kind.rpartition("/")[2] if isinstance(kind, str) else ""


class ServerError(Exception):
    def __init__(self, response: Response):
        super().__init__(f"HTTP {response.status}: {response.body[:300]!r}")
        self.response = response


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Client:
    def __init__(self, store: str | Path, transport=None, clock=utc_now, retries: int = 5,
                 backoff_s: float = 0.5, sleep=time.sleep, patience_s: float = SHED_PATIENCE_S):
        self.db = sqlite3.connect(str(store), isolation_level=None)  # waits up to 5 s for a lock
        self.db.execute("PRAGMA busy_timeout = 0")
        try:
            self.db.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            pass  # another connection holds the store: it keeps its mode now (see the module's docstring)
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.execute("PRAGMA synchronous = FULL")
        present = {name for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not TABLES <= present:
            self.db.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")  # a new store's tables: one commit
        if self._meta("device_id") is None:
            # OR IGNORE: a second connection that opened the new store meanwhile keeps the first id.
            self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('device_id', ?)", (str(uuid.uuid4()),))
        self.transport = transport
        self.clock = clock  # the phone's clock, which may be wrong
        self.retries = retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.patience_s = patience_s  # the longest a request waits out a busy server's sheds, in all

    # ------------------------------------------------------------ local state

    def _meta(self, key: str):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @contextmanager
    def _transaction(self):
        """Every write inside is committed together, or none is. IMMEDIATE: the write lock is
        taken at the start, so a read made inside is still true when the writes land."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:  # also when the COMMIT itself failed (a full disk)
                self.db.execute("ROLLBACK")
            raise

    @property
    def device_id(self) -> str:
        return self._meta("device_id")

    def _now(self) -> str:
        return self.clock().astimezone().isoformat(timespec="seconds")

    def records(self, entity: str) -> list[dict]:
        rows = self.db.execute("SELECT data FROM records WHERE entity = ? ORDER BY id", (entity,))
        return [json.loads(r[0]) for r in rows]

    def report(self, report_id: str) -> dict | None:
        row = self.db.execute("SELECT data, version, server FROM reports WHERE id = ?", (report_id,)).fetchone()
        if row is None:
            return None
        return {**json.loads(row[0]), "id": report_id, "version": row[1], "server": json.loads(row[2] or "null")}

    def reports(self) -> list[dict]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM reports ORDER BY id")]
        return [self.report(i) for i in ids]

    def outbox(self) -> list[dict]:
        rows = self.db.execute("SELECT op_id, entity, action, id, base_version, changed_at, data, sealed "
                               "FROM outbox ORDER BY seq")
        return [{"op_id": r[0], "entity": r[1], "action": r[2], "id": r[3], "base_version": r[4],
                 "changed_at": r[5], "data": json.loads(r[6]) if r[6] else None, "sealed": bool(r[7])}
                for r in rows]

    def status(self) -> dict:
        count = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {"user": self._meta("username"), "device_id": self.device_id, "cursor": self._meta("cursor"),
                "offices": count("SELECT count(*) FROM records WHERE entity = 'offices'"),
                "reports": count("SELECT count(*) FROM reports"),
                "outbox": count("SELECT count(*) FROM outbox"),
                "photos_to_upload": count("SELECT count(*) FROM photos WHERE uploaded = 0"),
                "rejected": count("SELECT count(*) FROM rejected")}

    # ------------------------------------------------------------ HTTP

    def _call(self, method: str, path: str, payload=None, body: bytes | None = None, headers: dict | None = None,
              retry: bool = True) -> Response:
        headers = dict(headers or {})
        token = self._meta("token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        attempts = self.retries if retry else 1
        attempt, shed_waited = 0, 0.0
        while True:
            try:
                response = self.transport.request(method, path, body, headers)
                if response.status < 500 and response.status != 429:
                    return response
                error: Exception = ServerError(response)
                wait = self._shed_wait(method, response, shed_waited)
                if wait is not None:  # not started, by a server past capacity: no attempt spent
                    shed_waited += wait
                    self.sleep(wait)
                    continue
            except TransportError as exc:
                error = exc
            attempt += 1
            if attempt >= attempts:
                raise error
            self._pause(attempt - 1, error)

    def _shed_wait(self, method: str, response: Response, waited: float) -> float | None:
        """How long to wait before sending again a request the server shed past capacity (503
        `overloaded`: it was not started, so sending it again is always safe): its Retry-After,
        the second the server booked for it. A shed is the server asking for time, not a
        failure: it spends none of the request's retries. A HEAD's answer has no body to name
        its problem: any 503 to a HEAD is waited out so (a HEAD is always safe to send again).
        None for any other answer, and once this request has waited out sheds for `patience_s`:
        a shed then counts as a failure, and spends the retries left."""
        shed = method == "HEAD" or problem_code(response) == "overloaded"
        if response.status != 503 or not shed or waited >= self.patience_s:
            return None
        return max(retry_after_s(response), self.backoff_s)

    def _pause(self, attempt: int, error: Exception) -> None:
        """Wait before retrying: half to all of backoff_s × 2^attempt at random, so phones
        that failed together (a server restart, an overloaded morning) do not all come back
        together; at least the server's Retry-After when it gives one (429, 503)."""
        wait = self.backoff_s * 2 ** min(attempt, 6) * random.uniform(0.5, 1.0)
        if isinstance(error, ServerError):
            wait = max(wait, retry_after_s(error.response))
        self.sleep(wait)

    def login(self, username: str, password: str) -> dict:
        response = self._call("POST", "/api/v1/auth/token",
                              {"username": username, "password": password, "device_id": self.device_id})
        if response.status != 201:
            raise ServerError(response)
        body = response.json()
        with self._transaction():
            self._set_meta("token", body["token"])
            self._set_meta("username", username)
        return body["user"]

    # ------------------------------------------------------------ pull

    def pull(self, limit: int = 500) -> int:
        """Pull until up to date; returns how many records changed locally."""
        changed = 0
        while True:
            response = self._call("POST", "/api/v1/sync/pull", {"protocol": 1, "device_id": self.device_id,
                                                                 "cursor": self._meta("cursor"), "limit": limit})
            if response.status != 200:
                raise ServerError(response)
            page = response.json()
            # A page and its cursor are stored together: a crash mid-page re-pulls the page.
            with self._transaction():
                if page["reset"]:
                    # The server starts this phone over (a new scope, a cursor too old): what it
                    # does not send again by the last page goes then, however many syncs it takes.
                    self.db.execute("DELETE FROM reset_seen")
                    self._set_meta("resetting", "1")
                resetting = self._meta("resetting") is not None
                for entity in ENTITIES:
                    block = page["changes"].get(entity, {"upserted": [], "deleted": []})
                    for record in block["upserted"]:
                        key = str(record.get("id", record.get("number")))
                        if resetting:
                            self.db.execute("INSERT OR IGNORE INTO reset_seen (entity, id) VALUES (?, ?)",
                                            (entity, key))
                        self._store_record(entity, key, record)
                        changed += 1
                    for key in block["deleted"]:
                        self._drop_record(entity, str(key))
                        changed += 1
                self._set_meta("cursor", page["cursor"])
                if resetting and not page["has_more"]:
                    self._drop_unseen()
            if not page["has_more"]:
                break
        return changed

    def _pending(self, report_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM outbox WHERE id = ?", (report_id,)).fetchone() is not None

    def _store_record(self, entity: str, key: str, record: dict) -> None:
        if entity == "reports":
            if self._pending(key):
                # Our own unsynced edits stay; only what the server owns is refreshed.
                self.db.execute("UPDATE reports SET server = ? WHERE id = ?", (json.dumps(record), key))
                return
            self.db.execute("INSERT OR REPLACE INTO reports (id, data, version, server) VALUES (?, ?, ?, ?)",
                            (key, json.dumps(_client_fields(record)), record["version"], json.dumps(record)))
            return
        self.db.execute("INSERT OR REPLACE INTO records (entity, id, version, data) VALUES (?, ?, ?, ?)",
                        (entity, key, record.get("version"), json.dumps(record)))

    def _drop_record(self, entity: str, key: str) -> None:
        if entity == "reports":
            if not self._pending(key):
                self.db.execute("DELETE FROM reports WHERE id = ?", (key,))
            return
        self.db.execute("DELETE FROM records WHERE entity = ? AND id = ?", (entity, key))

    def _drop_unseen(self) -> None:
        """The end of a reset: the server records it did not send again go (never a report
        with unsent changes); the reset is over."""
        unseen = "NOT EXISTS (SELECT 1 FROM reset_seen s WHERE s.entity = {entity} AND s.id = {table}.id)"
        for entity, key in self.db.execute("SELECT entity, id FROM records WHERE "
                                           + unseen.format(entity="records.entity", table="records")).fetchall():
            self._drop_record(entity, key)
        for (key,) in self.db.execute("SELECT id FROM reports WHERE version IS NOT NULL AND "
                                      + unseen.format(entity="'reports'", table="reports")).fetchall():
            self._drop_record("reports", key)
        self.db.execute("DELETE FROM reset_seen")
        self.db.execute("DELETE FROM meta WHERE key = 'resetting'")

    # ------------------------------------------------------------ offline work

    def add_report(self, office_id: str, office_state: str, *, location: dict | None = None,
                   accuracy_m: float | None = None, notes: str = "", checklist: dict | None = None,
                   staff_present: int | None = None, photos: list[Path] = (), gps_fix_at: str | None = None,
                   round_id: str | None = None) -> str:
        report_id = str(uuid.uuid4())
        photo_refs = [(_file_sha256(Path(p)), Path(p)) for p in photos]  # read before the write lock
        data = {"office_id": office_id, "observed_at": self._now(), "office_state": office_state,
                "location": location, "accuracy_m": accuracy_m, "notes": notes, "checklist": checklist or {},
                "staff_present": staff_present, "gps_fix_at": gps_fix_at, "round_id": round_id}
        taken_at = self._now()
        data["photos"] = [{"sha256": sha, "taken_at": taken_at, "caption": ""} for sha, _ in photo_refs]
        with self._transaction():
            for sha, path in photo_refs:
                self.db.execute("INSERT OR IGNORE INTO photos (sha256, path) VALUES (?, ?)", (sha, str(path)))
            self.db.execute("INSERT INTO reports (id, data, version) VALUES (?, ?, NULL)",
                            (report_id, json.dumps(data)))
            self._queue("create", report_id, None, data)
        return report_id

    def edit_report(self, report_id: str, **changes) -> None:
        with self._transaction():
            self._edit_report(report_id, changes)

    def _edit_report(self, report_id: str, changes: dict) -> None:
        report = self.report(report_id)
        if report is None:
            raise KeyError(report_id)
        data = {k: v for k, v in report.items() if k not in ("id", "version", "server")} | changes
        self.db.execute("UPDATE reports SET data = ? WHERE id = ?", (json.dumps(data), report_id))
        open_op = self.db.execute("SELECT op_id, action, data FROM outbox WHERE id = ? AND sealed = 0",
                                  (report_id,)).fetchone()
        if open_op is not None:  # fold into the unsent op: same op_id, same base
            merged = json.loads(open_op[2]) | changes
            self.db.execute("UPDATE outbox SET data = ?, changed_at = ? WHERE op_id = ?",
                            (json.dumps(merged), self._now(), open_op[0]))
            return
        self._queue("update", report_id, report["version"], changes)

    def delete_report(self, report_id: str) -> None:
        with self._transaction():
            report = self.report(report_id)
            if report is None:
                raise KeyError(report_id)
            self._queue("delete", report_id, report["version"], None)

    def propose_correction(self, office_id: str, kind: str, **data) -> str:
        correction_id = str(uuid.uuid4())
        self._queue("create", correction_id, None, {"office_id": office_id, "kind": kind, **data},
                    entity="office_corrections")
        return correction_id

    def _queue(self, action: str, record_id: str, base_version, data, entity: str = "reports") -> None:
        self.db.execute("INSERT INTO outbox (op_id, entity, action, id, base_version, changed_at, data) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (str(uuid.uuid4()), entity, action, record_id, base_version, self._now(),
                         json.dumps(data) if data is not None else None))

    # ------------------------------------------------------------ push

    def push(self, batch: int = 500) -> list[dict]:
        """Send the outbox until it is empty (one op per report per round); then the photos."""
        results = []
        while True:
            ops, taken = [], set()
            for op in self.outbox():
                if op["id"] in taken or len(ops) >= batch:
                    continue
                if op["base_version"] is None and op["action"] != "create":
                    continue  # waits for its create to land and give it a base
                taken.add(op["id"])
                ops.append(op)
            if not ops:
                break
            with self._transaction():
                self.db.executemany("UPDATE outbox SET sealed = 1 WHERE op_id = ?", [(op["op_id"],) for op in ops])
            envelope = {"protocol": 1, "device_id": self.device_id, "sent_at": self._now(),
                        "ops": [{k: op[k] for k in ("op_id", "entity", "action", "id", "base_version", "changed_at")}
                                | ({"data": op["data"]} if op["data"] is not None else {}) for op in ops]}
            response = self._call("POST", "/api/v1/sync/push", envelope)
            if response.status != 200:
                raise ServerError(response)
            with self._transaction():
                for op, result in zip(ops, response.json()["results"]):
                    self._settle(op, result)
                    results.append(result)
        self.upload_photos()
        return results

    def _settle(self, op: dict, result: dict) -> None:
        self.db.execute("DELETE FROM outbox WHERE op_id = ?", (op["op_id"],))
        if result["status"] == "rejected":
            self.db.execute("INSERT OR REPLACE INTO rejected (op_id, op, errors) VALUES (?, ?, ?)",
                            (op["op_id"], json.dumps(op), json.dumps(result["errors"])))
            return
        if op["entity"] != "reports":
            return
        if op["action"] == "delete" and result["status"] == "applied":
            self.db.execute("DELETE FROM reports WHERE id = ?", (op["id"],))
            return
        record = result.get("record") or {}
        version = result.get("version")
        # Ops made on top of this one (base = its base, or none yet) now build on its result.
        self.db.execute("UPDATE outbox SET base_version = ? WHERE id = ? AND (base_version IS NULL OR "
                        "base_version = ?)", (version, op["id"], op["base_version"]))
        if self._pending(op["id"]):
            self.db.execute("UPDATE reports SET version = ?, server = ? WHERE id = ?",
                            (version, json.dumps(record), op["id"]))
        elif record:
            self.db.execute("UPDATE reports SET data = ?, version = ?, server = ? WHERE id = ?",
                            (json.dumps(_client_fields(record)), version, json.dumps(record), op["id"]))

    def upload_photos(self) -> int:
        done = 0
        for sha, path in self.db.execute("SELECT sha256, path FROM photos WHERE uploaded = 0").fetchall():
            self.upload_photo(sha, Path(path))
            self.db.execute("UPDATE photos SET uploaded = 1 WHERE sha256 = ?", (sha,))
            done += 1
        return done

    def upload_photo(self, sha: str, path: Path, content_type: str = "image/jpeg") -> None:
        """Upload in pieces; after any failure, ask the server where it is and go on from there.

        The first attempt starts at 0 without asking: a photo the server has never seen (the
        usual case) then costs one request a piece, and one it holds some of answers 409
        upload-offset-mismatch with its Upload-Offset, from where the upload goes on. Any other
        refusal (upload-length-mismatch, photo-too-large, …) is raised: sending again cannot help.
        """
        body = path.read_bytes()
        url = f"/api/v1/attachments/{sha}"
        for attempt in range(self.retries * 4):
            try:
                offset = 0
                if attempt > 0:
                    head = self._call("HEAD", url, retry=False)
                    offset = int(head.headers.get("Upload-Offset", 0))
                while offset < len(body):
                    piece = body[offset:offset + PIECE]
                    end = offset + len(piece) - 1
                    response = self._call("PATCH", url, body=piece, retry=False, headers={
                        "Content-Type": content_type, "Content-Range": f"bytes {offset}-{end}/{len(body)}"})
                    if response.status in (200, 201, 204):
                        offset = int(response.headers.get("Upload-Offset", end + 1))
                        if response.status == 201:
                            return
                    elif problem_code(response) == "upload-offset-mismatch":
                        offset = int(response.headers.get("Upload-Offset", 0))
                    else:
                        raise ServerError(response)
                return
            except (TransportError, ServerError) as exc:
                if isinstance(exc, ServerError) and exc.response.status < 500 and exc.response.status != 429:
                    raise
                self._pause(attempt, exc)
        raise TransportError(f"could not upload {sha}")


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _client_fields(record: dict) -> dict:
    return {k: record.get(k) for k in REPORT_FIELDS}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync.client", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="bazres-phone.db", help="the local SQLite store")
    parser.add_argument("--server", help="base URL (remembered in the store)")
    commands = parser.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login")
    login.add_argument("username")
    login.add_argument("--password")
    commands.add_parser("pull")
    add = commands.add_parser("add-report")
    add.add_argument("--office", required=True)
    add.add_argument("--state", required=True)
    add.add_argument("--notes", default="")
    add.add_argument("--lat", type=float)
    add.add_argument("--lon", type=float)
    add.add_argument("--accuracy", type=float)
    add.add_argument("--photo", action="append", default=[])
    commands.add_parser("push")
    commands.add_parser("status")
    args = parser.parse_args(argv)

    probe = Client(args.store)
    if args.server:
        probe._set_meta("server", args.server)
    server = probe._meta("server")
    client = Client(args.store, HttpTransport(server) if server else None)
    try:
        if args.command == "login":
            user = client.login(args.username, args.password or getpass.getpass())
            print(f"logged in as {user['username']} ({user['role']}, districts {user['districts']})")
        elif args.command == "pull":
            print(f"{client.pull()} records changed")
        elif args.command == "add-report":
            location = {"type": "Point", "coordinates": [args.lon, args.lat]} if args.lat is not None else None
            report_id = client.add_report(args.office, args.state, notes=args.notes, location=location,
                                          accuracy_m=args.accuracy, photos=[Path(p) for p in args.photo])
            print(report_id)
        elif args.command == "push":
            for result in client.push():
                print(f"{result['op_id']} {result['status']} {json.dumps(result.get('errors') or {})}")
        print(json.dumps(client.status(), ensure_ascii=False))
    except (ServerError, TransportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
