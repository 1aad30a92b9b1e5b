"""Bazres in a process of its own, for tests of what only a real server shows: streamed
answers, slow and chunked bodies, request teardown, locks held across a request.

The test client runs each request inside an app context the test already holds, which
hides whole classes of bugs (a CSV stream read after its session was gone passed every
such test). So these tests talk HTTP to a separate process on a free port, on the leg's
database kind: `flask run` on SQLite + SpatiaLite, gunicorn (`make serve`'s
scripts/serve.sh) on PostGIS. The server has a database of its own, migrated and seeded
as a fresh install would be, so it commits for real without touching the suite's.
"""

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import make_url

from bench.harness import Server, fresh_database, free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bazres-demo"  # the password bench.harness.Server seeds with


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class FlaskRun:
    """`flask run` (threaded, as `make run` serves) on a SQLite file of its own."""

    def __init__(self, database_url: str, attachments_dir: Path, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = os.environ | {
            "DATABASE_URL": database_url, "ATTACHMENTS_DIR": str(attachments_dir), "SECRET_KEY": "live-test",
            "BAZRES_DEMO_PASSWORD": PASSWORD, "BAZRES_LOGIN_LIMIT_PER_ADDRESS": "100000/minute",
            "FLASK_DEBUG": "0",
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        with self.log_path.open("ab") as log:
            for step in (["db", "upgrade"], ["seed", "--if-empty"]):
                subprocess.run(flask + step, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                               check=True, timeout=timeout)
            self.process = subprocess.Popen(flask + ["run", "--port", str(self.port), "--no-reload"], cwd=ROOT,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"flask run exited ({self.process.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"flask run did not answer in {timeout} s; see {self.log_path}")

    def pids(self) -> list[int]:
        """The server's process (`--no-reload`: one process, its requests on threads)."""
        return [self.process.pid] if self.process is not None and self.process.poll() is None else []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class LiveServer:
    """A running Bazres and what a test needs to talk to it."""

    url: str
    database_url: str
    attachments_dir: Path
    log_path: Path
    pids: Callable[[], list[int]]  # the server's processes now (gunicorn: master and workers)
    tokens: dict = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def token(self, username: str) -> str:
        """A bearer token of a demo user, logged in once per server."""
        if username not in self.tokens:
            answer = self.request("POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})
            assert answer.status == 201, answer.body
            self.tokens[username] = answer.json()["token"]
        return self.tokens[username]

    def request(self, method: str, path: str, body=None, *, user: str | None = None, headers: dict | None = None,
                timeout: float = 60) -> Answer:
        """One request on a connection of its own; JSON bodies given as Python values, bytes as they are."""
        headers = dict(headers or {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        connection = self.connect(timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def connect(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


def start(leg: str, base_url: str, workdir: Path):
    """Start a server of the leg's kind on a fresh database; returns (LiveServer, stop)."""
    attachments = workdir / "attachments"
    attachments.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "server.log"
    if leg == "postgis":
        url = make_url(base_url)
        database_url = url.set(database=f"{url.database}_live").render_as_string(hide_password=False)
        fresh_database(database_url)
        server = Server(database_url, attachments, workers=2, threads=4, log_path=log_path)
        server.start()
        stop = server.stop
    else:
        database_url = f"sqlite:///{workdir / 'live.sqlite'}"
        server = FlaskRun(database_url, attachments, log_path)
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        stop = server.stop
    return LiveServer(server.url, database_url, attachments, log_path, server.pids), stop
