"""Bazres beside two sync servers that offline-first teams already deploy (issue 18): Kinto on
PostgreSQL and pouchdb-server on LevelDB, on the same ~900-byte records, doing the same five things.

    .venv/bin/python bench/peers.py
    .venv/bin/python bench/peers.py --repeat 3 --workdir /tmp/bazres-peers \
        --postgres postgresql://postgres@127.0.0.1:5432
    .venv/bin/python bench/peers.py --only push-500 --repeat 21   # one operation, more repeats
    .venv/bin/python bench/peers.py --only push-500 --repeat 15 --compare 5ea9aa9   # and the code before

Kinto (PyPI `kinto[postgresql]`, in a venv of its own) and pouchdb-server (npm) are installed
in the work folder the first time and reused after; nothing of theirs is in this repository.
Each server runs on a free port on 127.0.0.1, on a persistent backend made fresh for the run:

- Bazres as `make serve` runs it (scripts/serve.sh: migrate, seed, gunicorn), 1 worker × 4
  threads, on the PostGIS database --bazres-database; bearer tokens from the demo inspectors.
- Kinto under waitress, 1 process × 4 threads, storage, permissions and cache on the
  PostgreSQL database --kinto-database, its default authentication (HTTP Basic, the user id
  an HMAC of the credentials: no database read, as issue 18's figures were measured); pushes of
  many records go through its batch endpoint, 25 requests a batch (its default limit).
- pouchdb-server on LevelDB in the work folder, with no authentication (its default).

They do not promise the same: Bazres and Kinto answer a write once PostgreSQL has its WAL on
disk (synchronous_commit on, PostgreSQL's default and Bazres's), pouchdb-server once LevelDB
has handed the write to the operating system (leveldown writes with `sync: false` by
default, no fsync), so a power cut can take back a push it answered. `--synchronous-commit
off` sets both PostgreSQL databases to answer before the WAL is flushed, a promise no
stronger than pouchdb-server's (weaker: PostgreSQL answers before its WAL reaches the
operating system, so even a crash of PostgreSQL alone can lose a few answered commits), to
see what the durable commit costs in each figure; that is not how Bazres runs. The header
of the results says what each database really did: `SHOW synchronous_commit` and `SHOW
fsync` on a new connection to it, after the servers started.

The work: an authenticated tiny GET; a push of 1 record and of 500 (Bazres: one push;
Kinto: batches; pouchdb: _bulk_docs); a pull of the 50 records another client of the same
user pushed since the puller's last position (Bazres: its cursor; Kinto: `_since`; pouchdb:
`_changes?since=`); a pull of 2,000 records from scratch (Bazres in pages of --page, Kinto
in its largest page, pouchdb `_changes?include_docs=true`). Each figure is the time of the
HTTP requests alone (sent to the answer's last byte, on one keep-alive connection per
server); building bodies and parsing answers is left out. Each repeat runs each operation
against the servers in an order that rotates, so that load drift hits all alike;
one warm-up pass goes first. Beside the ratios of the medians stand the medians of the
ratios repeat by repeat (the servers' runs of a repeat meet the same load). Beside
each median stands the server's peak resident memory during that operation: its processes'
high-water marks (reset before each run), summed; PostgreSQL's own processes are not
counted (Bazres and Kinto both use it). `--only` runs some of the five operations (without
the pull of 2,000, its records are not loaded, so every backend is smaller). `--compare REF`
serves Bazres's code at REF as well (a git worktree, this checkout's venv, a database of its
own), a fourth server in the same rotation: its column's ratio is this checkout's against it,
met by the same load repeat by repeat. Both are sent the same records, naming offices by the
ids the first one's pull gave: the seed's office ids are uuid5s of the offices' codes, the same
in every database made by it.
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from bench.harness import (DEMO_PASSWORD, ROOT, Server, free_port, fresh_database, group_pids,  # noqa: E402
                           remove_worktree, worktree)

KINTO = "26.5.0"
POUCHDB_SERVER = "4.2"  # npm's range: the newest 4.2.x
OPERATIONS = ("authenticated tiny GET", "push 1 record", "push 500 records", "pull 50 new records",
              "pull 2,000 records")
EXPECTED = (None, 1, 500, 50, 2000)  # records each operation must move
KEYS = ("tiny-get", "push-1", "push-500", "pull-50", "pull-2000")  # --only's names of OPERATIONS
KINTO_BATCH = 25


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------- installing the peers


def install_kinto(workdir: Path) -> Path:
    """The Kinto venv (installed from PyPI if it is not there yet); returns its `kinto` command."""
    venv = workdir / "kinto-venv"
    if list(venv.glob(f"lib/python*/site-packages/kinto-{KINTO}.dist-info")) and \
            list(venv.glob("lib/python*/site-packages/psycopg2")):
        return venv / "bin" / "kinto"
    print(f"installing kinto[postgresql]=={KINTO} from PyPI into {venv} …", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    log = workdir / "logs" / "kinto-install.log"
    try:
        _run_logged([sys.executable, "-m", "venv", str(venv)], log)
        _run_logged([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "--progress-bar", "off",
                     f"kinto[postgresql]=={KINTO}"], log, timeout=1800)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise SystemExit(f"could not install Kinto {KINTO} from PyPI (is the registry reachable?): {exc}\n"
                         f"the end of {log}:\n{_tail(log)}")
    return venv / "bin" / "kinto"


def install_pouchdb_server(workdir: Path) -> Path:
    """pouchdb-server's script (installed from npm if it is not there yet)."""
    folder = workdir / "pouchdb-server"
    package = folder / "node_modules" / "pouchdb-server"
    if (package / "package.json").exists() and _npm_version(package).startswith(POUCHDB_SERVER + "."):
        return package / "bin" / "pouchdb-server"
    if not shutil.which("npm") or not shutil.which("node"):
        raise SystemExit("pouchdb-server needs Node.js and npm, which are not on PATH "
                         "(Debian: apt-get install nodejs npm)")
    print(f"installing pouchdb-server@{POUCHDB_SERVER} from npm into {folder} …", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    # A package.json of its own, so that npm installs here and not in a parent folder's project.
    (folder / "package.json").write_text('{"private": true}\n')
    log = workdir / "logs" / "pouchdb-install.log"
    try:
        _run_logged(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                     f"pouchdb-server@{POUCHDB_SERVER}"], log, cwd=folder, timeout=1800)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise SystemExit(f"could not install pouchdb-server {POUCHDB_SERVER} from npm (is the registry "
                         f"reachable?): {exc}\nthe end of {log}:\n{_tail(log)}")
    return package / "bin" / "pouchdb-server"


def _run_logged(argv: list[str], log: Path, cwd: Path | None = None, timeout: float = 600) -> None:
    with log.open("ab") as out:
        subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=timeout)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _npm_version(package: Path) -> str:
    return json.loads((package / "package.json").read_text())["version"]


# ---------------------------------------------------------------- HTTP on one kept connection


@dataclass
class Reply:
    status: int
    headers: dict  # names in lower case
    body: bytes
    seconds: float  # from sending the request to the answer's last byte
    sent: int  # the request body's bytes

    def json(self):
        return json.loads(self.body)


class Http:
    """One keep-alive connection to a server. It is opened afresh (and used once, untimed)
    before each timed run, and before any request after a pause: gunicorn closes a connection
    idle for 5 s, and the other servers' work in between can take longer than that."""

    IDLE_S = 2.0

    def __init__(self, port: int, authorization: str | None = None, prime: str = "/"):
        self.port, self.authorization, self.prime = port, authorization, prime
        self.conn: http.client.HTTPConnection | None = None
        self.last = 0.0

    def renew(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        self.last = time.monotonic()
        self.request("GET", self.prime)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def request(self, method: str, path: str, body=None, expect: tuple = (200,)) -> Reply:
        if self.conn is None or time.monotonic() - self.last > self.IDLE_S:
            self.renew()
        headers = {"Accept": "application/json"}
        if self.authorization:
            headers["Authorization"] = self.authorization
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        began = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError(f"{method} {path} on port {self.port}: {type(exc).__name__}: {exc}") from exc
        seconds = time.perf_counter() - began
        self.last = time.monotonic()
        if response.status not in expect:
            raise BenchError(f"{method} {path} on port {self.port}: {response.status} {payload[:300]!r}")
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, payload, seconds,
                     len(data or b""))


@dataclass
class Run:
    seconds: float = 0.0  # the requests' time, summed
    records: int = 0
    requests: int = 0
    sent: int = 0
    received: int = 0
    note: str = ""

    def add(self, reply: Reply) -> Reply:
        self.seconds += reply.seconds
        self.requests += 1
        self.sent += reply.sent
        self.received += len(reply.body)
        return reply

    @classmethod
    def of(cls, reply: Reply, records: int = 0, note: str = "") -> "Run":
        run = cls(records=records, note=note)
        run.add(reply)
        return run


# ---------------------------------------------------------------- the records


CHECKLIST = {"sign_visible": True, "hours_posted": True, "queue_managed": None, "staff_badges": True,
             "fees_posted": False, "complaints_box": True, "accessible_entrance": True, "wifi_for_clients": None}
NOTES = ("دفتر در ساعت مقرر باز بود. دو کارمند حاضر بودند و یک نفر در صف انتظار بود. تابلوی ساعات کاری نوروزی "
         "نصب شده بود اما تعرفه‌ها روی دیوار نبود. به مسئول دفتر تذکر داده شد که فهرست تعرفه‌ها را تا فردا نصب کند. "
         "سامانه نوبت‌دهی کار می‌کرد.")


def make_records(n: int, offices: list[dict]) -> list[dict]:
    """`n` new reports as DESIGN §5.3 has them (an `open` finding, so that Bazres's figures do
    not depend on whether the run falls in mandated hours), with ids of their own."""
    now = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    out = []
    for i in range(n):
        office = offices[i % len(offices)]
        out.append({"id": str(uuid.uuid4()), "office_id": office["id"], "observed_at": now,
                    "location": office["location"], "accuracy_m": 12.0, "office_state": "open",
                    "staff_present": 2, "checklist": CHECKLIST, "notes": NOTES})
    return out


def json_size(value) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


# ---------------------------------------------------------------- the servers


class Process:
    """A peer's server in a session of its own: SIGTERM to its process group, SIGKILL after 15 s."""

    def __init__(self, argv: list[str], cwd: Path, log: Path, env: dict | None = None):
        with log.open("ab") as out:
            self.popen = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    def pids(self) -> list[int]:
        return [] if self.popen.poll() is not None else group_pids(self.popen.pid)

    def wait_ready(self, port: int, path: str, log: Path, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise BenchError(f"the server exited ({self.popen.returncode}); see {log}:\n{_tail(log)}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"the server did not answer {path} in {timeout} s; see {log}")

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass


def pg_url(postgres: str, database: str, driver: str = "postgresql") -> str:
    base = postgres.rstrip("/")
    scheme, rest = base.split("://", 1)
    return f"{driver}://{rest}/{database}"


class Bazres:
    """Bazres as `make serve` runs it; three demo inspectors: one pushes, one is pulled by a
    second device of theirs (the first pushes the 50), one holds the 2,000."""

    def __init__(self, workdir: Path, postgres: str, database: str, page: int, settings: dict[str, str],
                 root: Path = ROOT, ref: str | None = None):
        self.url = pg_url(postgres, database, "postgresql+psycopg")
        self.name = "Bazres" if ref is None else f"Bazres {ref}"
        self.folder = workdir / ("bazres" if ref is None else "bazres-compare")
        self.root = root  # the checkout whose code is served (--compare: a worktree of REF)
        self.page = page
        self.settings = settings
        self.server: Server | None = None

    def start(self, stack: ExitStack) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        fresh_database(self.url, self.settings)
        self.server = Server(self.url, self.folder / "attachments", workers=1, threads=4,
                             log_path=self.folder.parent / "logs" / f"{self.folder.name}.log", root=self.root)
        stack.callback(self.server.stop)
        self.server.start()
        port = self.server.port
        self.pusher = self._login(port, "inspector-6a")
        self.reader, self.reader_cursor = self._login(port, "inspector-6b"), None
        self.other = self._login(port, "inspector-6b")
        self.holder = self._login(port, "inspector-7a")
        self.connections = [self.pusher[0], self.reader[0], self.other[0], self.holder[0]]
        self.offices = {6: self._offices(self.pusher), 7: self._offices(self.holder)}

    def _login(self, port: int, username: str) -> tuple[Http, str]:
        device = str(uuid.uuid4())
        http = Http(port, prime="/healthz")
        token = http.request("POST", "/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD,
                                                             "device_id": device}, expect=(201,)).json()["token"]
        http.authorization = f"Bearer {token}"
        return http, device

    def _offices(self, client) -> list[dict]:
        offices = []
        self._pull(client, None, lambda page: offices.extend(page["changes"]["offices"]["upserted"]))
        return [{"id": o["id"], "location": o["location"]} for o in offices]

    def _pull(self, client, cursor, each=None) -> tuple[Run, str]:
        http, device = client
        run = Run()
        other = 0
        while True:
            reply = http.request("POST", "/api/v1/sync/pull", {"protocol": 1, "device_id": device, "cursor": cursor,
                                                                "limit": self.page})
            run.add(reply)
            page = reply.json()
            if each:
                each(page)
            for entity, changes in page["changes"].items():
                if entity == "reports":
                    run.records += len(changes["upserted"])
                else:
                    other += len(changes["upserted"]) + len(changes["deleted"])
            cursor = page["cursor"]
            if not page["has_more"]:
                run.note = (f"{run.requests} page{'s' if run.requests > 1 else ''} of ≤ {self.page}"
                            + (f", + {other} scope records" if other else ""))
                return run, cursor

    def _push(self, client, records: list[dict]) -> Run:
        http, device = client
        now = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        ops = [{"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create", "id": r["id"],
                "base_version": None, "changed_at": now, "data": r} for r in records]
        reply = http.request("POST", "/api/v1/sync/push", {"protocol": 1, "device_id": device, "sent_at": now,
                                                            "ops": ops})
        statuses = [r["status"] for r in reply.json()["results"]]
        if statuses != ["applied"] * len(records):
            raise BenchError(f"Bazres did not apply every op: {sorted(set(statuses))}")
        return Run.of(reply, len(records))

    def pids(self) -> list[int]:
        return self.server.pids() if self.server else []

    def renew(self) -> None:
        for http in self.connections:
            http.renew()

    def tiny_get(self) -> Run:
        reply = self.pusher[0].request("GET", "/api/v1/auth/me")
        return Run.of(reply, note="GET /api/v1/auth/me")

    def push(self, records: list[dict]) -> Run:
        return self._push(self.pusher, records)

    def load(self, records: list[dict]) -> None:
        for start in range(0, len(records), 500):
            self._push(self.holder, records[start:start + 500])

    def position(self):
        _, self.reader_cursor = self._pull(self.reader, self.reader_cursor)
        return self.reader_cursor

    def push_other(self, records: list[dict]) -> None:
        self._push(self.other, records)

    def pull_since(self, position) -> Run:
        run, self.reader_cursor = self._pull(self.reader, position)
        return run

    def pull_all(self) -> Run:
        # A device that never pulled: a new device id, no cursor.
        return self._pull((self.holder[0], str(uuid.uuid4())), None)[0]


class Kinto:
    """Kinto on PostgreSQL under waitress; one account, one bucket, a collection per purpose."""

    name = "Kinto (PG)"
    USER, PASSWORD = "bench", "bench-" + uuid.uuid4().hex

    def __init__(self, workdir: Path, postgres: str, database: str, kinto: Path, settings: dict[str, str]):
        self.workdir, self.kinto = workdir, kinto
        self.admin_url = pg_url(postgres, database, "postgresql+psycopg")
        self.storage_url = pg_url(postgres, database)
        self.settings = settings
        self.process: Process | None = None

    def start(self, stack: ExitStack) -> None:
        fresh_database(self.admin_url, self.settings)
        folder = self.workdir / "kinto"
        folder.mkdir(exist_ok=True)
        ini = folder / "kinto.ini"
        ini.write_text(self._ini())
        log = self.workdir / "logs" / "kinto.log"
        _run_logged([str(self.kinto), "migrate", "--ini", str(ini)], log, cwd=folder, timeout=300)
        self.port = free_port()
        self.process = Process([str(self.kinto), "start", "--ini", str(ini), "--port", str(self.port)], folder, log)
        stack.callback(self.process.stop)
        self.process.wait_ready(self.port, "/v1/__heartbeat__", log)
        basic = "Basic " + base64.b64encode(f"{self.USER}:{self.PASSWORD}".encode()).decode()
        self.main, self.other = Http(self.port, basic, prime="/v1/"), Http(self.port, basic, prime="/v1/")
        self.main.request("PUT", "/v1/buckets/bench", expect=(201,))
        for collection in ("push", "feed", "full"):
            self.main.request("PUT", f"/v1/buckets/bench/collections/{collection}", expect=(201,))

    def _ini(self) -> str:
        url = self.storage_url
        return f"""\
[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = %(http_port)s
threads = 4

[app:main]
use = egg:kinto
kinto.storage_backend = kinto.core.storage.postgresql
kinto.storage_url = {url}
kinto.permission_backend = kinto.core.permission.postgresql
kinto.permission_url = {url}
kinto.cache_backend = kinto.core.cache.postgresql
kinto.cache_url = {url}
kinto.userid_hmac_secret = {uuid.uuid4().hex}
# Kinto's own default: HTTP Basic, the user id an HMAC of the credentials (no database read),
# as issue 18's figures were measured.
multiauth.policies = basicauth
kinto.bucket_create_principals = system.Authenticated

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = INFO
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
"""

    def pids(self) -> list[int]:
        return self.process.pids() if self.process else []

    def renew(self) -> None:
        self.main.renew()
        self.other.renew()

    @staticmethod
    def _records(collection: str) -> str:
        return f"/v1/buckets/bench/collections/{collection}/records"

    def _push(self, http: Http, collection: str, records: list[dict]) -> Run:
        path = self._records(collection)
        if len(records) == 1:
            reply = http.request("POST", path, {"data": records[0]}, expect=(201,))
            return Run.of(reply, 1)
        run = Run()
        for start in range(0, len(records), KINTO_BATCH):
            body = {"defaults": {"method": "POST", "path": path},
                    "requests": [{"body": {"data": r}} for r in records[start:start + KINTO_BATCH]]}
            reply = http.request("POST", "/v1/batch", body)
            statuses = {r["status"] for r in reply.json()["responses"]}
            if statuses != {201}:
                raise BenchError(f"Kinto's batch answered {statuses}")
            run.add(reply)
            run.records += len(body["requests"])
        run.note = f"{run.requests} batches of ≤ {KINTO_BATCH}"
        return run

    def _pull(self, http: Http, path: str) -> Run:
        run = Run()
        while path:
            reply = http.request("GET", path)
            run.add(reply)
            run.records += len(reply.json()["data"])
            following = reply.headers.get("next-page")
            path = None
            if following:
                parts = urllib.parse.urlsplit(following)
                path = f"{parts.path}?{parts.query}"
        run.note = f"{run.requests} page{'s' if run.requests > 1 else ''}"
        return run

    def tiny_get(self) -> Run:
        reply = self.main.request("GET", "/v1/buckets/bench")
        return Run.of(reply, note="GET /v1/buckets/bench")

    def push(self, records: list[dict]) -> Run:
        return self._push(self.main, "push", records)

    def load(self, records: list[dict]) -> None:
        self._push(self.main, "full", records)

    def position(self):
        return self.main.request("GET", self._records("feed") + "?_limit=1").headers["etag"].strip('"')

    def push_other(self, records: list[dict]) -> None:
        self._push(self.other, "feed", records)

    def pull_since(self, position) -> Run:
        return self._pull(self.main, self._records("feed") + f"?_since={position}")

    def pull_all(self) -> Run:
        return self._pull(self.main, self._records("full"))


class PouchDB:
    """pouchdb-server on LevelDB (its default), a database per purpose; no authentication."""

    name = "pouchdb-server"

    def __init__(self, workdir: Path, script: Path):
        self.workdir, self.script = workdir, script
        self.process: Process | None = None

    def start(self, stack: ExitStack) -> None:
        data = self.workdir / "pouchdb-data"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir()
        log = self.workdir / "logs" / "pouchdb-server.log"
        self.port = free_port()
        self.process = Process(["node", str(self.script), "--host", "127.0.0.1", "--port", str(self.port),
                                "--dir", str(data), "--config", str(data / "config.json"), "--no-color"], data, log)
        stack.callback(self.process.stop)
        self.process.wait_ready(self.port, "/", log)
        self.main, self.other = Http(self.port), Http(self.port)
        for db in ("bench-push", "bench-feed", "bench-full"):
            self.main.request("PUT", f"/{db}", expect=(201,))

    def pids(self) -> list[int]:
        return self.process.pids() if self.process else []

    def renew(self) -> None:
        self.main.renew()
        self.other.renew()

    @staticmethod
    def _docs(records: list[dict]) -> list[dict]:
        return [{"_id": r["id"], **{k: v for k, v in r.items() if k != "id"}} for r in records]

    def _push(self, http: Http, db: str, records: list[dict]) -> Run:
        docs = self._docs(records)
        if len(docs) == 1:
            reply = http.request("POST", f"/{db}", docs[0], expect=(201,))
            return Run.of(reply, 1)
        reply = http.request("POST", f"/{db}/_bulk_docs", {"docs": docs}, expect=(201,))
        if not all(r.get("ok") for r in reply.json()):
            raise BenchError("pouchdb-server refused some of a _bulk_docs")
        return Run.of(reply, len(docs), note="_bulk_docs")

    def _changes(self, db: str, since) -> Run:
        reply = self.main.request("GET", f"/{db}/_changes?include_docs=true&since={since}")
        return Run.of(reply, len(reply.json()["results"]), note="_changes?include_docs=true")

    def tiny_get(self) -> Run:
        reply = self.main.request("GET", "/bench-push")
        return Run.of(reply, note="GET /bench-push, no auth")

    def push(self, records: list[dict]) -> Run:
        return self._push(self.main, "bench-push", records)

    def load(self, records: list[dict]) -> None:
        for start in range(0, len(records), 500):
            self._push(self.main, "bench-full", records[start:start + 500])

    def position(self):
        return urllib.parse.quote(str(self.main.request("GET", "/bench-feed").json()["update_seq"]))

    def push_other(self, records: list[dict]) -> None:
        self._push(self.other, "bench-feed", records)

    def pull_since(self, position) -> Run:
        return self._changes("bench-feed", position)

    def pull_all(self) -> Run:
        return self._changes("bench-full", 0)


# ---------------------------------------------------------------- measuring


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreePeak:
    """The server's resident memory at its peak during a block: each of its processes'
    high-water mark (VmHWM), reset to the present size first (/proc/<pid>/clear_refs), summed
    after. A sum of peaks: at most a little above the tree's true simultaneous peak."""

    def __init__(self, server):
        self.server = server
        self.bytes = 0

    def __enter__(self) -> "TreePeak":
        for pid in self.server.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass  # not ours to reset: the peak then counts from the process's start
        return self

    def __exit__(self, *_exc) -> None:
        self.bytes = sum(_status_kb(pid, "VmHWM") for pid in self.server.pids()) * 1024


def prepare(server, op: int, offices: list[dict]):
    """The untimed part of an operation on one server; returns the timed part."""
    if op == 0:
        return server.tiny_get
    if op in (1, 2):
        records = make_records(EXPECTED[op], offices)
        return lambda: server.push(records)
    if op == 3:
        position = server.position()
        server.push_other(make_records(50, offices))
        return lambda: server.pull_since(position)
    return server.pull_all


def measure(servers: list, repeat: int, offices: list[dict], ops: list[int]) -> tuple[dict, dict, dict, list[float]]:
    """{(op, name): [seconds]}, {(op, name): peak bytes}, {(op, name): the last Run}, and the
    1-minute load average at each repeat's start, for the operations `ops`. Pass 0 is the
    warm-up and is not kept."""
    times, peaks, last, loads = {}, {}, {}, []
    for r in range(repeat + 1):
        if r:
            loads.append(os.getloadavg()[0])
        print(f"{'warm-up' if r == 0 else f'repeat {r}/{repeat}'} (load {os.getloadavg()[0]:.2f})", flush=True)
        for op in ops:
            shift = (r + op) % len(servers)
            for server in servers[shift:] + servers[:shift]:
                run_timed = prepare(server, op, offices)
                server.renew()
                with TreePeak(server) as peak:
                    run = run_timed()
                if EXPECTED[op] is not None and run.records != EXPECTED[op]:
                    raise BenchError(f"{server.name}, {OPERATIONS[op]}: moved {run.records} records, "
                                     f"not {EXPECTED[op]}")
                if r:
                    key = (op, server.name)
                    times.setdefault(key, []).append(run.seconds)
                    peaks[key] = max(peaks.get(key, 0), peak.bytes)
                    last[key] = run
    return times, peaks, last, loads


# ---------------------------------------------------------------- reporting


def fmt_time(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def cell(op: int, name: str, median: float, peak: int, run: Run) -> str:
    text = fmt_time(median)
    if op == 2:
        text += f" ({500 / median:,.0f}/s)"
    elif op == 4:
        text += f" ({run.note})"
    elif op == 0 and name == "pouchdb-server":
        text += " (no auth)"
    return f"{text} · {peak / 2**20:.0f} MB"


def describe(run: Run) -> str:
    text = f"{run.requests} request{'s' if run.requests > 1 else ''}, {size(run.sent)} / {size(run.received)}"
    return text + (f", {run.note}" if run.note else "")


def size(count: int) -> str:
    return f"{count / 2**20:.2f} MB" if count >= 100_000 else f"{count:,} B"


def report(servers, times, peaks, last, loads, context: dict, ops: list[int]) -> str:
    names = [s.name for s in servers]
    peers = names[1:]
    lines = [
        f"{context['date']}, {os.cpu_count()} cores, load average {context['load_start']} at the start, "
        f"{context['load_end']} at the end (1-minute, at each repeat's start: {min(loads):.2f}–{max(loads):.2f})",
        f"Bazres {context['bazres']} (make serve: gunicorn 1 worker × 4 threads, PostGIS) · Kinto {context['kinto']} "
        f"(waitress 1 process × 4 threads, PostgreSQL, basicauth, batches of {KINTO_BATCH}) · pouchdb-server "
        f"{context['pouchdb']} (Node {context['node']}, LevelDB) · PostgreSQL {context['postgres']}",
        f"durability: PostgreSQL as Bazres's and Kinto's databases had it, {context['durability']}; "
        "pouchdb-server: LevelDB without fsync (leveldown's default)",
        f"records: {context['record_bytes']} bytes of JSON each (Bazres's op envelope adds {context['envelope_bytes']})"
        f"; median of {len(loads)} interleaved repeats after a warm-up; after each time (·), the peak RSS of the "
        f"server's processes during the operation",
        "",
        "| work | " + " | ".join(names) + " | " + " | ".join(f"Bazres / {p}" for p in peers) + " |",
        "|---|" + "---|" * (len(names) + len(peers)),
    ]
    spread = ["", "spread (fastest–slowest run)", "", "| work | " + " | ".join(names) + " |",
              "|---|" + "---|" * len(names)]
    # Each repeat runs an operation on the servers back to back: the ratio within a
    # repeat meets the same load, and the median of those ratios is the figure least moved
    # by the load drifting over the run (the ratio of medians above can pair a calm repeat of
    # one server with a busy one of another).
    paired = ["", "ratios repeat by repeat (median, and lowest–highest)", "",
              "| work | " + " | ".join(f"Bazres / {p}" for p in peers) + " |", "|---|" + "---|" * len(peers)]
    for op in ops:
        work = OPERATIONS[op]
        medians = {n: statistics.median(times[(op, n)]) for n in names}
        cells = [cell(op, n, medians[n], peaks[(op, n)], last[(op, n)]) for n in names]
        ratios = [f"{medians[names[0]] / medians[p]:.2f}×" for p in peers]
        lines.append(f"| {work} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
        spread.append(f"| {work} | " + " | ".join(
            f"{fmt_time(min(times[(op, n)]))}–{fmt_time(max(times[(op, n)]))}" for n in names) + " |")
        each = {p: [ours / theirs for ours, theirs in zip(times[(op, names[0])], times[(op, p)])] for p in peers}
        paired.append(f"| {work} | " + " | ".join(
            f"{statistics.median(each[p]):.2f}× ({min(each[p]):.2f}–{max(each[p]):.2f})" for p in peers) + " |")
    notes = ["", "what each did in the last repeat (requests, bytes sent / answered):"]
    for op in ops:
        work = OPERATIONS[op]
        notes.append(f"- {work}: " + "; ".join(f"{n}: {describe(last[(op, n)])}" for n in names))
    notes.append("- processes whose memory is counted: " + "; ".join(
        f"{s.name}: {context['processes'][s.name]}" for s in servers))
    return "\n".join(lines + spread + paired + notes)


def durability(postgres: str, databases: list[str]) -> str:
    """What a new session on each database is set to: a role's or the cluster's settings can
    say otherwise than the database's own."""
    said = []
    for database in databases:
        with psycopg.connect(pg_url(postgres, database), autocommit=True) as connection:
            commit, fsync = (connection.execute(f"SHOW {name}").fetchone()[0] for name in ("synchronous_commit", "fsync"))
        said.append(f"{database}: synchronous_commit {commit}, fsync {fsync}")
    return "; ".join(said)


def versions(kinto: Path, pouchdb: Path, postgres: str) -> dict:
    kinto_version = subprocess.run([str(kinto.parent / "python"), "-c",
                                    "import importlib.metadata as m; print(m.version('kinto'))"],
                                   capture_output=True, text=True).stdout.strip()
    with psycopg.connect(pg_url(postgres, "postgres")) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    bazres = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    return {"kinto": kinto_version, "pouchdb": _npm_version(pouchdb.parents[1]), "postgres": pg,
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
            "bazres": bazres}


def _at_least_one(text: str) -> int:
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count}: at least one repeat, after the warm-up")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=_at_least_one, default=7, help="interleaved repeats (default 7)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bazres-peers"),
                        help="where Kinto and pouchdb-server are installed and keep their data (default %(default)s)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432",
                        help="the PostgreSQL server, without a database (default %(default)s)")
    parser.add_argument("--bazres-database", default="bazres_bench_peers",
                        help="dropped and made anew; its name must contain 'bench' (default %(default)s)")
    parser.add_argument("--kinto-database", default="kinto_bench_peers",
                        help="dropped and made anew; its name must contain 'bench' (default %(default)s)")
    parser.add_argument("--page", type=int, default=2000, help="Bazres's pull page size (default %(default)s)")
    parser.add_argument("--synchronous-commit", choices=("on", "off"), default="on",
                        help="PostgreSQL's synchronous_commit on Bazres's and Kinto's databases (default on, as "
                             "Bazres runs); off: commits answer before the WAL is on disk, a promise no stronger "
                             "than pouchdb-server's LevelDB writes (no fsync)")
    parser.add_argument("--compare", metavar="REF",
                        help="also serve Bazres's code at this git ref (a worktree, this checkout's venv, a "
                             "database of its own: --bazres-database + _compare), interleaved with the rest")
    parser.add_argument("--only", default=",".join(KEYS),
                        help="the operations to run, of " + ", ".join(KEYS) + " (default: all), e.g. --only push-500")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in KEYS]
    if unknown or not wanted:
        parser.error(f"--only: {', '.join(unknown) or 'nothing'} is not one of {', '.join(KEYS)}")
    ops = sorted({KEYS.index(name) for name in wanted})

    workdir = args.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    kinto_command = install_kinto(workdir)
    pouchdb_script = install_pouchdb_server(workdir)

    def interrupted(*_):
        raise KeyboardInterrupt

    # SIGTERM stops the run as Ctrl-C does, and Ctrl-C works even where the shell that started
    # us in the background left SIGINT ignored: the servers always go down with us.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    settings = {"synchronous_commit": args.synchronous_commit}
    bazres = Bazres(workdir, args.postgres, args.bazres_database, args.page, settings)
    kinto = Kinto(workdir, args.postgres, args.kinto_database, kinto_command, settings)
    pouchdb = PouchDB(workdir, pouchdb_script)
    servers = [bazres, kinto, pouchdb]
    try:
        with ExitStack() as stack:
            if args.compare:
                scratch = Path(tempfile.mkdtemp(prefix="bazres-peers-compare-"))
                stack.callback(shutil.rmtree, scratch, ignore_errors=True)
                stack.callback(remove_worktree, scratch / "code")
                servers.append(Bazres(workdir, args.postgres, f"{args.bazres_database}_compare", args.page, settings,
                                      root=worktree(args.compare, scratch / "code", own_venv=False), ref=args.compare))
            for server in servers:
                print(f"starting {server.name} …", flush=True)
                server.start(stack)
            if 4 in ops:
                print("loading the 2,000 records to pull …", flush=True)
                for server in servers:
                    server.load(make_records(2000, bazres.offices[7]))
            sample = make_records(1, bazres.offices[6])[0]
            context = versions(kinto_command, pouchdb_script, args.postgres) | {
                "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                "load_start": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
                "record_bytes": json_size(sample),
                "durability": durability(args.postgres, [args.bazres_database, args.kinto_database]
                                         + ([f"{args.bazres_database}_compare"] if args.compare else [])),
                "envelope_bytes": json_size({"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create",
                                             "id": sample["id"], "base_version": None,
                                             "changed_at": sample["observed_at"], "data": {}}) - 2,
            }
            times, peaks, last, loads = measure(servers, args.repeat, bazres.offices[6], ops)
            context["load_end"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
            context["processes"] = {s.name: len(s.pids()) for s in servers}
        print()
        print(report(servers, times, peaks, last, loads, context, ops))
    except KeyboardInterrupt:
        raise SystemExit("interrupted: every server was stopped")
    except BenchError as exc:
        raise SystemExit(f"benchmark failed: {exc}\n(every server was stopped; logs in {workdir / 'logs'})")


if __name__ == "__main__":
    main()
