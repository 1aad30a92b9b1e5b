"""Faults under load: the server killed mid-push, PostgreSQL restarted mid-push; then the checks.

    .venv/bin/python bench/chaos.py                                   # both scenarios
    .venv/bin/python bench/chaos.py --scenario kill-server --kills 3 --phones 12
    .venv/bin/python bench/chaos.py --scenario restart-database --restarts fast,immediate,fast

Everything runs on a private, throw-away PostgreSQL cluster (bench.harness.PrivateCluster:
initdb into a temporary directory, its own port), never the shared one, with Bazres served by
scripts/serve.sh on it. Phones (threads, the reference client) sync in rounds: each round
adds reports with one photo each — small ones, and ones of several 256 KiB pieces so that
uploads are cut half-way — and pushes them. While pushes are in flight:

- kill-server: SIGKILL to gunicorn's whole process group (master and workers), then the
  server is started again as `make serve` would be;
- restart-database: `pg_ctl restart -m fast` (sessions cut, open transactions rolled back)
  or `-m immediate` (no checkpoint: crash recovery on start).

Besides, every phone's line loses the answer to every third push (the server applied it;
the phone sends the same ops again), so retried ops are there whatever the kills' timing.
A phone treats a failed sync as a real one would: it keeps its outbox (every op keeps its
op_id) and syncs again shortly after. When every phone is done, bench/invariants.py checks
the database: every acknowledged op stored, every retried op applied once, no half-written
report, no photo counted as stored without its whole, correctly hashed file.
Importable: tests/faults/test_chaos.py runs `run()` at a small scale.
"""

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import invariants  # noqa: E402
from bench.harness import (INSPECTORS, LosingTransport, Phone, PhonePlan, PrivateCluster, Recorder,  # noqa: E402
                           Server)
from sync.client import ServerError, TransportError  # noqa: E402

SCENARIOS = ("kill-server", "restart-database")
BIG_PHOTO = 600 * 1024  # three pieces of the client's 256 KiB


@dataclass
class Fault:
    kind: str
    pushes_in_flight: int  # when it struck
    acknowledged_before: int  # ops the server had acknowledged by then
    recovery_s: float  # until the server (or the database) answered again


@dataclass
class ScenarioResult:
    scenario: str
    phones: int
    faults: list[Fault] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)  # push results by status, retries included
    failed_requests: dict[str, int] = field(default_factory=dict)  # "endpoint: cut or 5xx status" -> count
    setbacks: int = 0  # syncs a phone had to start again
    answers_lost: int = 0  # push answers dropped on the way back (LosingTransport)
    phone_errors: list[str] = field(default_factory=list)
    findings: invariants.Findings | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.phone_errors and self.findings is not None and self.findings.ok


class ChaosPhone(Phone):
    """A phone that, like the app, syncs again after a failed sync until `deadline`."""

    def __init__(self, *args, rounds: int, deadline: float, lose_every: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.rounds, self.deadline = rounds, deadline
        self.setbacks = 0
        # Beside the faults, a line that drops some answers: retried pushes the server has
        # already applied, whatever the timing of the kills.
        self.transport = LosingTransport(self.transport, lose_every)

    def persist(self, step):
        while True:
            try:
                return step()
            except (ServerError, TransportError):
                if time.monotonic() > self.deadline:
                    raise
                self.setbacks += 1
                time.sleep(self.rng.uniform(0.3, 0.8))

    def photo_size(self, n: int) -> int:
        return BIG_PHOTO + n if (self.plan.index + n) % 3 == 0 else self.plan.photo_bytes + n

    def cycle(self, login: bool = True):
        began = time.perf_counter()
        try:
            self.open()
            self.persist(self.login)
            self.persist(self.client.pull)
            per_round = max(1, self.plan.reports // self.rounds)
            for n in range(self.plan.reports):
                self.add_report(n, self.photo_size(n))
                if (n + 1) % per_round == 0 or n + 1 == self.plan.reports:
                    self.think()
                    self.persist(self.client.push)  # the photos go up after the reports
            self.persist(self.client.upload_photos)
            self.persist(self.client.pull)
            self.finish()
        except (ServerError, TransportError, OSError) as exc:
            self.outcome.error = f"{type(exc).__name__}: {exc}"[:300]
        self.outcome.seconds = time.perf_counter() - began
        return self.outcome


class Injector(threading.Thread):
    """Strikes each fault while a push is in flight (after some ops have landed)."""

    def __init__(self, recorder: Recorder, strike, kinds: list[str], spacing_acks: int, patience_s: float = 20):
        super().__init__(daemon=True)
        self.recorder, self.strike, self.kinds = recorder, strike, kinds
        self.spacing_acks, self.patience_s = spacing_acks, patience_s
        self.faults: list[Fault] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for kind in self.kinds:
                floor = len(self.recorder.acknowledged) + self.spacing_acks
                give_up = time.monotonic() + self.patience_s
                while time.monotonic() < give_up:
                    if self.recorder.in_flight_pushes and len(self.recorder.acknowledged) >= floor:
                        break
                    time.sleep(0.003)
                in_flight, acked = self.recorder.in_flight_pushes, len(self.recorder.acknowledged)
                began = time.monotonic()
                self.strike(kind)
                self.faults.append(Fault(kind, in_flight, acked, round(time.monotonic() - began, 1)))
        except BaseException as exc:  # noqa: BLE001 (reported by run())
            self.error = exc


def run_scenario(scenario: str, server: Server, cluster: PrivateCluster, *, phones: int, reports: int, rounds: int,
                 faults: list[str], first_phone: int, workdir: Path, lose_every: int = 3,
                 deadline_s: float = 120) -> ScenarioResult:
    """Phones sync while the faults strike; then the database is checked."""
    result = ScenarioResult(scenario, phones)
    recorder = Recorder()
    deadline = time.monotonic() + deadline_s
    plans = [PhonePlan(first_phone + i, INSPECTORS[(first_phone + i) % len(INSPECTORS)], reports, 4096, (0.1, 0.6))
             for i in range(phones)]
    # Few retries, quickly: a sync that fails is started again by the phone (ChaosPhone.persist).
    crew = [ChaosPhone(plan, server.url, workdir, recorder, retries=3, backoff_s=0.2, rounds=rounds,
                       deadline=deadline, lose_every=lose_every) for plan in plans]

    def strike(kind: str) -> None:
        if kind == "kill":
            server.kill()
            server.start()
        else:
            cluster.restart(kind)
            while not server.healthy():  # the first error (or an idle connection's ping) recycles the pool
                time.sleep(0.1)

    injector = Injector(recorder, strike, faults, spacing_acks=max(1, phones // 2))
    began = time.monotonic()
    threads = [threading.Thread(target=p.cycle) for p in crew]
    injector.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    injector.join(timeout=60)
    result.seconds = time.monotonic() - began
    result.faults = injector.faults
    if injector.error is not None:
        result.phone_errors.append(f"the fault injector failed: {injector.error!r}")
    result.answers = dict(recorder.answers)
    result.failed_requests = dict(Counter(f"{s.endpoint}: {'cut' if s.status is None else s.status}"
                                          for s in recorder.samples if s.status is None or s.status >= 500))
    result.setbacks = sum(p.setbacks for p in crew)
    result.answers_lost = sum(p.transport.lost for p in crew)
    for phone in crew:
        o = phone.outcome
        if o.error or o.status.get("outbox") or o.status.get("photos_to_upload") or o.status.get("rejected"):
            result.phone_errors.append(f"phone {o.index}: {o.error or o.status}")
    result.findings = invariants.check(
        server.database_url, server.attachments_dir,
        report_ids=[r for p in crew for r in p.outcome.report_ids],
        device_ids=[p.outcome.device_id for p in crew if p.outcome.device_id],
        photos={sha: size for p in crew for sha, size in p.outcome.photos.items()},
        acknowledged=dict(recorder.acknowledged), photos_acknowledged=set(recorder.photos_stored))
    return result


def run(scenarios=SCENARIOS, *, phones: int = 6, reports: int = 6, rounds: int = 3, kills: int = 1,
        restarts=("fast", "immediate"), workers: int = 2, workdir: Path | None = None, log=print) -> list[ScenarioResult]:
    """Start a private cluster and a server on it, run each scenario with phones of its own."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="bazres-chaos-"))
    cluster = PrivateCluster().start()
    server = Server(cluster.url("bazres_chaos_test"), workdir / "attachments", workers=workers, threads=4,
                    log_path=workdir / "server.log")
    results = []
    try:
        log(f"private PostgreSQL on port {cluster.port} ({cluster.dir}); starting the server ...")
        log(f"server up in {server.start():.1f} s at {server.url} (log {server.log_path})")
        for n, scenario in enumerate(scenarios):
            faults = ["kill"] * kills if scenario == "kill-server" else list(restarts)
            result = run_scenario(scenario, server, cluster, phones=phones, reports=reports, rounds=rounds,
                                  faults=faults, first_phone=n * phones, workdir=workdir)
            log(describe(result))
            results.append(result)
    finally:
        server.stop()
        cluster.destroy()
    return results


def describe(r: ScenarioResult) -> str:
    lines = [f"== {r.scenario}: {r.phones} phones, {r.seconds:.1f} s: {'OK' if r.ok else 'FAILED'}"]
    for f in r.faults:
        lines.append(f"   fault {f.kind}: {f.pushes_in_flight} push(es) in flight, {f.acknowledged_before} ops "
                     f"acknowledged before; back in {f.recovery_s} s")
    lines.append(f"   push answers {r.answers} ({r.answers_lost} lost on the way back); failed requests "
                 f"{r.failed_requests}; syncs started again {r.setbacks}")
    f = r.findings
    if f is not None:
        lines.append(f"   reports {f.reports_found}/{f.reports_expected}, photos {f.photos_stored}/"
                     f"{f.photos_expected}, {f.ops_acknowledged} ops acknowledged; leftovers {f.leftovers}; "
                     f"never delivered {f.undelivered or 'nothing'}")
        lines += [f"   - {p}" for p in f.problems]
    lines += [f"   - {e}" for e in r.phone_errors]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append", help="default: both")
    parser.add_argument("--phones", type=int, default=8)
    parser.add_argument("--reports", type=int, default=8, help="reports per phone, one photo each")
    parser.add_argument("--rounds", type=int, default=4, help="pushes per phone")
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--restarts", default="fast,immediate", help="pg_ctl restart modes, in order")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    results = run(args.scenario or SCENARIOS, phones=args.phones, reports=args.reports, rounds=args.rounds,
                  kills=args.kills, restarts=args.restarts.split(","), workers=args.workers)
    sys.exit(0 if all(r.ok for r in results) else 1)


if __name__ == "__main__":
    main()
