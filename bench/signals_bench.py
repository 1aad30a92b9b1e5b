"""Systemic monitoring benchmark (DESIGN §10b, issue 17): how fast the platform's activity is
taken in, and how fast a day's signals are worked out again from it.

    .venv/bin/python bench/signals_bench.py                       # SpatiaLite (a fresh temp file)
    .venv/bin/python bench/signals_bench.py --postgis postgresql+psycopg://postgres@127.0.0.1:5432/bazres_bench_signals
    .venv/bin/python bench/signals_bench.py --part evaluate --offices 10000   # the re-evaluation only

**Intake** (`--part intake`). `POST /api/v1/activity` through the HTTP layer (Flask's WSGI
test client: routing, auth, JSON and the service, without a network), as the feed's machine
account, in batches of `--batch` events (5,000 by default): each batch a new key, its events
spread over every office of the city and over a working day's minutes, as a platform
forwarding its log would send them. Beside it stands the floor: the same counts added by the
same upsert straight through SQLAlchemy Core, with no HTTP, checking or batch key. Runs of
the two alternate. Figures: the median over `--repeat` batches, events a second, and Python's
peak memory (tracemalloc) over one more batch. The goals (issue 17): ≥ 50,000 events/s on
PostGIS, ≥ 20,000/s on SpatiaLite.

**Re-evaluation** (`--part evaluate`). `signals.evaluate(day)` for 5 Farvardin 1405 (Nowruz,
08:00–16:30 mandated), on a fresh database each for the 120 demo offices of the 22 districts
and for `--offices` (10,000 by default: the demo's and generated ones spread over the 22
districts, a nationwide scale). Each office has a rate of 0.2–1.5 transactions a minute
(busier mornings); of the offices, 1 % are new (no history), 3 % have two weeks of it, 2 %
are closed 10:00–12:30 on the day and 0.5 % all day. The day is its minutes' counts
(`activity_counts`) over 08:00–16:30. The history, written straight through the repository
in the order a feed would have sent it (by time, a few minutes of the whole city a batch,
so that the rows lie in the tables as after weeks of intake): for the 22 districts, every
day of the eight weeks before (minutes and hourly totals, all that the intake keeps and the
day's reads must pass over); for the nationwide scale, only the hourly totals at the day's
weekday (`activity_hours`, what the detector learns from: a year of a nation's minutes is
more than this machine can write in a sitting). Timed, alternating, `--eval-repeat` times:
the *first* evaluation (no signal stored: every row and its first history entry inserted;
the day's signals are deleted before each, untimed), a *repeat* re-evaluation when nothing
changed but it must run again (every row read, judged and written back, no event added),
and a fresh `GET /api/v1/signals` of the day (nothing to work out again) as the committee
(every office) and as a district's head (district 6). Peak memory: Python's (tracemalloc)
over one more run of each.

The PostGIS database is emptied first: its name must contain "bench".
"""

import argparse
import os
import random
import statistics
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app.extensions import db  # noqa: E402
from app.hours import calendar  # noqa: E402
from app.models import ApiToken, Office, Role, Signal, SignalDay, SignalEvent  # noqa: E402
from app.repositories import activity as activity_repo  # noqa: E402
from app.repositories import bulk  # noqa: E402
from app.services import accounts, signals  # noqa: E402
from bench.sync_bench import _ok, _peak, _timed, seeded_app  # noqa: E402
from geo.geometry import lon_lat, point, to_db  # noqa: E402

TEHRAN = timezone(timedelta(hours=3, minutes=30))
DAY = datetime(2026, 3, 25, 8, 0, tzinfo=TEHRAN)  # 5 Farvardin 1405, the mandated window's start
JDAY = calendar.parse_date("1405-01-05")
WINDOW_MINUTES = 510  # 08:00-16:30
# The share of an office's base rate at each Tehran hour from 08:00 (busy mornings, a lull at 13).
PROFILE = (0.8, 1.3, 1.4, 1.2, 0.9, 0.7, 0.9, 1.0, 0.6)
HISTORY_WEEKS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgis", help="a PostGIS URL (database name containing 'bench')")
    parser.add_argument("--part", choices=("intake", "evaluate", "all"), default="all")
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--offices", type=int, default=10_000, help="offices of the nationwide re-evaluation")
    parser.add_argument("--eval-repeat", type=int, default=5)
    args = parser.parse_args()
    if args.part in ("intake", "all"):
        intake(args)
    if args.part in ("evaluate", "all"):
        reevaluation(args)


# ---------------------------------------------------------------- intake


def intake(args) -> None:
    load_start = os.getloadavg()
    app, label = seeded_app(args.postgis)
    with app.app_context():
        codes = dict(db.session.execute(sa.select(Office.code, Office.id)).all())
        token = _token("bench-feed", Role.FEED)
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
            seconds = int(datetime.fromisoformat(event["at"]).timestamp())
            counted[(codes[event["office_code"]], seconds - seconds % 60)] += event["count"]

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


# ---------------------------------------------------------------- re-evaluation


def reevaluation(args) -> None:
    rows = []
    for wanted in (None, args.offices):
        load_start = os.getloadavg()
        app, label = seeded_app(args.postgis)
        with app.app_context():
            offices, facts = _offices(wanted), {}
            started = datetime.now()
            _activity(offices, random.Random(1405), facts, past_minutes=wanted is None)
            seeded_s = (datetime.now() - started).total_seconds()
            committee, head = _token("bench-committee", Role.COMMITTEE), _token("bench-head", Role.DISTRICT_HEAD, [6])
        rows.append(_measure_evaluation(app, label, len(offices), facts, committee, head, args.eval_repeat,
                                        load_start, seeded_s))
    print(f"\n{label}: a day's signals worked out again, median of {args.eval_repeat}")
    print("| offices | the day's busy minutes | minutes stored | first evaluation | repeat re-evaluation | "
          "GET, committee (all) | GET, head of district 6 | peak Python memory (first / repeat / GET all) | "
          "suspected | load average |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)


def _measure_evaluation(app, label, n_offices, facts, committee, head, repeat, load_start, seeded_s) -> str:
    http = app.test_client()

    def evaluate():
        with app.app_context():
            return signals.evaluate(JDAY)

    def read(token, district=None):
        query = "?date=1405-01-05" + (f"&district={district}" if district else "")
        return lambda: _ok(http.get("/api/v1/signals" + query, headers={"Authorization": f"Bearer {token}"}))

    firsts, repeats, reads_all, reads_head = [], [], [], []
    for _ in range(repeat):
        _forget(app)
        firsts.append(_timed(evaluate))
        repeats.append(_timed(evaluate))
        reads_all.append(_timed(read(committee)))
        reads_head.append(_timed(read(head, 6)))
    _forget(app)
    peak_first = _peak(evaluate)
    peak_repeat = _peak(evaluate)
    peak_read = _peak(read(committee))
    outcome = evaluate()
    items = read(committee)().get_json()["items"]
    states = Counter(item["state"] for item in items)
    load_end = os.getloadavg()
    ms = lambda values: f"{statistics.median(values) * 1000:,.0f} ms"  # noqa: E731
    print(f"  [{label}, {n_offices:,} offices: data written in {seeded_s:.0f} s; {outcome['signals']:,} signals, "
          f"states {dict(states)}; {len(items):,} items read]", flush=True)
    return (f"| {n_offices:,} | {facts['minute_rows']:,} | {facts['stored_minutes']:,} | {ms(firsts)} | "
            f"{ms(repeats)} | {ms(reads_all)} | {ms(reads_head)} | {peak_first / 1e6:.0f} / {peak_repeat / 1e6:.0f} / {peak_read / 1e6:.0f} MB | "
            f"{states['suspected_closure']} (of {facts['closed']} closed) | "
            f"{_load(load_start)} → {_load(load_end)} |")


def _forget(app) -> None:
    """The day as if never worked out: its signals and their history gone (untimed)."""
    with app.app_context():
        db.session.execute(sa.delete(SignalEvent).where(SignalEvent.day == "1405-01-05"))
        db.session.execute(sa.delete(Signal).where(Signal.day == "1405-01-05"))
        db.session.execute(sa.update(SignalDay).where(SignalDay.day == "1405-01-05").values(
            evaluated_seq=None, hours_key=None, reports_key=None, evaluated_at=None))
        db.session.commit()


def _offices(wanted: int | None) -> list[tuple[uuid.UUID, int]]:
    """(id, district) of every active office: the demo's, and generated ones up to `wanted`,
    spread evenly over the 22 districts, each beside one of its district's demo offices."""
    demo = db.session.execute(sa.select(Office.id, Office.district, Office.category, Office.location)
                              .where(Office.status == "active").order_by(Office.code)).all()
    if wanted is not None and wanted > len(demo):
        by_district = {}
        for row in demo:
            by_district.setdefault(row.district, row)
        now, rows = datetime.now(UTC), []
        for n in range(wanted - len(demo)):
            district = n % 22 + 1
            model = by_district[district]
            lon, lat = lon_lat(model.location)
            code = f"GEN-{district:02d}-{n:05d}"
            rows.append({"id": uuid.uuid4(), "code": code, "name": f"دفتر آزمایشی {n}", "district": district,
                         "category": model.category, "location": to_db(point(lon + (n % 7) * 1e-4, lat)),
                         "address": "", "phone": "", "status": "active", "version": 1, "created_at": now,
                         "updated_at": now})
        for start in range(0, len(rows), 2_000):
            bulk.insert_many(Office, rows[start:start + 2_000])
        db.session.commit()
    return [tuple(row) for row in db.session.execute(
        sa.select(Office.id, Office.district).where(Office.status == "active").order_by(Office.code))]


def _activity(offices, rng: random.Random, facts: dict, past_minutes: bool) -> None:
    """Each office's history and the day's minutes, written in the order a feed would have
    sent them (by time, offices sorted within a batch), so that the rows lie in the tables as
    they would after weeks of intake. `past_minutes`: the eight weeks before are every day's
    minutes and hours (all that the intake would have kept); else only the hourly totals at
    the day's weekday, which is all the detector reads of them."""
    draw = np.random.default_rng(rng.randrange(2**32))
    ids = [office for office, _ in offices]
    kinds = [rng.random() for _ in offices]
    base = np.array([rng.uniform(0.2, 1.5) for _ in offices])
    weeks = np.array([0 if k < 0.01 else 2 if k < 0.04 else HISTORY_WEEKS for k in kinds])  # of history
    shape = np.repeat(np.array(PROFILE), 60)[:WINDOW_MINUTES]
    past = range(HISTORY_WEEKS * 7, 0, -1) if past_minutes else range(HISTORY_WEEKS * 7, 0, -7)
    for back in past:
        day = JDAY - timedelta(days=back)
        if past_minutes and day.weekday() == 6:  # Friday (jdatetime's weeks start on Saturday)
            continue
        had = weeks * 7 >= back
        if past_minutes:
            _write_day(day, ids, draw.poisson(base[:, None] * shape) * had[:, None])
        else:
            _write_hours(day, ids, draw.poisson(60 * base[:, None] * np.array(PROFILE)) * had[:, None])
    today = draw.poisson(base[:, None] * shape)
    closed = np.array([0.04 <= k < 0.06 for k in kinds])  # 10:00-12:30
    today[closed, 120:270] = 0
    today[np.array([0.06 <= k < 0.065 for k in kinds])] = 0  # all day
    facts.update(closed=sum(0.04 <= k < 0.065 for k in kinds), minute_rows=int(np.count_nonzero(today)))
    _write_day(JDAY, ids, today)
    activity_repo.touch_days(["1405-01-05"])
    db.session.commit()
    facts["stored_minutes"] = db.session.scalar(sa.select(sa.func.count()).select_from(activity_repo.COUNTS))


def _write_day(day, ids: list, counts: np.ndarray, block: int = 5) -> None:
    """A day's minutes from 08:00 (a row an office, a column a minute), `block` minutes of the
    whole city a batch, and its hourly totals."""
    start = int(calendar.tehran_instant(day, time(8)).timestamp())
    for first in range(0, counts.shape[1], block):
        offices, minutes = np.nonzero(counts[:, first:first + block])
        activity_repo.add_counts({(ids[o], start + 60 * (first + int(m))): int(counts[o, first + m])
                                  for o, m in zip(offices, minutes)})
    hours = np.add.reduceat(counts, np.arange(0, counts.shape[1], 60), axis=1)
    _write_hours(day, ids, hours)


def _write_hours(day, ids: list, counts: np.ndarray) -> None:
    """Hourly totals from 08:00 (a row an office, a column an hour)."""
    for h in range(counts.shape[1]):
        hour = int(calendar.tehran_instant(day, time(8 + h)).timestamp())
        activity_repo.add_hours({(ids[o], hour): int(counts[o, h]) for o in np.flatnonzero(counts[:, h])})
    db.session.commit()


def _token(username: str, role: str, districts=()) -> str:
    user = accounts.create_user(username, "bench-password", role, districts)
    token = "bench-" + uuid.uuid4().hex
    db.session.add(ApiToken(token_hash=accounts.hash_token(token), user_id=user.id,
                            expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
    db.session.commit()
    return token


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


if __name__ == "__main__":
    main()
