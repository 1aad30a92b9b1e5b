"""CPU of one password check at each of OWASP's Argon2id settings of equal defence (issue 18),
and of app/passwords.py's setting in the build installed against PyPI's wheel.

    .venv/bin/python bench/passwords_bench.py
    .venv/bin/python bench/passwords_bench.py --rounds 8 --checks 15 --processes 2
    .venv/bin/python bench/passwords_bench.py --builds

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

With --builds: 19 MiB × 2 passes in the argon2-cffi-bindings this venv has (`make install`
builds it with AVX2 where the CPU has it: scripts/argon2_build.py) against PyPI's manylinux wheel of the
same version (fetched into a scratch folder), each round a fresh process per build, taking
turns; prints each build's median ms a check (the process's CPU clock around the checks
alone), its ratio to the wheel's, and each process's peak resident memory.
"""

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

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


def check_in_this_process(checks: int) -> dict:
    """--child: one run of checks at the reference setting, with whichever bindings import first."""
    import _argon2_cffi_bindings

    hasher = PasswordHasher(time_cost=REFERENCE[1], memory_cost=REFERENCE[0] * 1024, parallelism=1)
    stored = hasher.hash("a password of a phone")
    hasher.verify(stored, "a password of a phone")  # warm
    began = time.process_time()
    for _ in range(checks):
        hasher.verify(stored, "a password of a phone")
    return {"ms": (time.process_time() - began) / checks * 1000,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "from": os.path.dirname(_argon2_cffi_bindings.__file__)}


def compare_builds(rounds: int, checks: int) -> None:
    version = metadata.version("argon2-cffi-bindings")
    with tempfile.TemporaryDirectory(prefix="argon2-wheel-") as scratch:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:",
                        "--target", scratch, f"argon2-cffi-bindings=={version}"], check=True)
        builds = {"installed": None, "PyPI's wheel": scratch}
        runs: dict = {name: [] for name in builds}
        for round_ in range(rounds):
            order = list(builds) if round_ % 2 == 0 else list(reversed(builds))
            for name in order:
                environment = dict(os.environ)
                if builds[name]:
                    environment["PYTHONPATH"] = builds[name]
                out = subprocess.run([sys.executable, __file__, "--child", str(checks)], env=environment,
                                     check=True, capture_output=True, text=True).stdout
                run = json.loads(out)
                assert (run["from"].startswith(scratch)) == bool(builds[name]), run  # the build meant
                runs[name].append(run)
    state = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "scripts" / "argon2_build.py"),
                            "--check"], capture_output=True, text=True).stdout.strip()
    print(state)
    wheel = statistics.median(run["ms"] for run in runs["PyPI's wheel"])
    print(f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())} at the end\n")
    print(f"Argon2id 19 MiB × 2 passes, argon2-cffi-bindings {version}; medians of {rounds} processes a build, "
          f"{checks} checks each\n")
    print("| build | ms a check | ratio | peak RSS of the process |")
    print("|---|---|---|---|")
    for name, results in runs.items():
        ms = statistics.median(run["ms"] for run in results)
        rss = max(run["rss_mb"] for run in results)
        print(f"| {name} | {ms:.2f} | {ms / wheel:.2f}× | {rss:.0f} MB |")


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(check_in_this_process(int(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--checks", type=int, default=15, help="verifications a setting per round")
    parser.add_argument("--processes", type=int, default=0,
                        help="also measure with this many processes checking at once (default: the cores)")
    parser.add_argument("--builds", action="store_true",
                        help="compare the installed argon2-cffi-bindings with PyPI's wheel instead")
    args = parser.parse_args()
    together = args.processes or os.cpu_count() or 2
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    if args.builds:
        compare_builds(args.rounds, args.checks)
        return
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
