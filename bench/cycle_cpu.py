"""CPU per request of the 08:00 cycle, one phone at a time, against a real server (issue 18).

    .venv/bin/python bench/cycle_cpu.py --phones 40
    .venv/bin/python bench/cycle_cpu.py --phones 40 --repeat 3 --compare 85862f6
    .venv/bin/python bench/cycle_cpu.py --phones 30 --repeat 3 --compare cd610bf --own-venv

`bench/load.py` measures the rush whole, where the server's CPU per phone also holds what
contention costs (16 threads on 2 cores, sheds and their retries) and moves with the load
generator beside it. This measures the work itself: the server as `make serve` runs it
(scripts/serve.sh: gunicorn, here 1 worker × 4 threads, PostGIS, a fresh database), the
phones one after the other (the reference client, bench/harness.py's Phone, no thinking),
and around each request the CPU the server's processes used, read from the kernel's
per-thread scheduler clock (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds; `/proc/<pid>/stat`
counts in 10 ms ticks), and the same for the database's backends serving this database.
Nothing else runs on the server meanwhile, so a request's figure is its own work, gunicorn's
included (the access log, the keep-alive), PostgreSQL's apart.

With `--compare REF`, the code at REF (a git worktree in a temporary folder, this checkout's
venv, or with `--own-venv` the venv REF's own `make install` makes: what it installed, such as
the Argon2 build of scripts/argon2_build.py, is then part of the comparison) is measured too,
alternating with this checkout's from repeat to repeat, each on a fresh database, so that the machine's drift hits both alike; the ratios are now / REF.
Prints per endpoint the mean server and database CPU per request, and per phone cycle
(login, pull, N reports with a photo each, push, photos, pull); medians over the repeats,
with the worker's peak resident memory. Beside them, the phone's own CPU a cycle: the
reference client's, its SQLite store included (`time.thread_time` of the thread that plays
the phones, less what reading the others' clocks took). That is what `bench/load.py`'s load
generator spends a phone, on the same 2 cores as the server; it is this checkout's client
whichever code `--compare` serves.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.harness import (INSPECTORS, ROOT, Phone, PhonePlan, Recorder, Server, endpoint,  # noqa: E402
                           Wrapping, alternated, compared, fresh_database, libpq)
from sync.client import HttpTransport, Response  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bazres_load_bench"


def cpu_ns(pids: list[int]) -> int:
    """Nanoseconds on a CPU so far, every thread of these processes."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as file:
                    total += int(file.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total


class Meter:
    """The server's and the database's CPU, read around each request."""

    def __init__(self, server: Server, database_url: str):
        self.server, self.database_url = server, database_url
        self.server_pids = server.pids()
        self.database_pids: list[int] = []
        self.by_endpoint: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.own_s = 0.0  # this process's CPU spent reading the others' (not the phone's work)

    def find_backends(self) -> None:
        """The PostgreSQL backends the server's pool holds on this database (client backends
        only: an autovacuum worker's CPU is no request's). Looked up before each phone, so a
        connection the pool opened meanwhile is counted from then on."""
        name = make_url(self.database_url).database
        with psycopg.connect(libpq(self.database_url, "postgres"), autocommit=True) as admin:
            self.database_pids = [pid for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()", (name,))]

    def read(self) -> tuple[int, int]:
        began = time.thread_time()
        reading = cpu_ns(self.server_pids), cpu_ns(self.database_pids)
        self.own_s += time.thread_time() - began
        return reading


class MeteredTransport(Wrapping):
    """HttpTransport with the server's and database's CPU noted for each request."""

    def __init__(self, url: str, meter: Meter):
        self.inner, self.meter = HttpTransport(url), meter

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        server_before, database_before = self.meter.read()
        response = self.inner.request(method, path, body, headers)
        # The server's thread writes its access log line after the answer has left: give it
        # the moment it needs to be counted with this request, not the next.
        time.sleep(0.002)
        server_after, database_after = self.meter.read()
        self.meter.by_endpoint[endpoint(method, path)].append((server_after - server_before,
                                                              database_after - database_before))
        return response


def run_once(root: Path, args, workdir: Path) -> dict:
    fresh_database(args.database_url)
    server = Server(args.database_url, workdir / "attachments", workers=1, threads=4, log_path=workdir / "server.log",
                    root=root)
    # The code served is the checkout's own, and does only what production does.
    for name in ("PYTHONPATH", "BAZRES_CHECK_STORED_RECORDS"):
        server.env.pop(name, None)
    server.start()
    try:
        meter = Meter(server, args.database_url)
        peak = 0
        cycles = []
        for index in range(args.phones + 1):  # the first phone warms the worker up and is not counted
            plan = PhonePlan(index, INSPECTORS[index % len(INSPECTORS)], args.reports, args.photo_kb * 1024,
                             (0.0, 0.0))
            phone = Phone(plan, server.url, workdir / "phones", Recorder())
            if index:
                meter.find_backends()
                phone.transport = MeteredTransport(server.url, meter)
            before = meter.read()
            own_before, phone_before = meter.own_s, time.thread_time()
            outcome = phone.cycle()
            phone_s = time.thread_time() - phone_before - (meter.own_s - own_before)
            after = meter.read()
            if outcome.error:
                raise SystemExit(f"phone {index}: {outcome.error}")
            if index:
                cycles.append(tuple(b - a for a, b in zip(before, after)) + (phone_s * 1e9,))
                peak = max(peak, server.rss()[1])
        endpoints = {name: {"requests": len(values) / args.phones,
                            "server_ms": statistics.fmean(v[0] for v in values) / 1e6,
                            "database_ms": statistics.fmean(v[1] for v in values) / 1e6}
                     for name, values in sorted(meter.by_endpoint.items())}
        return {"server_ms": statistics.fmean(c[0] for c in cycles) / 1e6,
                "database_ms": statistics.fmean(c[1] for c in cycles) / 1e6,
                "phone_ms": statistics.fmean(c[2] for c in cycles) / 1e6,
                "endpoints": endpoints, "worker_peak_mb": peak / 2**20}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=40)
    parser.add_argument("--reports", type=int, default=5)
    parser.add_argument("--photo-kb", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--compare", metavar="REF", help="also measure the code at this git ref, alternated")
    parser.add_argument("--own-venv", action="store_true",
                        help="serve --compare's code from a venv of its own `make install` (default: this one's)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    args = parser.parse_args()
    if args.own_venv and not args.compare:
        parser.error("--own-venv goes with --compare REF")

    scratch = Path(tempfile.mkdtemp(prefix="bazres-cycle-"))
    try:
        with compared(args.compare, scratch, args.own_venv) as variants:
            results: dict[str, list[dict]] = defaultdict(list)
            for repeat, name, root, workdir in alternated(variants, args.repeat, scratch):
                load = os.getloadavg()[0]
                result = run_once(root, args, workdir)
                results[name].append(result)
                print(f"repeat {repeat + 1}, {name}: server {result['server_ms']:.1f} ms, database "
                      f"{result['database_ms']:.1f} ms, the phone's client {result['phone_ms']:.1f} ms a cycle, "
                      f"worker peak {result['worker_peak_mb']:.0f} MB (load {load:.1f})", flush=True)
            show(results, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def show(results: dict[str, list[dict]], args) -> None:
    def median(name: str, *keys: str) -> float:
        values = []
        for result in results[name]:
            value = result
            for key in keys:
                value = value.get(key, {}) if isinstance(value, dict) else {}
            values.append(value if isinstance(value, float) else 0.0)
        return statistics.median(values)

    names = list(results)
    print(f"\n{args.phones} phones one at a time, {args.reports} reports with a {args.photo_kb} KB photo each; "
          f"CPU ms per request (server / database), medians of {args.repeat}")
    header = "| endpoint | requests a phone | " + " | ".join(names) + (" | now / " + names[0] if len(names) > 1 else "") + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    endpoints = sorted({e for rs in results.values() for r in rs for e in r["endpoints"]})
    for name in endpoints:
        cells = [f"{median(n, 'endpoints', name, 'server_ms'):.2f} / {median(n, 'endpoints', name, 'database_ms'):.2f}"
                 for n in names]
        requests = median(names[-1], "endpoints", name, "requests")
        ratio = ""
        if len(names) > 1:
            before = median(names[0], "endpoints", name, "server_ms")
            ratio = f" | {median('now', 'endpoints', name, 'server_ms') / before:.2f}×" if before else " | "
        print(f"| `{name}` | {requests:g} | " + " | ".join(cells) + ratio + " |")
    cells = [f"**{median(n, 'server_ms'):.1f} / {median(n, 'database_ms'):.1f}**" for n in names]
    ratio = f" | **{median('now', 'server_ms') / median(names[0], 'server_ms'):.2f}×**" if len(names) > 1 else ""
    print("| a whole cycle | | " + " | ".join(cells) + ratio + " |")
    print("the phone's own CPU a cycle (the reference client, its store included): " + ", ".join(
        f"{n} {median(n, 'phone_ms'):.1f} ms" for n in names))
    print("worker peak resident memory: " + ", ".join(
        f"{n} {statistics.median(r['worker_peak_mb'] for r in results[n]):.0f} MB" for n in names))


if __name__ == "__main__":
    main()
