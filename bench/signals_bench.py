"""Systemic monitoring benchmark (DESIGN §10b, issue 17): how fast the platform's activity is
taken in.

    .venv/bin/python bench/signals_bench.py                       # SpatiaLite (a fresh temp file)
    .venv/bin/python bench/signals_bench.py --postgis postgresql+psycopg://postgres@127.0.0.1:5432/bazres_bench_signals

`POST /api/v1/activity` through the HTTP layer (Flask's WSGI test client: routing, auth, JSON
and the service, without a network), as the feed's machine account, in batches of
`--batch` events (5,000 by default): each batch a new key, its events spread over every
office of the city and over a working day's minutes, as a platform forwarding its log
would send them. Beside it stands the floor: the same counts added by the same upsert
straight through SQLAlchemy Core, with no HTTP, checking or batch key. Runs of the two
alternate. Figures: the median over `--repeat` batches, events a second, and Python's peak
memory (tracemalloc) over one more batch. The goals (issue 17): ≥ 50,000 events/s on
PostGIS, ≥ 20,000/s on SpatiaLite. The PostGIS database is emptied first: its name must
contain "bench".

(The detector's re-evaluation of a day, the other half of the issue's benchmark, comes with
the detector.)
"""

import argparse
import os
import random
import statistics
import sys
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import ApiToken, Office, Role  # noqa: E402
from app.repositories import activity as activity_repo  # noqa: E402
from app.services import accounts  # noqa: E402
from bench.sync_bench import _ok, _peak, _timed, seeded_app  # noqa: E402

TEHRAN = timezone(timedelta(hours=3, minutes=30))
DAY = datetime(2026, 3, 25, 8, 0, tzinfo=TEHRAN)  # 5 Farvardin 1405, the mandated window's start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgis", help="a PostGIS URL (database name containing 'bench')")
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    load_start = os.getloadavg()
    app, label = seeded_app(args.postgis)
    with app.app_context():
        codes = dict(db.session.execute(sa.select(Office.code, Office.id)).all())
        user = accounts.create_user("bench-feed", "bench-password", Role.FEED)
        token = "bench-" + uuid.uuid4().hex
        db.session.add(ApiToken(token_hash=accounts.hash_token(token), user_id=user.id,
                                expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
        db.session.commit()
    http, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    rng = random.Random(1405)

    def events():
        """A batch: each event an office and an instant within the day's 8.5 hours."""
        return [{"office_code": rng.choice(list(codes)), "count": rng.choice((1, 1, 1, 2, 3)),
                 "at": (DAY + timedelta(seconds=rng.randrange(8 * 3600 + 1800))).isoformat()}
                for _ in range(args.batch)]

    def post():
        body = {"source": "bench", "batch_id": uuid.uuid4().hex, "events": events()}
        return lambda: _ok(http.post("/api/v1/activity", json=body, headers=headers))

    def floor():
        counted = Counter()
        for event in events():
            minute = datetime.fromisoformat(event["at"]).replace(second=0)
            counted[(codes[event["office_code"]], minute)] += event["count"]

        def run():
            with app.app_context():
                activity_repo.add_counts(counted)
                db.session.commit()
        return run

    post()()  # the route's first request loads what it needs once
    ours, floors = [], []
    for _ in range(args.repeat):
        ours.append(_timed(post()))
        floors.append(_timed(floor()))
    peak = _peak(post())
    load_end = os.getloadavg()
    median, floor_median = statistics.median(ours), statistics.median(floors)
    goal = 50_000 if label == "PostGIS" else 20_000
    rate = args.batch / median
    print(f"\n{label}, batches of {args.batch:,} events, median of {args.repeat}; load average "
          f"{_load(load_start)} at start, {_load(load_end)} at end")
    print("| operation | per batch | events/s | peak Python memory | goal |")
    print("|---|---|---|---|---|")
    print(f"| POST /api/v1/activity | {median * 1000:.1f} ms | {rate:,.0f} | {peak / 1e6:.1f} MB | "
          f"≥ {goal:,}/s {'✓' if rate >= goal else '✗'} |")
    print(f"| floor: the same counts upserted, no HTTP | {floor_median * 1000:.1f} ms | "
          f"{args.batch / floor_median:,.0f} |  |  |")


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


if __name__ == "__main__":
    main()
