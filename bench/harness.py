"""What the load and chaos runs share: a server started like `make serve`, a private PostgreSQL
cluster, a timing transport, and a phone that plays one sync cycle with the reference client.

The server is scripts/serve.sh (migrate, seed, gunicorn) with environment overrides, in a
process group of its own, so that it can be stopped gracefully (SIGTERM to the master) or
killed whole (SIGKILL to the group: master and workers, as a crash or an OOM kill would).
"""

import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from sync.client import Client, HttpTransport, Response, ServerError, TransportError, retry_after_s

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
DEMO_PASSWORD = "bazres-demo"
INSPECTORS = [f"inspector-{d}{s}" for d in range(1, 23) for s in "ab"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def libpq(url: str, database: str | None = None) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://…) as a libpq one, optionally for another database."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def fresh_database(url: str, settings: dict[str, str] | None = None) -> None:
    """Drop and re-create the database named in `url`; only names with 'bench' or 'test'.
    `settings` (PostgreSQL parameters) become the database's defaults for new sessions (a
    role's settings, PGOPTIONS or a session's own SET still win over them)."""
    name = make_url(url).database or ""
    if "bench" not in name and "test" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench' or 'test'")
    with psycopg.connect(libpq(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        for parameter, value in (settings or {}).items():
            admin.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                sql.Identifier(name), sql.Identifier(parameter), sql.Literal(value)))


# ---------------------------------------------------------------- older code (--compare)


def worktree(ref: str, into: Path, own_venv: bool) -> Path:
    """The code at `ref`, checked out beside this one (`--compare REF`), using this
    checkout's venv or, with `own_venv`, the venv its own `make install` makes (what it
    installed, e.g. its Argon2 build). Remove it with `remove_worktree`."""
    added = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(into), ref],
                           capture_output=True, text=True)
    if added.returncode != 0:
        raise SystemExit(f"--compare {ref}: git worktree add failed: {added.stderr.strip()}")
    if own_venv:
        print(f"{ref}: make install in {into} (its own venv)", flush=True)
        subprocess.run(["make", "-C", str(into), "install", f"PYTHON={sys.executable}"], check=True,
                       stdout=subprocess.DEVNULL)
    else:
        (into / ".venv").symlink_to(ROOT / ".venv")
    return into


@contextmanager
def compared(ref: str | None, scratch: Path, own_venv: bool = False):
    """{"now": this checkout} and, with `ref` (`--compare REF`), {REF: its worktree} before it;
    the worktree removed when done, also after a failure."""
    if not ref:
        yield {"now": ROOT}
        return
    try:
        yield {ref: worktree(ref, scratch / "compare", own_venv), "now": ROOT}
    finally:
        remove_worktree(scratch / "compare")


def alternated(variants: dict[str, Path], repeat: int, scratch: Path):
    """(repeat, name, root, workdir) in the order a `--compare` runs them: every variant in each
    repeat, the order reversed every other repeat, so that the machine's drift hits each alike;
    each run with a folder of its own in `scratch`, removed once the run is over."""
    for index in range(repeat):
        order = list(variants.items())
        if index % 2:
            order.reverse()
        for name, root in order:
            workdir = Path(tempfile.mkdtemp(prefix="run-", dir=scratch))
            try:
                yield index, name, root, workdir
            finally:
                shutil.rmtree(workdir, ignore_errors=True)


def remove_worktree(into: Path) -> None:
    """The worktree gone, and git's note of it (also of one an interrupt left half made)."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(into)], capture_output=True)
    subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True)


# ---------------------------------------------------------------- the server


class Server:
    """Bazres as `make serve` runs it, on a database and attachments directory of our own."""

    def __init__(self, database_url: str, attachments_dir: Path, *, port: int | None = None,
                 workers: int | None = None, threads: int | None = None, log_path: Path | None = None,
                 root: Path = ROOT):
        self.root = root  # the checkout whose code is served (--compare of cycle_cpu.py, peers.py: a worktree)
        self.database_url = database_url
        self.attachments_dir = Path(attachments_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or self.attachments_dir.parent / "server.log"
        self.env = os.environ | {
            "DATABASE_URL": database_url, "ATTACHMENTS_DIR": str(self.attachments_dir),
            "BAZRES_BIND": f"127.0.0.1:{self.port}", "SECRET_KEY": "load-" + os.urandom(8).hex(),
            "BAZRES_DEMO_PASSWORD": DEMO_PASSWORD,
            # Every phone logs in from 127.0.0.1: failed logins are not expected, but the
            # per-address limit must not be what a run measures.
            "BAZRES_LOGIN_LIMIT_PER_ADDRESS": "100000/minute",
        }
        if workers:
            self.env["BAZRES_WORKERS"] = str(workers)
        if threads:
            self.env["BAZRES_THREADS"] = str(threads)
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 180) -> float:
        """Start scripts/serve.sh and wait until /healthz answers; returns the seconds it took."""
        began = time.monotonic()
        log = self.log_path.open("ab")
        # A session of its own: the process group is serve.sh, then (exec) the gunicorn
        # master, and its workers.
        self.process = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=self.root, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.starts += 1
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.kill()
            raise
        return time.monotonic() - began

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}); see {self.log_path}")
            if self.healthy():
                return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not become healthy in {timeout} s; see {self.log_path}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM to the master: it stops accepting, finishes what is in flight, exits."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL to the whole process group, master and workers at once."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def pids(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        return group_pids(self.process.pid)

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far by the master and its live workers."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def rss(self) -> tuple[int, int]:
        """(sum over master and workers, largest single process) resident set, in bytes."""
        sizes = [_rss_bytes(pid) for pid in self.pids()]
        return sum(sizes), max(sizes, default=0)


def group_pids(pgid: int) -> list[int]:
    """The live processes of a process group: a server started in a session of its own,
    with every worker or child it forked."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    out.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Samples the server's resident memory every `every` seconds; keeps the peaks."""

    def __init__(self, server: Server, every: float = 0.5):
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.peak_total = self.peak_process = 0
        self.cpu_start = self.cpu_end = server.cpu_seconds()
        self.halt = threading.Event()
        self.timeline: list[tuple[float, float, float, float]] = []  # (time, machine busy, machine total, server CPU)

    def run(self) -> None:
        self.cpu_start = self.cpu_end = self.server.cpu_seconds()
        self.machine_start = machine_cpu()
        while not self.halt.is_set():
            total, largest = self.server.rss()
            self.peak_total = max(self.peak_total, total)
            self.peak_process = max(self.peak_process, largest)
            self.cpu_end = self.server.cpu_seconds()
            self.timeline.append((time.time(), *machine_cpu(), self.cpu_end))
            self.halt.wait(self.every)

    def stop(self) -> None:
        self.halt.set()
        self.join()
        busy, total = (end - start for end, start in zip(machine_cpu(), self.machine_start))
        self.machine_busy = busy / total if total else 0.0  # of all cores, everyone's work included


# ---------------------------------------------------------------- a private PostgreSQL


class PrivateCluster:
    """A throw-away PostgreSQL 15 cluster on its own port, to restart under load without
    touching the shared one. PostgreSQL will not run as root: as root its commands run as
    the `postgres` user, in a temporary directory that user owns."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bazres-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.restarts = 0

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=timeout)

    def start(self) -> "PrivateCluster":
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale", "C")
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=60"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "postgres.log"), "-w",
                  "-t", "60", "-o", options, action, *extra)

    def restart(self, mode: str = "fast") -> float:
        """`pg_ctl restart -m fast` (sessions cut, transactions rolled back) or `immediate`
        (no shutdown checkpoint: crash recovery on start); returns the seconds it took."""
        began = time.monotonic()
        self._pg_ctl("restart", "-m", mode)
        self.restarts += 1
        return time.monotonic() - began

    def destroy(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "immediate")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- timing what phones send


def endpoint(method: str, path: str) -> str:
    """A request's endpoint, with the photo's name left out: `PATCH /attachments/{sha256}`."""
    path = path.split("?")[0].removeprefix("/api/v1")
    if path.startswith("/attachments/"):
        path = "/attachments/{sha256}"
    return f"{method} {path}"


@dataclass
class Sample:
    endpoint: str
    started: float  # time.time()
    seconds: float
    status: int | None  # None: the request failed on the way (TransportError)
    shed: bool = False  # a 503 `overloaded`: not started past capacity (app/shedding.py), sent again later
    retry_after: float | None = None  # a shed one's Retry-After, in seconds


class Recorder:
    """Every request's endpoint, start, duration and status; and the ops the server acknowledged."""

    def __init__(self):
        self.samples: list[Sample] = []
        self.acknowledged: dict[str, str] = {}  # op_id -> status the server last answered
        self.answers: Counter = Counter()  # every push result's status, retries included
        self.photos_stored: set[str] = set()  # sha256s the server answered 201 (or 200 to a PUT) for
        self.in_flight_pushes = 0
        self.lock = threading.Lock()

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class Wrapping:
    """A transport around another (`inner`: an HttpTransport, or another Wrapping), closed with it."""

    inner: "HttpTransport | Wrapping"

    def close(self) -> None:
        self.inner.close()


class TimedTransport(Wrapping):
    """The client's HttpTransport, with every request timed and push answers noted."""

    def __init__(self, inner: HttpTransport, recorder: Recorder):
        self.inner, self.recorder = inner, recorder

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        name = endpoint(method, path)
        push = name == "POST /sync/push"
        if push:
            with self.recorder.lock:
                self.recorder.in_flight_pushes += 1
        began, clock = time.time(), time.perf_counter()
        status, shed, retry_after = None, False, None
        try:
            response = self.inner.request(method, path, body, headers)
            status = response.status
            shed = status == 503 and _shed(method, response)
            if shed:
                retry_after = retry_after_s(response)
            if (method == "PATCH" and status == 201) or (method == "PUT" and status in (200, 201)):
                with self.recorder.lock:
                    self.recorder.photos_stored.add(path.rsplit("/", 1)[-1])
            if push and status == 200:
                with self.recorder.lock:
                    for result in response.json()["results"]:
                        self.recorder.acknowledged[str(result["op_id"])] = result["status"]
                        self.recorder.answers[result["status"]] += 1
            return response
        finally:
            self.recorder.add(Sample(name, began, time.perf_counter() - clock, status, shed, retry_after))
            if push:
                with self.recorder.lock:
                    self.recorder.in_flight_pushes -= 1


def _shed(method: str, response: Response) -> bool:
    """A 503 `overloaded`; a HEAD's has no body to tell it by (a 503 to one is counted shed)."""
    if method == "HEAD":
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("type") == "/problems/overloaded"


class LosingTransport(Wrapping):
    """Loses the answer to every `every`-th push on its way back: the server applied it, the
    phone never hears so, and sends the same ops again (they must come back `duplicate`)."""

    def __init__(self, inner, every: int):
        self.inner, self.every = inner, every
        self.pushes = self.lost = 0

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        response = self.inner.request(method, path, body, headers)
        if endpoint(method, path) == "POST /sync/push" and response.status == 200:
            self.pushes += 1
            if self.pushes % self.every == 0:
                self.lost += 1
                raise TransportError("the answer was lost on the way back")
        return response


# ---------------------------------------------------------------- one phone


@dataclass
class PhonePlan:
    index: int
    username: str
    reports: int = 5
    photo_bytes: int = 4096
    think_s: tuple[float, float] = (0.0, 2.0)


@dataclass
class PhoneOutcome:
    index: int
    username: str
    device_id: str = ""
    report_ids: list[str] = field(default_factory=list)
    photos: dict[str, int] = field(default_factory=dict)  # sha256 -> size
    seconds: float = 0.0
    error: str | None = None
    status: dict = field(default_factory=dict)  # the client's status() at the end
    pending_after_pull: int = 0  # photos the final pull still shows as pending


def photo(path: Path, seed: str, size: int) -> Path:
    """A few KB of bytes no other phone has, standing for a JPEG."""
    stream, block = b"\xff\xd8\xff\xe0", seed.encode()
    while len(stream) < size:
        block = hashlib.sha256(block).digest()
        stream += block
    path.write_bytes(stream[:size])
    return path


def report_location(office: dict, rng: random.Random) -> dict:
    lon, lat = office["location"]["coordinates"]
    return {"type": "Point", "coordinates": [lon + rng.uniform(-2e-4, 2e-4), lat + rng.uniform(-2e-4, 2e-4)]}


class Phone:
    """One inspector's phone: the reference client on a store of its own."""

    def __init__(self, plan: PhonePlan, base_url: str, workdir: Path, recorder: Recorder, *, retries: int = 5,
                 backoff_s: float = 0.5):
        self.plan = plan
        self.rng = random.Random(plan.index)
        self.dir = workdir / f"phone-{plan.index:04d}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.outcome = PhoneOutcome(plan.index, plan.username)
        self.transport = TimedTransport(HttpTransport(base_url), recorder)
        self.retries, self.backoff_s = retries, backoff_s
        self.client: Client | None = None

    def think(self) -> None:
        low, high = self.plan.think_s
        if high > 0:
            time.sleep(self.rng.uniform(low, high))

    def open(self) -> Client:
        # The client's SQLite connection belongs to the thread that made it.
        self.client = Client(self.dir / "store.db", transport=self.transport, retries=self.retries,
                             backoff_s=self.backoff_s)
        self.outcome.device_id = self.client.device_id
        return self.client

    def add_reports(self) -> None:
        for n in range(self.plan.reports):
            self.add_report(n, self.plan.photo_bytes)

    def add_report(self, n: int, photo_bytes: int) -> None:
        """Report number `n`, on an office of the phone's scope, with one photo of its own."""
        office = self.rng.choice(self.client.records("offices"))
        path = photo(self.dir / f"photo-{n}.jpg", f"{self.outcome.device_id}-{n}", photo_bytes)
        state = self.rng.choices(("open", "closed", "open_not_serving"), weights=(8, 1, 1))[0]
        report_id = self.client.add_report(office["id"], state, location=report_location(office, self.rng),
                                           accuracy_m=12.0, staff_present=self.rng.randint(0, 4),
                                           notes=f"گزارش آزمایشی {n + 1}", photos=[path])
        self.outcome.report_ids.append(report_id)
        data = path.read_bytes()
        self.outcome.photos[hashlib.sha256(data).hexdigest()] = len(data)

    def login(self) -> None:
        self.client.login(self.plan.username, DEMO_PASSWORD)

    def cycle(self, login: bool = True) -> PhoneOutcome:
        """Log in (unless the store already holds a token), pull, add the reports, push (the
        photos go up after), pull again."""
        began = time.perf_counter()
        try:
            self.open()
            if login:
                self.login()
                self.think()
            self.client.pull()
            self.think()
            self.add_reports()
            self.think()
            self.client.push()
            self.think()
            self.client.pull()
            self.finish()
        except (ServerError, TransportError, OSError, KeyError, ValueError) as exc:
            self.outcome.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            # The phone's connection (HttpTransport keeps one open), closed when its sync is
            # over rather than left to the server's keep-alive. Every transport a Phone is given
            # is a Wrapping.
            self.transport.close()
        self.outcome.seconds = time.perf_counter() - began
        return self.outcome

    def finish(self) -> None:
        self.outcome.status = self.client.status()
        pending = 0
        for report_id in self.outcome.report_ids:  # this phone's; a shared user brings others' too
            pending += len((self.client.report(report_id).get("server") or {}).get("photos_pending") or [])
        self.outcome.pending_after_pull = pending
