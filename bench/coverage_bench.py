"""Coverage benchmark: the coverage of all 22 districts for a month of reports, and its picture.

    .venv/bin/python bench/coverage_bench.py                       # SpatiaLite (a fresh temp file)
    .venv/bin/python bench/coverage_bench.py --postgis postgresql+psycopg://postgres@127.0.0.1:5432/bazres_cov_bench

The demo districts and offices are seeded, then a month of findings is written in bulk
(a benchmark fixture, so straight into the tables): --reports reports in Ordibehesht 1405
spread over every office of the 22 districts, half as many again in the month before (so
that last visits reach back past the period), 2 % of them deleted, and an open case for
every fortieth closure. Each figure is through the HTTP layer (Flask's WSGI test client:
routing, auth, the SQL, the GeoJSON), p50 and p95 of --repeat runs after one warm-up run;
peak memory is Python's (tracemalloc), from one more run of its own, since tracing slows
Python several times over. The PostGIS database is emptied first: its name must contain "bench".
"""

import argparse
import random
import statistics
import sys
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from app.extensions import db  # noqa: E402
from app.hours import calendar  # noqa: E402
from app.models import ApiToken, Office, Report, User, ViolationCase  # noqa: E402
from app.services import accounts  # noqa: E402
from bench.sync_bench import seeded_app  # noqa: E402
from geo.geometry import lon_lat, to_db  # noqa: E402
from geo.geometry import point as make_point  # noqa: E402

PERIOD = ("1405-02-01", "1405-02-31")
BEFORE = ("1405-01-01", "1405-01-31")
STATES = ["open"] * 85 + ["closed"] * 8 + ["open_not_serving"] * 3 + ["relocated", "inaccessible"] * 2


def instants(first: str, last: str, count: int, rng: random.Random) -> list[datetime]:
    """`count` random instants in working hours (08:00–16:00 Tehran) of the Jalali days."""
    start = calendar.tehran_instant(calendar.parse_date(first), datetime.min.time().replace(hour=8))
    days = (calendar.parse_date(last).togregorian() - calendar.parse_date(first).togregorian()).days + 1
    return [start + timedelta(days=rng.randrange(days), seconds=rng.randrange(8 * 3600)) for _ in range(count)]


def fill(count: int, rng: random.Random) -> dict:
    """Write the month of findings; returns what was written."""
    offices = list(db.session.scalars(sa.select(Office)))
    authors = {n: db.session.scalar(sa.select(User.id).where(User.username == f"inspector-{n}a")) for n in range(1, 23)}
    now = datetime.now(timezone.utc)
    rows, cases = [], []
    seen_cases = set()
    for first, last, n in ((*PERIOD, count), (*BEFORE, count // 2)):
        for when in instants(first, last, n, rng):
            office = rng.choice(offices)
            state = rng.choice(STATES)
            lon, lat = lon_lat(office.location)
            rows.append({
                "id": uuid.uuid4(), "author_id": authors[office.district], "device_id": None,
                "office_id": office.id, "district": office.district, "round_id": None, "observed_at": when,
                "gps_fix_at": when, "location": to_db(make_point(lon + rng.uniform(-3e-4, 3e-4), lat)),
                "accuracy_m": 12.0, "office_state": state, "staff_present": 2, "checklist": {}, "notes": "bench",
                "photos": [], "version": 1, "received_at": now, "updated_at": now, "evidence_time": when,
                "evidence_time_source": "gps", "clock_skew_s": 0.0, "distance_to_office_m": 20.0, "locked": False,
                "flags": [], "violation_id": None, "amendments": [], "field_times": {},
                "deleted_at": now if rng.random() < 0.02 else None})
            day = calendar.format_date(calendar.tehran_day(when))
            if state == "closed" and rng.random() < 1 / 40 and (office.id, day) not in seen_cases:
                seen_cases.add((office.id, day))
                cases.append({"id": uuid.uuid4(), "office_id": office.id, "district": office.district,
                              "jalali_date": day, "kind": "closed_during_mandated_hours",
                              "status": rng.choice(["open", "under_review"]), "reasons": [], "rule": None,
                              "decision_note": "", "version": 1, "opened_at": now, "updated_at": now})
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(Report), rows[start:start + 1000])
    if cases:
        db.session.execute(sa.insert(ViolationCase), cases)
    db.session.commit()
    return {"reports": len(rows), "in_period": count, "cases": len(cases), "offices": len(offices)}


def token_for(username: str) -> str:
    user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
    token = "bench-" + uuid.uuid4().hex
    db.session.add(ApiToken(token_hash=accounts.hash_token(token), user_id=user_id,
                            expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
    db.session.commit()
    return token


def timed(fn, repeat: int):
    """p50 and p95 (ms) of `repeat` runs after a warm-up, and the peak Python memory (MB)
    of one more run under tracemalloc."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, peak, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgis", help="a PostGIS URL (database name containing 'bench')")
    parser.add_argument("--reports", type=int, default=6000, help="reports in the measured month")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    app, label = seeded_app(args.postgis)
    with app.app_context():
        written = fill(args.reports, random.Random(1405))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        committee, head = token_for("committee1"), token_for("head-6")
    http = app.test_client()
    month = f"from={PERIOD[0]}&to={PERIOD[1]}"

    def get(path: str, token: str):
        def run():
            response = http.get(path, headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                raise SystemExit(f"benchmark request failed: {response.status_code} {response.get_data(as_text=True)[:500]}")
            return response
        return run

    rows = []
    for name, path, token, repeat in [
        ("coverage, all 22 districts, one month (committee)", f"/api/v1/coverage?{month}", committee, args.repeat),
        ("coverage, one district, one month (district head)", f"/api/v1/coverage?{month}", head, args.repeat),
        ("coverage.png, all 22 districts", f"/api/v1/coverage.png?{month}", committee, max(3, args.repeat // 5)),
        ("coverage.png, one district", f"/api/v1/coverage.png?{month}", head, max(3, args.repeat // 5)),
    ]:
        p50, p95, peak, response = timed(get(path, token), repeat)
        rows.append((name, p50, p95, peak, len(response.data), repeat))
        if path.startswith("/api/v1/coverage?") and token == committee:
            totals = response.get_json()["totals"]

    print(f"\n{label}: {written['reports']:,} reports ({written['in_period']:,} in the month measured, "
          f"{written['reports'] - written['in_period']:,} in the month before), {written['cases']} open cases, "
          f"{written['offices']} offices; the month's totals: {totals['visits']:,} visits, "
          f"{totals['offices_visited']} offices visited, {totals['closures_found']} closures found")
    print("| request | p50 | p95 | peak Python memory | response | runs |")
    print("|---|---|---|---|---|---|")
    for name, p50, p95, peak, size, repeat in rows:
        print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {peak:.1f} MB | {size / 1024:,.0f} KB | {repeat} |")


if __name__ == "__main__":
    main()
