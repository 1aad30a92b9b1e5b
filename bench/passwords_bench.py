"""CPU of one password check at each of OWASP's Argon2id settings of equal defence (issue 18).

    .venv/bin/python bench/passwords_bench.py
    .venv/bin/python bench/passwords_bench.py --rounds 8 --checks 15 --processes 2

OWASP's Password Storage Cheat Sheet gives five Argon2id settings, (46 MiB, 1 pass) to
(7 MiB, 5 passes), one lane each, of equal defence, trading CPU for RAM. Which costs the
least CPU depends on the machine's caches, so it is measured here: the settings take turns,
round after round (the machine's drift hits all alike), each a run of --checks verifications
of a right password timed by the thread's CPU clock (`time.thread_time`), as argon2-cffi
runs them under `make serve` (app/passwords.py). With --processes N, N processes do the same
at once, as a login rush keeps every core busy: their caches are then shared. Prints each
setting's median ms a check, its ratio to 19 MiB × 2 passes (the setting before issue 18's
change), each process's peak resident memory, and the load average.
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
    for s in SETTINGS:  # warm: the first check of a setting maps its memory
        hashers[s].verify(hashes[s], "a password of a phone")
    if start is not None:
        start.wait()
    times: dict = {s: [] for s in SETTINGS}
    for _ in range(rounds):
        for s in SETTINGS:
            began = time.thread_time()
            for _ in range(checks):
                hashers[s].verify(hashes[s], "a password of a phone")
            times[s].append((time.thread_time() - began) / checks * 1000)
    return {"ms": {s: statistics.median(v) for s, v in times.items()},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


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
        start = manager.Barrier(together)
        with ctx.Pool(together) as pool:
            runs = pool.map(_child, [(args.rounds, args.checks, start)] * together)
    busy = {s: statistics.mean(run["ms"][s] for run in runs) for s in SETTINGS}
    print(f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())} at the end\n")
    print(f"| Argon2id setting | ms a check, alone | ratio | ms a check, {together} processes at once | ratio |")
    print("|---|---|---|---|---|")
    for s in SETTINGS:
        print(f"| {s[0]} MiB, {s[1]} pass{'es' if s[1] > 1 else ''} | {alone['ms'][s]:.2f} | "
              f"{alone['ms'][s] / alone['ms'][REFERENCE]:.2f}× | {busy[s]:.2f} | {busy[s] / busy[REFERENCE]:.2f}× |")
    print(f"\npeak resident memory: {alone['peak_rss_mb']:.0f} MB alone (all five settings), "
          f"{max(run['peak_rss_mb'] for run in runs):.0f} MB the largest of the {together} at once; "
          "medians of --rounds, ratios to 19 MiB × 2 passes")


if __name__ == "__main__":
    main()
