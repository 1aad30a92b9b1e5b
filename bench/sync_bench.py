"""Sync benchmark: push throughput and pull time, beside the floor of plain INSERTs.

    .venv/bin/python bench/sync_bench.py                       # SpatiaLite (a fresh temp file)
    .venv/bin/python bench/sync_bench.py --postgis postgresql+psycopg://postgres@127.0.0.1:5432/bazres_bench

Each figure is the median of --repeat runs, through the HTTP layer (Flask's WSGI test
client: routing, auth, JSON and the service, without a network). Beside each push of N new
reports stands the floor: N plain single-row INSERTs, in one transaction, of the same rows
into a table with the same columns and indexes as `reports` (the location's geometry column
too, on SpatiaLite with the triggers GeoAlchemy2's RecoverGeometryColumn gives every
geometry column there), its runs alternating with the push's so that the ratio compares the
two under the same load. Each floor row is a report a push stored (one pushed before the
runs, read back whole), with an id of its own and its point written as the push writes it.
Until 2026-12-04 the floor's rows were leaner than a push's: no location, no stored
record (`wire`), no device, accuracy or distance; `--floor-as-before` measures that floor,
for comparison with the figures from before. The reports are
`open` (most of a round's findings), so that the figures do not depend on whether the
moment of the run falls in mandated hours (a closure is judged and opens a case). Peak memory is
Python's (tracemalloc) during the measured call. The PostGIS database is emptied first:
its name must contain "bench".
"""

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flask_migrate  # noqa: E402
import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ApiToken, Office, Report, Role  # noqa: E402
from app.services import accounts, seed  # noqa: E402
from geo.geometry import lon_lat, point, to_db  # noqa: E402


def seeded_app(postgis: str | None):
    """(app, label): the app on a fresh PostGIS database (`postgis`, emptied first) or a new
    SQLite file, migrated and seeded as a new install would be; the caller holds no context."""
    if postgis:
        fresh_postgis(postgis)
        url, label = postgis, "PostGIS"
    else:
        url, label = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite", "SpatiaLite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ATTACHMENTS_DIR": tempfile.mkdtemp()})
    with app.app_context():
        flask_migrate.upgrade()
        seed.seed("bench-password")
    return app, label


def fresh_postgis(url: str) -> None:
    name = make_url(url).database
    if "bench" not in name:
        sys.exit("refusing: the PostGIS benchmark database's name must contain 'bench'")
    admin = make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def measure(fn, repeat: int):
    """Median time of `repeat` runs, then one more run under tracemalloc for the peak
    (tracing slows Python several times over, so it never overlaps a timed run)."""
    return _measure_fresh(lambda: fn, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgis", help="a PostGIS URL (database name containing 'bench')")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--floor-as-before", action="store_true",
                        help="the floor as it was until 2026-12-04: lean rows, its table without the location column")
    args = parser.parse_args()
    app, label = seeded_app(args.postgis)
    with app.app_context():
        # An inspector of two districts, for the first-pull figure.
        accounts.create_user("bench-inspector", "bench-password", Role.INSPECTOR, [6, 7])
        user_id = db.session.scalar(sa.text("SELECT id FROM users WHERE username = 'bench-inspector'"))
        token = "bench-" + uuid.uuid4().hex
        db.session.add(ApiToken(token_hash=accounts.hash_token(token), user_id=user_id,
                                expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
        offices = [(str(o.id), o) for o in db.session.scalars(sa.select(Office).where(Office.district.in_([6, 7])))]
        points = {oid: {"type": "Point", "coordinates": list(lon_lat(o.location))} for oid, o in offices}
        db.session.commit()
        floor_table = _floor_table(with_location=not args.floor_as_before)
    http = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    rows = []

    def push(n: int):
        now = datetime.now(timezone.utc).isoformat()
        ops = []
        for i in range(n):
            oid = offices[i % len(offices)][0]
            ops.append({"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create", "id": str(uuid.uuid4()),
                        "base_version": None, "changed_at": now,
                        "data": {"office_id": oid, "observed_at": now, "location": points[oid], "accuracy_m": 12.0,
                                 "office_state": "open", "notes": "bench", "checklist": {"sign": True}}})
        body = {"protocol": 1, "device_id": str(uuid.uuid4()), "sent_at": now, "ops": ops}
        return lambda: _ok(http.post("/api/v1/sync/push", json=body, headers=headers))

    def lean_row() -> dict:
        now = datetime.now(timezone.utc)
        return {"author_id": user_id, "office_id": uuid.UUID(offices[0][0]), "district": 6, "observed_at": now,
                "office_state": "closed", "evidence_time": now, "evidence_time_source": "device",
                "received_at": now, "updated_at": now, "version": 1, "clock_skew_s": 0.0, "locked": False,
                "notes": "bench", "checklist": {}, "photos": [], "flags": [], "amendments": [], "field_times": {}}

    def stored_row() -> dict:
        """A report as a push stores it, every column but its id (its point as the push
        writes one, not as the database gives it back)."""
        pushed = push(1)().get_json()["results"][0]["id"]
        with app.app_context():
            stored = db.session.execute(sa.select(Report.__table__).where(Report.id == uuid.UUID(pushed))).mappings().one()
            db.session.rollback()
        return {name: value for name, value in stored.items() if name in floor_table.c and name != "id"} | {
            "location": to_db(point(*lon_lat(stored["location"])))}

    floor_row = lean_row() if args.floor_as_before else stored_row()

    def floor(n: int):
        insert = floor_table.insert()

        def run():
            with app.app_context(), db.engine.begin() as conn:
                for _ in range(n):  # one statement per row, as a push's slowest path would
                    conn.execute(insert, floor_row | {"id": uuid.uuid4()})
        return run

    for n in (1, 50, 500):
        (push_s, push_mem), (floor_s, _) = _measure_alternately(lambda: push(n), lambda: floor(n), args.repeat)
        rows.append((f"push of {n} new report{'s' if n > 1 else ''}", push_s, push_mem,
                     f"{n / push_s:,.0f} ops/s", f"{floor_s * 1000:.1f} ms", f"{push_s / floor_s:.1f}×"))

    def pull(cursor=None):
        def run():
            state = {"cursor": cursor}
            while True:
                page = _ok(http.post("/api/v1/sync/pull", json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                                  "cursor": state["cursor"], "limit": 500},
                                     headers=headers)).get_json()
                state["cursor"] = page["cursor"]
                if not page["has_more"]:
                    return state["cursor"]
        return run

    # The bench inspector's own reports (1,656 after the pushes above) are part of their scope.
    first_s, first_mem = measure(pull(), args.repeat)
    cursor = pull()()
    push(10)()
    incr_s, incr_mem = measure(pull(cursor), args.repeat)
    with app.app_context():
        reports = db.session.scalar(sa.select(sa.func.count()).select_from(Report)
                                    .where(Report.author_id == user_id))
    rows.append((f"first pull, 2 districts + {reports:,} own reports", first_s, first_mem, "", "", ""))
    rows.append(("incremental pull (10 new reports)", incr_s, incr_mem, "", "", ""))
    first_scope_s, first_scope_mem = _first_pull_without_reports(app, http, args.repeat)
    rows.append(("first pull, 2 districts (no reports yet)", first_scope_s, first_scope_mem, "", "", ""))

    print(f"\n{label}, median of {args.repeat} runs")
    print("| operation | time | peak Python memory | throughput | plain INSERTs | ratio |")
    print("|---|---|---|---|---|---|")
    for name, seconds, peak, rate, floor_ms, ratio in rows:
        print(f"| {name} | {seconds * 1000:.1f} ms | {peak / 1e6:.1f} MB | {rate} | {floor_ms} | {ratio} |")


def _first_pull_without_reports(app, http, repeat):
    with app.app_context():
        accounts.create_user("bench-fresh", "bench-password", Role.INSPECTOR, [6, 7])
        user_id = db.session.scalar(sa.text("SELECT id FROM users WHERE username = 'bench-fresh'"))
        token = "bench-" + uuid.uuid4().hex
        db.session.add(ApiToken(token_hash=accounts.hash_token(token), user_id=user_id,
                                expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
        db.session.commit()

    def run():
        cursor = None
        while True:
            page = _ok(http.post("/api/v1/sync/pull", json={"protocol": 1, "device_id": str(uuid.uuid4()),
                                                              "cursor": cursor, "limit": 500},
                                 headers={"Authorization": f"Bearer {token}"})).get_json()
            cursor = page["cursor"]
            if not page["has_more"]:
                return
    return measure(run, repeat)


def _measure_fresh(make, repeat):
    """Like measure, but builds a new input (new ids) for each run outside the timing."""
    times = [_timed(make()) for _ in range(repeat)]
    return statistics.median(times), _peak(make())


def _measure_alternately(make_a, make_b, repeat):
    """`_measure_fresh` of two operations whose runs alternate, a then b, so that their ratio
    compares them under the same load: this machine is shared, and its load can double
    between one minute and the next."""
    times_a, times_b = [], []
    for _ in range(repeat):
        times_a.append(_timed(make_a()))
        times_b.append(_timed(make_b()))
    return (statistics.median(times_a), _peak(make_a())), (statistics.median(times_b), _peak(make_b()))


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _peak(fn) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _floor_table(with_location: bool):
    """A copy of `reports` (same columns and indexes, no foreign keys), empty. Its location
    is the same Geometry column (GeoAlchemy2 makes it as it made `reports`': on SpatiaLite
    a column it then registers with RecoverGeometryColumn, which adds the triggers); without
    it, the floor's table before 2026-12-04."""
    metadata = sa.MetaData()
    table = sa.Table("bench_floor_reports", metadata,
                     *[sa.Column(c.name, c.type, primary_key=c.primary_key) for c in Report.__table__.columns
                       if with_location or c.name != "location"])
    for index in Report.__table__.indexes:
        sa.Index(f"bench_{index.name}", *[table.c[c.name] for c in index.columns])
    metadata.drop_all(db.engine)
    metadata.create_all(db.engine)
    return table


def _ok(response):
    if response.status_code != 200:
        raise SystemExit(f"benchmark request failed: {response.status_code} {response.get_data(as_text=True)[:500]}")
    return response


if __name__ == "__main__":
    main()
