"""Instructions a phone's 08:00 cycle costs the served worker, counted by valgrind (issue 18).

    .venv/bin/python bench/cycle_instructions.py --phones 5
    .venv/bin/python bench/cycle_instructions.py --phones 5 --compare cd610bf --own-venv

`bench/cycle_cpu.py` times the same cycle (login, pull, N reports with a photo each, push,
photos, pull) by the kernel's clock, which on these 2-core machines drifts 1.5x within the
hour. This counts the instructions instead: the same code on the same data gives the same
count whatever else the machine does. The server is `make serve`'s (scripts/serve.sh
migrates and seeds a fresh database; then its gunicorn, 1 worker x 4 threads, with the
settings serve.sh exports, runs under `valgrind --tool=callgrind`), the phones the reference client (bench/harness.py's Phone),
one after the other. Its gunicorn settings are the served code's own gunicorn.conf.py, with
two hooks added: a request to `/__callgrind/on` (or `/off`) switches counting on (off), and
once counting is on, each request's count is written out when the request is over
(gunicorn's post_request: the response sent, the access log written), named by its
endpoint. Between two such points lies all the worker did: reading and parsing the next
request, the app, the answer, the log, and its loop's idle turns. A count that two requests
shared (one began before the other ended) stops the run. The warm-up phones (--warm) are
not counted.

PostgreSQL's work is another process's and is not counted. Instructions are not time:
Argon2id's check is bound by memory as much as by instructions, and valgrind counts a
`rep stosb` (glibc's memset of a large block: the wipe of Argon2's 19 MiB when the check is
done) a byte at a time, some 20 M of a login's 89 M; once in some ten runs a login was
counted at 62 M, the wipe apparently written another way. The other requests' counts repeat
to within 1 % (which office a report names, and when the collector runs, move them a little).
So this is the drift-free figure beside cycle_cpu.py's, not a replacement for it; each
figure printed is the median of the repeats.

With `--compare REF`, the code at REF (a git worktree; with `--own-venv`, served from the
venv its own `make install` makes) is counted too, the two alternating --repeat times, each on
a fresh database. Needs valgrind and its headers (Debian's valgrind package) and gcc: the
switch is a client request (valgrind/callgrind.h), made through a small library built here.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (INSPECTORS, ROOT, Phone, PhonePlan, Recorder, Server, endpoint,  # noqa: E402
                           Wrapping, alternated, compared, fresh_database)
from sync.client import HttpTransport, Response  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bazres_bench_instructions"
PAUSE_S = 0.2  # after each answer (PausingTransport); valgrind runs the rest of a request in far less

SWITCH_C = r"""
#include <valgrind/callgrind.h>
void bazres_count_on(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void bazres_count_off(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void bazres_count_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""

# The served code's own settings, then the two hooks (after any it has of its own).
GUNICORN_CONF = r"""
import ctypes as _ctypes
import os as _os

_served = {"__file__": _os.environ["BAZRES_COUNT_CONF"]}
exec(compile(open(_served["__file__"]).read(), _served["__file__"], "exec"), _served)
globals().update({k: v for k, v in _served.items() if not k.startswith("__")})
_switch = _ctypes.CDLL(_os.environ["BAZRES_COUNT_LIB"])
_counting = [False]
_open = [0]  # requests begun and not ended: more than one at a dump, and two were counted together
_their_pre, _their_post = _served.get("pre_request"), _served.get("post_request")


def pre_request(worker, req):
    _open[0] += 1
    if req.path == "/__callgrind/on":
        _switch.bazres_count_on()
        _counting[0] = True
    elif req.path == "/__callgrind/off":
        _counting[0] = False
        _switch.bazres_count_off()
    if _their_pre:
        _their_pre(worker, req)


def post_request(worker, req, environ, resp):
    if _their_post:
        _their_post(worker, req, environ, resp)
    if _counting[0]:
        name = "control" if req.path.startswith("/__callgrind/") else f"{req.method} {req.path}"
        _switch.bazres_count_dump((("overlap " if _open[0] > 1 else "") + name).encode())
    _open[0] -= 1
"""


def build_switch(scratch: Path) -> Path:
    source, library = scratch / "switch.c", scratch / "libswitch.so"
    source.write_text(SWITCH_C)
    built = subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(f"building the switch failed (are gcc and valgrind's headers installed?):\n{built.stderr}")
    return library


def run_once(root: Path, args, workdir: Path, library: Path) -> dict:
    """{endpoint: [instructions of each counted request]} and the phones' cycles' totals."""
    fresh_database(args.database_url)
    server = Server(args.database_url, workdir / "attachments", workers=1, threads=4, log_path=workdir / "server.log",
                    root=root)
    for name in ("PYTHONPATH", "BAZRES_CHECK_STORED_RECORDS"):
        server.env.pop(name, None)
    server.start()  # migrates and seeds as `make serve` does; then the same gunicorn, under valgrind
    server.stop()
    conf = workdir / "gunicorn_counted.py"
    conf.write_text(GUNICORN_CONF)
    dumps = workdir / "callgrind"
    dumps.mkdir()
    if "BAZRES_RATELIMIT_STORAGE_URI" in (root / "scripts/serve.sh").read_text():
        # as serve.sh sets it before it starts gunicorn (the login limits counted in the database)
        server.env.setdefault("BAZRES_RATELIMIT_STORAGE_URI", "database://")
    server.env |= {"BAZRES_COUNT_CONF": str(root / "gunicorn.conf.py"), "BAZRES_COUNT_LIB": str(library),
                   # valgrind is some 50x slower: no request is shed for the wait
                   "BAZRES_SHED_AFTER_MS": "3600000"}
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={dumps}/out.%p",
               str(root / ".venv/bin/python"), str(root / ".venv/bin/gunicorn"), "-c", str(conf), "--timeout", "3600",
               "app:create_app()"]
    with server.log_path.open("ab") as log:
        server.process = subprocess.Popen(command, cwd=root, env=server.env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
    try:
        server.wait_healthy(900)
        for index in range(args.warm + args.phones):
            if index == args.warm:
                control(server.url, "on")
            plan = PhonePlan(index, INSPECTORS[index % len(INSPECTORS)], args.reports, args.photo_kb * 1024, (0.0, 0.0))
            phone = Phone(plan, server.url, workdir / "phones", Recorder())
            phone.transport = PausingTransport(server.url)
            outcome = phone.cycle()
            if outcome.error:
                raise SystemExit(f"phone {index}: {outcome.error}")
        time.sleep(PAUSE_S)
        control(server.url, "off")
    finally:
        server.stop(300)
    return read_dumps(dumps, args.phones)


class PausingTransport(Wrapping):
    """The phone's HttpTransport, pausing after each answer: the worker's thread writes its
    access log and ends the request after the answer has left, and the next request (on the
    connection kept open, maybe on another thread) must not start meanwhile, or each would be
    counted partly in the other's count."""

    def __init__(self, url: str):
        self.inner = HttpTransport(url, timeout=600)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        response = self.inner.request(method, path, body, headers)
        time.sleep(PAUSE_S)
        return response


def control(url: str, what: str) -> None:
    try:
        urllib.request.urlopen(f"{url}/__callgrind/{what}", timeout=600).read()
    except urllib.error.HTTPError:
        pass  # the app answers 404: the hook has done its part
    time.sleep(PAUSE_S)


def read_dumps(folder: Path, phones: int) -> dict:
    counts: dict[str, list[int]] = defaultdict(list)
    for path in sorted(folder.glob("out.*.*"), key=lambda p: int(p.name.rsplit(".", 1)[1])):
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if trigger and trigger.group(1).startswith("overlap "):
            raise SystemExit(f"two requests were counted together ({trigger.group(1)}): raise PAUSE_S")
        if trigger and total and trigger.group(1) != "control":
            method, _, path_ = trigger.group(1).partition(" ")
            counts[endpoint(method, path_)].append(int(total.group(1)))
    if not counts:
        raise SystemExit(f"no counts were written in {folder}")
    total = sum(sum(values) for values in counts.values())
    return {"cycle": total / phones, "endpoints": {name: {"requests": len(values) / phones, "mean": statistics.fmean(values)}
                                                    for name, values in counts.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=5, help="phones counted (after --warm)")
    parser.add_argument("--warm", type=int, default=2, help="phones first, not counted")
    parser.add_argument("--reports", type=int, default=5)
    parser.add_argument("--photo-kb", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--compare", metavar="REF", help="also count the code at this git ref, alternated")
    parser.add_argument("--own-venv", action="store_true",
                        help="serve --compare's code from a venv of its own `make install` (default: this one's)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="emptied first: its name must contain 'bench'")
    args = parser.parse_args()
    if args.own_venv and not args.compare:
        parser.error("--own-venv goes with --compare REF")
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")

    scratch = Path(tempfile.mkdtemp(prefix="bazres-cycle-instructions-"))
    try:
        with compared(args.compare, scratch, args.own_venv) as variants:
            library = build_switch(scratch)
            results: dict[str, list[dict]] = defaultdict(list)
            for repeat, name, root, workdir in alternated(variants, args.repeat, scratch):
                began = time.monotonic()
                result = run_once(root, args, workdir, library)
                results[name].append(result)
                print(f"repeat {repeat + 1}, {name}: {result['cycle'] / 1e6:,.1f} M instructions a cycle "
                      f"({time.monotonic() - began:.0f} s)", flush=True)
            show(results, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def show(results: dict[str, list[dict]], args) -> None:
    names = list(results)

    def middle(name: str, endpoint_: str | None = None) -> float:
        if endpoint_ is None:
            return statistics.median(r["cycle"] for r in results[name])
        return statistics.median(r["endpoints"].get(endpoint_, {}).get("mean", 0.0) for r in results[name])

    print(f"\n{args.phones} phones counted, one at a time, {args.reports} reports with a {args.photo_kb} KB photo "
          f"each; the served worker's M instructions, a request (the median of {args.repeat} repeats)")
    header = "| endpoint | requests a phone | " + " | ".join(names) + (f" | now / {names[0]}" if len(names) > 1 else "") + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name in sorted({e for rs in results.values() for r in rs for e in r["endpoints"]}):
        requests = results[names[-1]][0]["endpoints"].get(name, {}).get("requests", 0)
        cells = [f"{middle(n, name) / 1e6:,.2f}" for n in names]
        ratio = ""
        if len(names) > 1:
            ratio = f" | {middle('now', name) / middle(names[0], name):.3f}×" if middle(names[0], name) else " | "
        print(f"| `{name}` | {requests:g} | " + " | ".join(cells) + ratio + " |")
    cells = [f"**{middle(n) / 1e6:,.1f}**" for n in names]
    ratio = f" | **{middle('now') / middle(names[0]):.3f}×**" if len(names) > 1 else ""
    print("| a whole cycle | | " + " | ".join(cells) + ratio + " |")


if __name__ == "__main__":
    main()
