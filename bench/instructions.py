"""Instructions a push of 500 reports costs the server, counted by valgrind (issue 18).

    .venv/bin/python bench/instructions.py
    .venv/bin/python bench/instructions.py --compare 6a83c68 --repeat 2

Time is what counts in the end, but a 2-core machine that drifts 1.5× within minutes cannot
time a change of a few per cent. callgrind counts the instructions the process executes
instead: the same code on the same data gives the same count to within 0.2 %, whatever else
the machine is doing. The push runs in the process (Flask's WSGI test client, as
`bench/sync_bench.py` pushes, on PostGIS), its collector set as `make serve`'s workers set it
(gunicorn.conf.py), a few pushes first to warm the caches; then instrumentation is switched
on (`callgrind_control -i on`) for --pushes pushes of --reports new reports each, and off.
PostgreSQL's own work is another process's and is not counted; the client's building of
each request is, and is small beside the push.

With `--compare REF`, the code at REF (a git worktree, this venv) is counted too, the two
alternating --repeat times: what a push judges depends on the hour in Tehran (the mandated
hours), so both are counted in the same minutes. Needs valgrind (Debian's package); each
count takes about a minute.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bazres_bench_instructions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=5)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--compare", metavar="REF", help="also count the code at this git ref, alternated")
    parser.add_argument("--postgis", default=DEFAULT_DATABASE, help="emptied first: its name must contain 'bench'")
    parser.add_argument("--child", metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args)
        return
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    sys.path.insert(0, str(ROOT))
    from bench.harness import remove_worktree, worktree

    scratch = Path(tempfile.mkdtemp(prefix="bazres-instructions-"))
    variants = {"now": ROOT}
    try:
        if args.compare:
            variants = {args.compare: worktree(args.compare, scratch / "compare", own_venv=False), "now": ROOT}
        counts: dict[str, list[int]] = {name: [] for name in variants}
        for repeat in range(args.repeat):
            order = list(variants.items())
            if repeat % 2:
                order.reverse()
            for name, root in order:
                count = measure(root, args, scratch)
                counts[name].append(count)
                print(f"repeat {repeat + 1}, {name}: {count / args.pushes / 1e6:,.1f} M instructions a push of "
                      f"{args.reports}", flush=True)
        print(f"\npushes of {args.reports} new reports on PostGIS, in the process; M instructions a push "
              f"({args.pushes} pushes counted a repeat), each repeat:")
        for name, values in counts.items():
            print(f"  {name}: " + ", ".join(f"{v / args.pushes / 1e6:,.1f}" for v in values))
        if args.compare:
            ratio = min(counts["now"]) / min(counts[args.compare])
            print(f"now / {args.compare}: {ratio:.3f}× (the least count of each)")
    finally:
        if args.compare:
            remove_worktree(scratch / "compare")
        shutil.rmtree(scratch, ignore_errors=True)


def measure(root: Path, args, scratch: Path) -> int:
    """The instructions of `args.pushes` pushes by the code at `root`, from valgrind's summary."""
    out = scratch / "callgrind.out"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
               sys.executable, str(HERE), "--child", str(root), "--pushes", str(args.pushes),
               "--reports", str(args.reports), "--postgis", args.postgis]
    done = subprocess.run(command, capture_output=True, text=True, cwd=root)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        sys.exit(f"the count at {root} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    out.unlink(missing_ok=True)
    return int(found.group(1))


def child(root: Path, args) -> None:
    """Under valgrind: the app at `root`, warm-up pushes, then the counted ones. The user,
    token and push are made here as bench/sync_bench.py makes its own, not through it: the
    code at an older ref (`--compare`) has its own sync_bench, without helpers for them."""
    sys.path.insert(0, str(root))
    import gc
    import uuid
    from datetime import datetime, timedelta, timezone

    import orjson
    import sqlalchemy as sa

    from bench import sync_bench

    app, _ = sync_bench.seeded_app(args.postgis)
    with app.app_context():
        db = sync_bench.db
        sync_bench.accounts.create_user("bench-inspector", "bench-password", sync_bench.Role.INSPECTOR, [6, 7])
        user_id = db.session.scalar(sa.text("SELECT id FROM users WHERE username = 'bench-inspector'"))
        token = "bench-" + uuid.uuid4().hex
        db.session.add(sync_bench.ApiToken(token_hash=sync_bench.accounts.hash_token(token), user_id=user_id,
                                           expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
        offices = [(str(o.id), {"type": "Point", "coordinates": list(sync_bench.lon_lat(o.location))})
                   for o in db.session.scalars(sa.select(sync_bench.Office).where(sync_bench.Office.district.in_([6, 7])))]
        db.session.commit()
    http = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def body() -> bytes:
        # A report as bench/sync_bench.py pushes one: an open finding, its own instant.
        now = datetime.now(timezone.utc).isoformat()
        ops = [{"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create", "id": str(uuid.uuid4()),
                "base_version": None, "changed_at": now,
                "data": {"office_id": office_id, "observed_at": now, "location": point, "accuracy_m": 12.0,
                         "office_state": "open", "notes": "bench", "checklist": {"sign": True}}}
               for office_id, point in (offices[i % len(offices)] for i in range(args.reports))]
        return orjson.dumps({"protocol": 1, "device_id": str(uuid.uuid4()), "sent_at": now, "ops": ops})

    def push(data: bytes) -> None:
        response = http.post("/api/v1/sync/push", data=data, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"push answered {response.status_code}: {response.get_data(as_text=True)[:500]}")

    for _ in range(3):
        push(body())
    bodies = [body() for _ in range(args.pushes)]
    gc.collect()
    gc.freeze()  # as gunicorn.conf.py's post_worker_init
    gc.set_threshold(20_000, 50, 100)
    switch = ["callgrind_control", "-i"]
    subprocess.run([*switch, "on", str(os.getpid())], check=True, capture_output=True)
    for data in bodies:
        push(data)
    subprocess.run([*switch, "off", str(os.getpid())], check=True, capture_output=True)


if __name__ == "__main__":
    main()
