"""Load: N phones through a whole sync cycle at once, against Bazres served like `make serve`.

    .venv/bin/python bench/load.py --phones 200
    .venv/bin/python bench/load.py --sweep 100,200,300,400,500
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bazres --phones 50

Each phone is the reference client (sync/client.py) on a SQLite store of its own: it logs in
(inspector-1a … inspector-22b, phones past 44 share users but not devices), pulls, adds
--reports reports with one photo each (a few KB no other phone has), pushes (the photos go
up after, resumably), and pulls again, thinking a random --think seconds between steps.
Phones run as threads, in a few processes (the client is synchronous). Every request is
timed by endpoint; the server's resident memory is sampled. Afterwards the database is
checked (bench/invariants.py): every report and photo there exactly once, whole.

Without --url the script starts its own server: scripts/serve.sh on a fresh database
(--database-url, its name must contain 'bench' or 'test'), a free port and a temporary
attachments directory, stopped with SIGTERM at the end. The goal: every phone through the
cycle within --goal-s seconds, every endpoint's p95 within --goal-p95-ms, no errors, nothing
lost or doubled. A request the server shed past capacity (503 `overloaded`, app/shedding.py)
is no error (the phone sends it again after Retry-After) and no time: it is counted apart.
"""

import argparse
import json
import math
import multiprocessing
import os
import resource
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import invariants  # noqa: E402
from bench.harness import INSPECTORS, Phone, PhonePlan, Recorder, RssSampler, Server, fresh_database  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bazres_load_bench"
PHONES_PER_PROCESS = 125


def log_in_batch(plans: list[PhonePlan], url: str, workdir: str) -> None:
    """In a worker process, before the clock starts (--warm): each phone logs in, a few at a time."""
    pending = list(plans)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not pending:
                    return
                plan = pending.pop()
            phone = Phone(plan, url, Path(workdir), Recorder())
            try:
                phone.open()
                phone.login()
            finally:
                phone.transport.close()  # as a Phone's cycle closes its own: none left for the server to time out

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_batch(plans: list[PhonePlan], url: str, workdir: str, start_at: float, login: bool) -> dict:
    """In a worker process: one thread per phone, all starting at `start_at`."""
    recorder = Recorder()
    outcomes = [None] * len(plans)

    def play(slot: int, plan: PhonePlan) -> None:
        phone = Phone(plan, url, Path(workdir), recorder)
        time.sleep(max(0.0, start_at - time.time()))
        outcomes[slot] = phone.cycle(login=login)

    threads = [threading.Thread(target=play, args=(i, plan)) for i, plan in enumerate(plans)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"outcomes": [asdict(o) for o in outcomes], "samples": [asdict(s) for s in recorder.samples],
            "acknowledged": recorder.acknowledged, "photos_stored": sorted(recorder.photos_stored),
            "answers": dict(recorder.answers),
            "peak_rss": (usage := resource.getrusage(resource.RUSAGE_SELF)).ru_maxrss * 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime}


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[rank]


def is_error(endpoint: str, status: int | None) -> bool:
    """A failed request: lost on the way, a 5xx or 429, or a 4xx the protocol does not expect
    (409 on a PATCH is the protocol telling a resuming phone where to go on from)."""
    if status is None or status >= 500 or status == 429:
        return True
    return status >= 400 and not (status == 409 and endpoint.startswith("PATCH"))


def summarise(samples: list[dict], wall_s: float) -> dict:
    """Per endpoint: requests, errors, and the times of the requests served. A request shed
    past capacity (503 `overloaded`, which the phone sends again after Retry-After) is
    counted apart, neither an error nor a time: its few milliseconds would flatter p95."""
    by_endpoint = defaultdict(list)
    for s in samples:
        by_endpoint[s["endpoint"]].append(s)
    table = {}
    for name, group in sorted(by_endpoint.items()):
        served = [s for s in group if not s.get("shed")]
        times = sorted(s["seconds"] for s in served) or [float("nan")]
        table[name] = {"requests": len(group), "per_s": len(group) / wall_s, "shed": len(group) - len(served),
                       "errors": sum(is_error(name, s["status"]) for s in served),
                       "p50_ms": percentile(times, 50) * 1000, "p95_ms": percentile(times, 95) * 1000,
                       "p99_ms": percentile(times, 99) * 1000, "max_ms": times[-1] * 1000}
    return table


def timeline(samples: list[dict], start_at: float, wall_s: float, machine: list[tuple], step_s: float = 5.0) -> list:
    """Where the wall went, `step_s` at a time from the start: requests answered (served and
    shed) and, from the sampler, how busy the machine's cores and the server's processes were
    (shares of all cores)."""
    steps = max(1, math.ceil(wall_s / step_s))
    rows = [{"from_s": i * step_s, "served": 0, "shed": 0, "machine_busy": None, "server_busy": None,
             "retry_after_s": []} for i in range(steps)]
    for s in samples:
        i = min(steps - 1, max(0, int((s["started"] + s["seconds"] - start_at) // step_s)))
        rows[i]["shed" if s.get("shed") else "served"] += 1
        if s.get("retry_after") is not None:
            rows[i]["retry_after_s"].append(s["retry_after"])
    cores = os.cpu_count() or 1
    for row in rows:
        waits = sorted(row.pop("retry_after_s"))  # asked of the phones shed in the step: median, longest
        row["retry_after_s"] = (percentile(waits, 50), waits[-1]) if waits else None
        begin, end = start_at + row["from_s"], start_at + row["from_s"] + step_s
        inside = [m for m in machine if begin <= m[0] <= end]
        if len(inside) >= 2:
            (t0, busy0, total0, server0), (t1, busy1, total1, server1) = inside[0], inside[-1]
            if total1 > total0 and t1 > t0:
                row["machine_busy"] = (busy1 - busy0) / (total1 - total0)
                row["server_busy"] = (server1 - server0) / ((t1 - t0) * cores)
    return rows


def run(phones: int, args, label: str = "") -> dict:
    """One run of `phones` phones; returns the figures and the database check."""
    workdir = Path(tempfile.mkdtemp(prefix="bazres-load-"))
    server = None
    if args.url:
        url, database_url, attachments = args.url, args.database_url, args.attachments_dir
    else:
        database_url, attachments = args.database_url, workdir / "attachments"
        fresh_database(database_url)
        server = Server(database_url, attachments, workers=args.workers, threads=args.threads,
                        log_path=workdir / "server.log")
        started = server.start()
        print(f"{label}server up in {started:.1f} s at {server.url} (log {server.log_path})", flush=True)
        url = server.url
    try:
        return _measure(phones, args, label, workdir, server, url, database_url, attachments)
    finally:
        if server:  # also when interrupted: the server is in a session of its own
            server.stop()


def _measure(phones: int, args, label: str, workdir: Path, server: Server | None, url: str, database_url: str,
             attachments: Path | None) -> dict:
    sampler = RssSampler(server) if server else None
    think = tuple(float(x) for x in args.think.split("-"))
    plans = [PhonePlan(i, INSPECTORS[i % len(INSPECTORS)], args.reports, args.photo_kb * 1024, think)
             for i in range(phones)]
    processes = args.processes or max(1, math.ceil(phones / PHONES_PER_PROCESS))
    batches = [plans[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        warm_s = None
        if args.warm:
            began = time.monotonic()
            pool.starmap(log_in_batch, [(b, url, str(workdir)) for b in batches])
            warm_s = time.monotonic() - began
            print(f"{label}{phones} phones logged in beforehand in {warm_s:.1f} s", flush=True)
        start_at = time.time() + 1.5 + 0.01 * phones  # time for every process to get its threads ready
        load_at_start = os.getloadavg()[0]  # other work's, or the last run's: beside every figure
        if sampler:
            sampler.start()
        parts = pool.starmap(run_batch, [(b, url, str(workdir), start_at, not args.warm) for b in batches])
    if sampler:
        sampler.stop()
    outcomes = [o for p in parts for o in p["outcomes"]]
    samples = [s for p in parts for s in p["samples"]]
    acknowledged = {k: v for p in parts for k, v in p["acknowledged"].items()}
    wall_s = max((s["started"] + s["seconds"] for s in samples), default=start_at) - start_at
    endpoints = summarise(samples, wall_s)
    failed = [o for o in outcomes if o["error"] or o["status"].get("outbox") or o["status"].get("photos_to_upload")
              or o["status"].get("rejected") or o["pending_after_pull"]]
    findings = invariants.check(
        database_url, attachments, report_ids=[r for o in outcomes for r in o["report_ids"]],
        device_ids=[o["device_id"] for o in outcomes if o["device_id"]],
        photos={sha: size for o in outcomes for sha, size in o["photos"].items()}, acknowledged=acknowledged,
        photos_acknowledged={sha for p in parts for sha in p["photos_stored"]})
    stopped = None
    if server:
        began = time.monotonic()
        code = server.stop()
        stopped = {"exit_code": code, "seconds": round(time.monotonic() - began, 1)}
    errors = sum(e["errors"] for e in endpoints.values())
    worst_p95_ms = max(e["p95_ms"] for e in endpoints.values())
    result = {
        "phones": phones, "processes": processes, "load_at_start": load_at_start, "warm": args.warm, "warm_login_s": warm_s, "think_s": think, "reports_per_phone": args.reports,
        "wall_s": wall_s, "requests": len(samples), "requests_per_s": len(samples) / wall_s,
        "reports_per_s": findings.reports_found / wall_s, "request_errors": errors,
        "requests_shed": sum(e["shed"] for e in endpoints.values()), "worst_p95_ms": worst_p95_ms,
        "failed_phones": len(failed), "failures": sorted({o["error"] or "incomplete" for o in failed})[:5],
        "phone_cycle_s": {"p50": percentile(sorted(o["seconds"] for o in outcomes), 50),
                          "max": max(o["seconds"] for o in outcomes)},
        "endpoints": endpoints,
        "push_answers": dict(sum((Counter(p["answers"]) for p in parts), Counter())),
        "loadgen_peak_rss_mb": sum(p["peak_rss"] for p in parts) / 2**20,
        "server_peak_rss_mb": sampler.peak_total / 2**20 if sampler else None,
        "server_peak_process_rss_mb": sampler.peak_process / 2**20 if sampler else None,
        "server_cpu_s": sampler.cpu_end - sampler.cpu_start if sampler else None,
        "loadgen_cpu_s": sum(p["cpu_s"] for p in parts),
        "machine_busy": sampler.machine_busy if sampler else None,
        "check": {"ok": findings.ok, "problems": findings.problems, "reports": f"{findings.reports_found}/"
                  f"{findings.reports_expected}", "photos": f"{findings.photos_stored}/{findings.photos_expected}",
                  "ops_acknowledged": findings.ops_acknowledged, "leftovers": findings.leftovers,
                  "undelivered": findings.undelivered},
        "server_stop": stopped,
        "timeline": timeline(samples, start_at, wall_s, sampler.timeline if sampler else []),
    }
    result["goal_held"] = (findings.ok and errors == 0 and not failed and wall_s <= args.goal_s
                           and worst_p95_ms <= args.goal_p95_ms)
    return result


def show(result: dict) -> None:
    r = result
    print(f"\n{r['phones']} phones{' (logged in beforehand)' if r['warm'] else ''} ({r['processes']} processes), think {r['think_s'][0]:g}–{r['think_s'][1]:g} s, "
          f"load average {r['load_at_start']:.1f} at the start: "
          f"wall {r['wall_s']:.1f} s, {r['requests']} requests ({r['requests_per_s']:.0f}/s), "
          f"{r['reports_per_s']:.0f} reports/s; request errors {r['request_errors']}, shed (503 overloaded, sent "
          f"again) {r['requests_shed']}, failed phones "
          f"{r['failed_phones']}; a phone's cycle p50 {r['phone_cycle_s']['p50']:.1f} s, max "
          f"{r['phone_cycle_s']['max']:.1f} s")
    print(f"{'endpoint':34} {'requests':>8} {'per s':>6} {'errors':>6} {'shed':>6} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8}   (times: requests served)")
    for name, e in r["endpoints"].items():
        print(f"{name:34} {e['requests']:8} {e['per_s']:6.1f} {e['errors']:6} {e['shed']:6} {e['p50_ms']:8.0f} "
              f"{e['p95_ms']:8.0f} {e['p99_ms']:8.0f} {e['max_ms']:8.0f}")
    server = (f"; server peak RSS {r['server_peak_rss_mb']:.0f} MB (largest process "
              f"{r['server_peak_process_rss_mb']:.0f} MB)" if r["server_peak_rss_mb"] else "")
    print(f"load generator peak RSS {r['loadgen_peak_rss_mb']:.0f} MB{server}")
    if r["server_cpu_s"] is not None:
        print(f"CPU: server (gunicorn, not PostgreSQL) {r['server_cpu_s']:.1f} s, "
              f"{r['server_cpu_s'] / r['phones'] * 1000:.0f} ms a phone; load generator {r['loadgen_cpu_s']:.1f} s; "
              f"the machine's cores {r['machine_busy']:.0%} busy (everyone's work)")
    print("timeline (s from the start: requests answered, served / shed; the machine's cores busy, the server's share;"
          " the Retry-After of the shed, median-longest):")
    print("  " + "  ".join(f"{row['from_s']:.0f}: {row['served']}/{row['shed']}"
                           + (f" {row['machine_busy']:.0%} {row['server_busy']:.0%}" if row["machine_busy"] is not None else "")
                           + (" {:.0f}-{:.0f}s".format(*row["retry_after_s"]) if row["retry_after_s"] else "")
                           for row in r["timeline"]))
    c = r["check"]
    print(f"database check: {'OK' if c['ok'] else 'FAILED'}: reports {c['reports']}, photos {c['photos']}, "
          f"{c['ops_acknowledged']} ops acknowledged (push answers {r['push_answers']}); leftovers {c['leftovers']}"
          + (f"; never delivered (the phone gave up first) {c['undelivered']}" if c["undelivered"] else ""))
    for problem in c["problems"] + r["failures"]:
        print(f"  - {problem}")
    if r["server_stop"]:
        print(f"server stopped by SIGTERM in {r['server_stop']['seconds']} s (exit {r['server_stop']['exit_code']})")
    print(f"goal ({'held' if r['goal_held'] else 'NOT held'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--sweep", help="comma-separated phone counts, each a run of its own on a fresh database")
    parser.add_argument("--think", default="0-2", help="seconds between steps, random in MIN-MAX (default 0-2)")
    parser.add_argument("--reports", type=int, default=5, help="reports per phone, one photo each")
    parser.add_argument("--photo-kb", type=int, default=4)
    parser.add_argument("--processes", type=int, help=f"load-generator processes (default: one per "
                                                       f"{PHONES_PER_PROCESS} phones)")
    parser.add_argument("--warm", action="store_true",
                        help="phones log in before the clock starts (a phone keeps its token for a week)")
    parser.add_argument("--goal-s", type=float, default=60.0)
    parser.add_argument("--goal-p95-ms", type=float, default=500.0,
                        help="the goal's p95 of every endpoint's served requests (default %(default)s)")
    parser.add_argument("--url", help="a running server instead of one of our own")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE,
                        help="the server's database (emptied first unless --url is given)")
    parser.add_argument("--attachments-dir", type=Path, help="with --url: the server's ATTACHMENTS_DIR, to check files")
    parser.add_argument("--workers", type=int, help="gunicorn workers (BAZRES_WORKERS; default: make serve's)")
    parser.add_argument("--threads", type=int, help="threads per worker (BAZRES_THREADS)")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops our server
    counts = [int(n) for n in args.sweep.split(",")] if args.sweep else [args.phones]
    results = []
    for n in counts:
        result = run(n, args, label=f"[{n} phones] ")
        show(result)
        results.append(result)
    if len(results) > 1:
        print("\nsweep:")
        for r in results:
            print(f"  {r['phones']:4} phones: wall {r['wall_s']:5.1f} s, errors {r['request_errors']}, failed "
                  f"{r['failed_phones']}, check {'OK' if r['check']['ok'] else 'FAILED'}: goal "
                  f"{'held' if r['goal_held'] else 'NOT held'}")
        held = [r["phones"] for r in results if r["goal_held"]]
        print(f"largest N holding the goal: {max(held) if held else 'none'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    sys.exit(0 if all(r["goal_held"] for r in results) or len(results) > 1 else 1)


if __name__ == "__main__":
    main()
