"""WatermelonDB's sync protocol (DESIGN §5.8) beside the v1 sync it speaks for: pushes and first pulls.

    .venv/bin/python bench/watermelon_bench.py --repeat 7                # SpatiaLite (a fresh temp file)
    .venv/bin/python bench/watermelon_bench.py --postgis postgresql+psycopg://postgres@127.0.0.1:5432/bazres_bench_wm

Through the HTTP layer (Flask's WSGI test client), as bench/sync_bench.py measures, each
WatermelonDB figure beside the v1 figure for the same work: a push of N new `open` reports
(`POST /api/v1/sync/watermelon`, the raw records a WatermelonDB phone sends, with every column
of examples/watermelon/schema.js, against `POST /api/v1/sync/push`), and an inspector's first
sync of one district (`GET /api/v1/sync/watermelon?last_pulled_at=null`, one answer, against
`POST /api/v1/sync/pull` from a null cursor, paged while `has_more`), without reports of
their own and then holding every report the pushes made. The two dialects' runs alternate, the
order swapped each pair, each on new report ids, and the collector runs before each timed run
(a collection falling in one run and not the other is noise of hundreds of ms on the big
pulls); the ratio is the median of the pairs' ratios. The goal (issue 16): a push within 1.2×
of v1's. The PostGIS database is emptied first: its name must contain "bench".
"""

import argparse
import gc
import os
import statistics
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import ApiToken, Office, Report, Role  # noqa: E402
from app.services import accounts  # noqa: E402
from bench.sync_bench import _ok, _peak, _timed, seeded_app  # noqa: E402
from geo.geometry import lon_lat  # noqa: E402

DISTRICT = 6
GOAL = 1.2  # issue 16: a WatermelonDB push of 500 reports, at most this many times v1's
CHECKLIST = {"sign": True}
NOTES = "bench"
# The server's columns of a report's raw form, as WatermelonDB's sanitizedRaw leaves them on a
# record the phone made: null where the schema says optional, '' or false elsewhere.
SERVER_COLUMNS = {"received_at": None, "evidence_time": None, "evidence_time_source": None, "clock_skew_s": None,
                  "distance_to_office_m": None, "locked": False, "flags": "", "violation_id": None,
                  "amendments": "", "photos_pending": ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgis", help="a PostGIS URL (database name containing 'bench')")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load_start = os.getloadavg()
    app, label = seeded_app(args.postgis)
    with app.app_context():
        offices = [(str(o.id), lon_lat(o.location)) for o in db.session.scalars(
            sa.select(Office).where(Office.district == DISTRICT).order_by(Office.code))]
    http = app.test_client()
    pusher = _inspector(app, "bench-wm-pusher")
    bench = Bench(http, pusher, offices)
    rows = []

    bench.watermelon_push(1)()  # the first request of each route loads what it needs once
    bench.v1_push(1)()
    for n in (500, 50, 1):
        rows.append(_compare(f"push of {n} new report{'s' if n > 1 else ''}", n,
                             lambda n=n: bench.watermelon_push(n), lambda n=n: bench.v1_push(n), args.repeat,
                             GOAL if n == 500 else None))

    fresh = _inspector(app, "bench-wm-fresh")
    count = bench.watermelon_pull(fresh).count()  # each pull's first run, untimed, as the pushes' above
    bench.v1_pull(fresh)()
    rows.append(_compare(f"first sync, district {DISTRICT} (no reports yet)", count,
                         lambda: bench.watermelon_pull(fresh), lambda: bench.v1_pull(fresh), args.repeat))
    with app.app_context():
        own = db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.author_id == pusher[0]))
    count = bench.watermelon_pull(pusher).count()
    rows.append(_compare(f"first sync, district {DISTRICT} + {own:,} own reports", count,
                         lambda: bench.watermelon_pull(pusher), lambda: bench.v1_pull(pusher), args.repeat))

    load_end = os.getloadavg()
    print(f"\n{label}, median of {args.repeat} pairs (WatermelonDB and v1 alternating); "
          f"load average {_load(load_start)} at start, {_load(load_end)} at end")
    print("| operation | records | WatermelonDB | v1 | per record, WatermelonDB / v1 | peak Python memory, "
          "WatermelonDB / v1 | ratio WatermelonDB / v1 |")
    print("|---|---|---|---|---|---|---|")
    for name, records, (wm_s, wm_mem), (v1_s, v1_mem), ratio, goal in rows:
        verdict = "" if goal is None else (" ✓" if ratio <= goal else f" (goal ≤ {goal}×)")
        print(f"| {name} | {records:,} | {wm_s * 1000:.1f} ms | {v1_s * 1000:.1f} ms | "
              f"{wm_s / records * 1e6:,.0f} / {v1_s / records * 1e6:,.0f} µs | "
              f"{wm_mem / 1e6:.1f} / {v1_mem / 1e6:.1f} MB | {ratio:.2f}×{verdict} |")


class Bench:
    """The requests measured: each `make` call builds a new input (new report ids) and returns
    the call to time, so that building it is never timed."""

    def __init__(self, http, pusher, offices):
        self.http, self.offices = http, offices
        self.user_id, self.headers = pusher[0], _bearer(pusher[1])
        # WatermelonDB pushes right after the pull that gave it `last_pulled_at`; new reports
        # take nothing from it but the answer's timestamp.
        self.last_pulled_at = _ok(http.get("/api/v1/sync/watermelon?last_pulled_at=null",
                                           headers=self.headers)).get_json()["timestamp"]

    def watermelon_push(self, n: int):
        now_ms = _ms(datetime.now(timezone.utc))
        observed_ms = now_ms - 60_000
        created = []
        for i in range(n):
            office_id, (lon, lat) = self.offices[i % len(self.offices)]
            created.append({
                "id": str(uuid.uuid4()), "_status": "created", "_changed": "", "office_id": office_id,
                "round_id": None, "observed_at": observed_ms, "gps_fix_at": None, "latitude": lat,
                "longitude": lon, "accuracy_m": 10, "office_state": "open", "staff_present": None,
                "checklist": '{"sign":true}', "notes": NOTES, "photos": "[]", "version": 0, **SERVER_COLUMNS,
                "created_at": now_ms, "updated_at": now_ms})
        body = {"changes": {"reports": {"created": created, "updated": [], "deleted": []}}, "sent_at": now_ms}
        path = f"/api/v1/sync/watermelon?last_pulled_at={self.last_pulled_at}"
        return lambda: _ok(self.http.post(path, json=body, headers=self.headers))

    def v1_push(self, n: int):
        now = datetime.now(timezone.utc)
        observed = (now - timedelta(minutes=1)).isoformat()
        ops = []
        for i in range(n):
            office_id, (lon, lat) = self.offices[i % len(self.offices)]
            ops.append({"op_id": str(uuid.uuid4()), "entity": "reports", "action": "create", "id": str(uuid.uuid4()),
                        "base_version": None, "changed_at": now.isoformat(),
                        "data": {"office_id": office_id, "observed_at": observed,
                                 "location": {"type": "Point", "coordinates": [lon, lat]}, "accuracy_m": 10,
                                 "office_state": "open", "notes": NOTES, "checklist": CHECKLIST}})
        body = {"protocol": 1, "device_id": str(uuid.uuid4()), "sent_at": now.isoformat(), "ops": ops}
        return lambda: _ok(self.http.post("/api/v1/sync/push", json=body, headers=self.headers))

    def watermelon_pull(self, inspector):
        """A first sync: the whole scope in one answer. The timed call only receives it (the
        phone parses it, not the server); `count` reads how many records it brings."""
        headers = _bearer(inspector[1])

        def run():
            return _ok(self.http.get("/api/v1/sync/watermelon?last_pulled_at=null", headers=headers)).get_data()

        def count():
            changes = orjson.loads(run())["changes"]
            return sum(len(table["created"]) + len(table["updated"]) for table in changes.values())
        run.count = count
        return run

    def v1_pull(self, inspector):
        """§5.1's first pull, a page at a time: each page is read for its cursor (orjson, as cheap as it gets)."""
        headers = _bearer(inspector[1])

        def run():
            cursor = None
            while True:
                page = orjson.loads(_ok(self.http.post("/api/v1/sync/pull", json={
                    "protocol": 1, "device_id": str(uuid.uuid4()), "cursor": cursor, "limit": 500},
                    headers=headers)).get_data())
                cursor = page["cursor"]
                if not page["has_more"]:
                    return
        return run


def _compare(name, records, make_wm, make_v1, repeat, goal=None):
    """`repeat` pairs of runs, WatermelonDB's and v1's, each on a new input, the order swapped
    from one pair to the next so that neither always runs on the heels of the other; then one
    run of each under tracemalloc for the peak (tracing slows Python several times over)."""
    wm_times, v1_times = [], []
    for pair in range(repeat):
        order = ((make_wm, wm_times), (make_v1, v1_times))
        for make, times in order if pair % 2 == 0 else reversed(order):
            fn = make()
            gc.collect()
            times.append(_timed(fn))
    ratio = statistics.median(wm / v1 for wm, v1 in zip(wm_times, v1_times))
    return (name, records, (statistics.median(wm_times), _peak(make_wm())),
            (statistics.median(v1_times), _peak(make_v1())), ratio, goal)


def _inspector(app, username: str) -> tuple[int, str]:
    """A new inspector of DISTRICT with a token: (user id, token)."""
    with app.app_context():
        user = accounts.create_user(username, "bench-password", Role.INSPECTOR, [DISTRICT])
        token = "bench-" + uuid.uuid4().hex
        db.session.add(ApiToken(token_hash=accounts.hash_token(token), user_id=user.id,
                                expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
        db.session.commit()
        return user.id, token


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


if __name__ == "__main__":
    main()
