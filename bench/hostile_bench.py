"""Hostile bodies and hostile ops against a real server: oversized and compressed pushes,
anonymous and logged in; then deep JSON, a push that used to grow with its square, a reused
op_id and a photo name with a trailing newline.

    .venv/bin/python bench/hostile_bench.py                    # gunicorn on PostGIS (as `make serve`)
    .venv/bin/python bench/hostile_bench.py --server flask     # flask run on SpatiaLite (as `make run`)
    .venv/bin/python bench/hostile_bench.py --mb 300 --database-url postgresql+psycopg://…/bazres_hostile_bench

The server is started on a fresh database (tests/live.py: the same servers the live tests
use; gunicorn with 2 workers × 4 threads). Each case sends one body to
`POST /api/v1/sync/push`, generated as it is sent (bench/bodies.py), chunked or with a
Content-Length, plain or gzip, without a token or as inspector-6a, and prints the status,
the seconds until the answer (for the bombs, mostly this script compressing zeros), how
much of the body was sent by then, the most any one server process grew at its peak
(VmHWM) while the request ran, and the problem's detail. The limits: 5 MB of body and
5 MB inflated (DESIGN §5.2).

The second table (`--only ops` runs just it) sends what a broken or hostile phone sends
within those limits, and prints the status, the seconds, the answer's size, what the
database grew by, and the server's peak growth.
"""

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bodies import MB, PeakRss, gzipped, json_bytes, send, zeros  # noqa: E402
from tests import live  # noqa: E402

PUSH = "/api/v1/sync/push"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bazres_hostile_bench"
JSON = {"Content-Type": "application/json"}
GZIP = JSON | {"Content-Encoding": "gzip"}


def valid_push(server) -> bytes:
    """A push of one report (the office found open: no case to open), as a phone sends it."""
    office = server.request("GET", "/api/v1/offices?district=6&page_size=1", user="inspector-6a").json()[0]
    now = datetime.now(timezone(timedelta(hours=3, minutes=30))).replace(microsecond=0)
    data = {"office_id": office["id"], "observed_at": (now - timedelta(minutes=1)).isoformat(),
            "location": office["location"], "accuracy_m": 15.0, "office_state": "open"}
    op = {"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create", "id": str(uuid.uuid4()),
          "base_version": None, "changed_at": now.isoformat(), "data": data}
    return json.dumps({"protocol": 1, "device_id": str(uuid.uuid4()), "sent_at": now.isoformat(),
                       "ops": [op]}).encode()


def cases(size: int, bomb: int, push: bytes):
    """(name, headers, pieces() -> iterator, chunked, Content-Length or None)."""
    return [
        ("plain JSON, chunked", JSON, lambda: json_bytes(size), True, None),
        ("plain JSON, Content-Length", JSON, lambda: json_bytes(size), False, size + 26),
        ("gzip stored (level 0), chunked", GZIP, lambda: gzipped(json_bytes(size), 0), True, None),
        (f"gzip bomb ({bomb // MB} MB of zeros), chunked", GZIP, lambda: gzipped(zeros(bomb)), True, None),
        (f"gzip bomb ({bomb // MB} MB of zeros), Content-Length", GZIP, lambda: gzipped(zeros(bomb)), False,
         sum(len(piece) for piece in gzipped(zeros(bomb)))),
        ("a valid push, gzip, chunked", GZIP, lambda: gzipped([push]), True, None),
    ]


def deep(depth: int) -> str:
    return "[" * depth + "null" + "]" * depth


def op_cases(server, push: bytes):
    """(name, method, path, body bytes, user, what to show from the answer) for each hostile op."""
    envelope = json.loads(push)
    (good,) = envelope["ops"]
    report = server.request("POST", PUSH, push, user="inspector-6a", headers=JSON).json()["results"][0]
    notes = [{"op_id": str(uuid.uuid4()), "entity": "reports", "action": "update", "id": report["id"],
              "base_version": 1, "changed_at": good["changed_at"], "data": {"notes": f"{i:03d}" + "ن" * 3996}}
             for i in range(100)]
    deep_op = json.dumps(envelope | {"ops": [good | {"op_id": str(uuid.uuid4()), "id": str(uuid.uuid4())},
                                             good | {"op_id": str(uuid.uuid4()), "id": str(uuid.uuid4()),
                                                     "data": good["data"] | {"checklist": "@"}}]})
    reused = good | {"id": str(uuid.uuid4()), "data": good["data"] | {"notes": "another report"}}
    return [
        ("login, device_id nested 1,000 deep", "POST", "/api/v1/auth/token",
         f'{{"username": "x", "password": "y", "device_id": {deep(1000)}}}'.encode(), None),
        ("push, JSON nested 5,000 deep", "POST", PUSH, f'{{"protocol": 1, "x": {deep(5000)}}}'.encode(),
         "inspector-6a"),
        ("push, a good op and one whose data nests 900 deep", "POST", PUSH,
         deep_op.replace('"checklist": "@"', f'"checklist": {{"a": {deep(900)}}}').encode(), "inspector-6a"),
        ("push, 100 updates of one report from version 1, 4,000-character notes each", "POST", PUSH,
         json.dumps(envelope | {"ops": notes}).encode(), "inspector-6a"),
        ("push, a landed op_id again with another report", "POST", PUSH,
         json.dumps(envelope | {"ops": [reused]}).encode(), "inspector-6a"),
        ("PUT a photo named with a trailing newline", "PUT", "/api/v1/attachments/" + "a" * 64 + "%0A",
         b"\xff\xd8\xff" + b"x" * 100, "inspector-6a"),
    ]


def outcome(answer) -> str:
    """What a hostile op's answer says: the statuses of a push's ops, or the problem's detail."""
    try:
        body = answer.json()
    except ValueError:
        return ""
    if "results" in body:
        statuses = [r["status"] for r in body["results"]]
        longest = max((len(r.get("record", {}).get("notes", "")) for r in body["results"]), default=0)
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        return f"{counts}; longest notes {longest} characters"
    return body.get("detail", "")[:90]


def database_bytes(server) -> int:
    import sqlalchemy as sa

    if server.database_url.startswith("sqlite"):
        path = Path(server.database_url.split("///", 1)[1])
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    engine = sa.create_engine(server.database_url)
    with engine.connect() as connection:
        size = connection.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
    engine.dispose()
    return size


def run_op_cases(server, push: bytes) -> None:
    print("\n| hostile op | status | answer after | answer size | database growth | server peak growth | outcome |")
    print("|---|---|---|---|---|---|---|")
    for name, method, path, body, user in op_cases(server, push):
        headers = {"Content-Type": "image/jpeg" if method == "PUT" else "application/json"}
        before = database_bytes(server)
        with PeakRss(server.pids) as peak:
            began = time.monotonic()
            answer = server.request(method, path, body, user=user, headers=headers, timeout=300)
            seconds = time.monotonic() - began
        grown = database_bytes(server) - before
        print(f"| {name} | {answer.status} | {seconds:.2f} s | {len(answer.body) / MB:.2f} MB | "
              f"{grown / MB:.2f} MB | {peak.growth / MB:.1f} MB | {outcome(answer)} |", flush=True)


def detail(body: bytes) -> str:
    try:
        return json.loads(body).get("detail", "")
    except ValueError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("gunicorn", "flask"), default="gunicorn")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE,
                        help="gunicorn's PostGIS database (emptied first; its name must contain 'bench' or 'test')")
    parser.add_argument("--mb", type=int, default=300, help="size of the large bodies, in MB")
    parser.add_argument("--bomb-mb", type=int, default=1024, help="what the gzip bombs inflate to, in MB")
    parser.add_argument("--only", choices=("bodies", "ops"), help="run one of the two tables")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bazres-hostile-"))
    leg = "postgis" if args.server == "gunicorn" else "spatialite"
    server, stop = live.start(leg, args.database_url, workdir)  # PostGIS: the database named + "_live"
    try:
        token = {"Authorization": f"Bearer {server.token('inspector-6a')}"}
        push = valid_push(server)
        print(f"{args.server} at {server.url}; bodies of {args.mb} MB, bombs of {args.bomb_mb} MB; limit 5 MB\n")
        if args.only != "ops":
            run_body_cases(server, args, token, push)
        if args.only != "bodies":
            run_op_cases(server, push)
    finally:
        stop()
    print(f"\nserver log: {server.log_path}")


def run_body_cases(server, args, token: dict, push: bytes) -> None:
    print("| case | token | status | answer after | body sent by then | server peak growth | detail |")
    print("|---|---|---|---|---|---|---|")
    for name, headers, pieces, chunked, length in cases(args.mb * MB, args.bomb_mb * MB, push):
        for who, auth in (("none", {}), ("inspector", token)):
            with PeakRss(server.pids) as peak:
                answer = send(server.url, "POST", PUSH, pieces(), headers | auth, chunked=chunked, length=length)
            status = answer.status or f"no answer ({answer.error})"
            print(f"| {name} | {who} | {status} | {answer.seconds:.2f} s | {answer.sent / MB:.1f} MB | "
                  f"{peak.growth / MB:.1f} MB | {detail(answer.body)} |", flush=True)


if __name__ == "__main__":
    main()
