"""CPU of one password check at each of OWASP's Argon2id settings of equal defence (issue 18).

    .venv/bin/python bench/passwords_bench.py
    .venv/bin/python bench/passwords_bench.py --rounds 8 --checks 15 --processes 2

OWASP's Password Storage Cheat Sheet gives five Argon2id settings, (46 MiB, 1 pass) to
(7 MiB, 5 passes), one lane each, of equal defence, trading CPU for RAM. Which costs the
least CPU depends on the machine's caches, so it is measured here: the settings take turns,
round after round (the machine's drift hits all alike), each a run of --checks verifications
of a right password timed by the thread's CPU clock (`time.thread_time`, user and system
time), the order of the settings rotated from round to round. With --processes N, N
processes do the same at once (the cores busy, their caches shared; not the rush's eight
threads on 2 cores). Prints each setting's median ms a check, its ratio to 19 MiB × 2 passes
(app/passwords.py's), the system time's share (a block past glibc's 32 MiB mmap threshold is
mapped afresh at every check: the 46 MiB setting pays page faults), and the load average.
"""

import argparse
import multiprocessing
import os
import resource
import statistics
import time

from argon2 import PasswordHasher

SETTINGS = [(46, 1), (19, 2), (12, 3), (9, 4), (7, 5)]  # (MiB, passes)
REFERENCE = (19, 2)


def measure(rounds: int, checks: int, start=None) -> dict:
    hashers = {s: PasswordHasher(time_cost=s[1], memory_cost=s[0] * 1024, parallelism=1) for s in SETTINGS}
    hashes = {s: hashers[s].hash("a password of a phone") for s in SETTINGS}
    for s in SETTINGS:  # warm
        hashers[s].verify(hashes[s], "a password of a phone")
    if start is not None:
        start.wait()
    times: dict = {s: [] for s in SETTINGS}
    system: dict = {s: 0.0 for s in SETTINGS}
    for round_ in range(rounds):
        for s in SETTINGS[round_ % len(SETTINGS):] + SETTINGS[:round_ % len(SETTINGS)]:
            began, before = time.thread_time(), resource.getrusage(resource.RUSAGE_THREAD)
            for _ in range(checks):
                hashers[s].verify(hashes[s], "a password of a phone")
            times[s].append((time.thread_time() - began) / checks * 1000)
            system[s] += resource.getrusage(resource.RUSAGE_THREAD).ru_stime - before.ru_stime
    return {"ms": {s: statistics.median(v) for s, v in times.items()},
            "system": {s: system[s] * 1000 / (sum(times[s]) * checks) for s in SETTINGS}}


def _child(args) -> dict:
    rounds, checks, start = args
    return measure(rounds, checks, start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--checks", type=int, default=15, help="verifications a setting per round")
    parser.add_argument("--processes", type=int, default=0,
                        help="also measure with this many processes checking at once (default: the cores)")
    args = parser.parse_args()
    together = args.processes or os.cpu_count() or 2
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    alone = measure(args.rounds, args.checks)
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        start = manager.Barrier(together, timeout=120)
        with ctx.Pool(together) as pool:
            runs = pool.map(_child, [(args.rounds, args.checks, start)] * together)
    busy = {s: statistics.mean(run["ms"][s] for run in runs) for s in SETTINGS}
    print(f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())} at the end\n")
    print(f"| Argon2id setting | ms a check, alone | ratio | system time | ms a check, {together} processes "
          "at once | ratio |")
    print("|---|---|---|---|---|---|")
    for s in SETTINGS:
        print(f"| {s[0]} MiB, {s[1]} pass{'es' if s[1] > 1 else ''} | {alone['ms'][s]:.2f} | "
              f"{alone['ms'][s] / alone['ms'][REFERENCE]:.2f}× | {alone['system'][s]:.0%} | {busy[s]:.2f} | "
              f"{busy[s] / busy[REFERENCE]:.2f}× |")
    print("\nmedians of --rounds, ratios to 19 MiB × 2 passes; a check holds its setting's memory (7–46 MiB) "
          "while it runs")


if __name__ == "__main__":
    main()
