"""The demo data: Tehran's 22 districts, the fixture offices, the demo users, the official
holidays and the fixture mandated-hours rules; on request a few field reports and a synthetic
platform feed (app/signals/demo.py).

Every step is idempotent, so seeding twice (or after a half-finished seed) changes nothing.
"""

import csv
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app import passwords
from app.hours import calendar
from app.models import District, Role, User, UserDistrict
from app.repositories import activity as activity_repo
from app.repositories import districts as district_repo
from app.repositories import hours as hours_repo
from app.repositories import signals as signals_repo
from app.repositories import users as user_repo
from app.services import activity, changefeed, hours, signals, unit_of_work
from app.services.office_import import ImportResult, import_rows, read_rows
from app.database import utcnow
from app.errors import Problem
from app.signals import demo
from geo.geometry import lon_lat, parse_area, to_db
from schemas.activity import MAX_EVENTS
from schemas.hours import HoursRuleInputSchema

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOLIDAYS = FIXTURES / "holidays" / "iran_official_holidays_1403_1405.csv"
DISTRICT_COUNT = 22


@dataclass(frozen=True)
class SeedResult:
    districts_created: int
    offices: ImportResult
    users_created: int
    holidays_created: int
    rules_created: int


def demo_users() -> list[tuple[str, str, list[int]]]:
    """(username, role, districts) of every demo user (DESIGN §10)."""
    users = [("admin", Role.ADMIN, []), ("committee1", Role.COMMITTEE, []), ("committee2", Role.COMMITTEE, [])]
    users += [(f"head-{n}", Role.DISTRICT_HEAD, [n]) for n in range(1, DISTRICT_COUNT + 1)]
    users += [(f"inspector-{n}{s}", Role.INSPECTOR, [n]) for n in range(1, DISTRICT_COUNT + 1) for s in "ab"]
    users += [("feed-platform", Role.FEED, [])]  # the e-services platform's machine account (DESIGN §10b)
    return users


def is_empty() -> bool:
    return user_repo.count() == 0 and district_repo.count() == 0


def seed(demo_password: str) -> SeedResult:
    with unit_of_work():
        changefeed.lock(None)
        districts_created = _seed_districts(FIXTURES / "districts.geojson")
        offices = import_rows(read_rows(FIXTURES / "offices.geojson"))
        users_created = _seed_users(demo_password)
        holidays_created = _seed_holidays(HOLIDAYS)
        rules_created = _seed_rules(FIXTURES / "hours_rules.json")
    return SeedResult(districts_created, offices, users_created, holidays_created, rules_created)


def _seed_districts(path: Path) -> int:
    created = 0
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        number = int(feature["properties"]["area"])
        if district_repo.get(number) is not None:
            continue
        district_repo.create(District(
            number=number,
            name_fa=feature["properties"]["name"],
            name_en=f"District {number}",
            geometry=to_db(parse_area(feature["geometry"])),
        ))
        changefeed.record("districts", number, district=number)
        created += 1
    return created


def _seed_users(password: str) -> int:
    # One hash for all demo users: they share a published password anyway, and hashing
    # 69 times would cost over a second on every fresh database.
    password_hash = None
    created = 0
    for username, role, districts in demo_users():
        if user_repo.get_by_username(username) is not None:
            continue
        password_hash = password_hash or passwords.hash_password(password)
        user = User(username=username, role=role, password_hash=password_hash,
                    district_links=[UserDistrict(district=n) for n in districts])
        user_repo.create(user)
        created += 1
    return created


def _seed_holidays(path: Path) -> int:
    created = 0
    for day, title in _holiday_rows(path):
        if hours_repo.find_holiday(calendar.format_date(day), title) is None:
            hours.put_holiday(None, day, title, source="official")
            created += 1
    return created


def _holiday_rows(path: Path) -> list:
    with path.open(encoding="utf-8") as handle:
        return [(calendar.parse_date(row["jalali"]), row["title"]) for row in csv.DictReader(handle)]


def _seed_rules(path: Path) -> int:
    existing = {rule.name for rule in hours_repo.list_rules(include_withdrawn=True)[0]}
    created = 0
    for raw in json.loads(path.read_text(encoding="utf-8")):
        raw = dict(raw)
        published_at = datetime.fromisoformat(raw.pop("published_at"))
        if raw["name"] in existing:
            continue
        data = HoursRuleInputSchema().load(raw)
        hours.publish_rule(None, data, published_at=published_at)
        created += 1
    return created


DEMO_NAMESPACE = uuid.UUID("0b8d5c8e-9f1e-4a57-8d7e-2f4c1b3a6d90")
# (district, day, clock, state, metres from the office): a few Nowruz 1405 findings, so that
# the committee page has cases to show. Pushed through the real sync service.
DEMO_REPORTS = [
    (1, "1405-01-07", "10:10", "closed", 0),
    (2, "1405-01-07", "11:20", "closed", 15),
    (2, "1405-01-07", "15:05", "open", 10),
    (3, "1405-01-08", "09:40", "open_not_serving", 30),
    (4, "1405-01-08", "12:00", "closed", 900),
    (5, "1405-01-08", "10:30", "open", 5),
]


def demo_reports() -> int:
    """Push the demo findings as their inspectors' phones would (idempotent: fixed op ids)."""
    from app.hours import calendar
    from app.repositories import offices as office_repo
    from app.services import sync_push

    landed = 0
    for n, (district, day, clock, state, metres) in enumerate(DEMO_REPORTS):
        user = user_repo.get_by_username(f"inspector-{district}a")
        office = office_repo.list_page([district], None, 0, 1)[0][0][0]
        lon, lat = lon_lat(office.location)
        when = calendar.tehran_instant(calendar.parse_date(day), calendar.parse_time(clock))
        data = {"office_id": str(office.id), "observed_at": when.isoformat(), "office_state": state,
                "location": {"type": "Point", "coordinates": [lon, lat + metres / 111_320]}, "accuracy_m": 12.0,
                "notes": "گزارش نمونه"}
        op = {"op_id": str(uuid.uuid5(DEMO_NAMESPACE, f"op-{n}")), "entity": "reports", "action": "create",
              "id": str(uuid.uuid5(DEMO_NAMESPACE, f"report-{n}")), "base_version": None,
              "changed_at": when.isoformat(), "data": data}
        answer = sync_push.push(user, {"device_id": uuid.uuid5(DEMO_NAMESPACE, "device"), "sent_at": utcnow(),
                                       "ops": [op]})
        landed += answer["results"][0]["status"] == "applied"
    return landed


DEMO_SOURCE = "demo"  # the synthetic feed's source in activity_batches


@dataclass(frozen=True)
class DemoActivity:
    history_hours: int  # hourly totals written for the history weeks (0: written before)
    days: list  # the minute days taken in, Jalali text
    events: int  # events (office and minute) counted now
    duplicates: int  # batches taken in before, counted once
    suspected: int = 0  # suspicions on those days, worked out at once (the first map is quick)


def demo_activity(seed_value: int = demo.DEMO_SEED, days=None) -> DemoActivity:
    """The synthetic platform feed of the demo offices (app/signals/demo.py, fixtures/README.md):
    the eight weeks of history written as hourly totals (what the detector learns rates from;
    their key in activity_batches, so written once), then the demo `days` (by default
    demo.DEMO_DAYS) minute by minute as the feed sends them, through `activity.ingest`
    (source "demo", each batch once). Seeding again counts nothing twice; a plan that changed
    (another seed, other offices) is refused as `batch-mismatch`."""
    days = demo.DEMO_DAYS if days is None else days
    with unit_of_work():
        offices = {office.code: (office.id, office.district) for office in signals_repo.offices()}
    plan = demo.make_plan([(code, district) for code, (_, district) in offices.items()],
                          {day for day, _ in _holiday_rows(HOLIDAYS)}, seed_value)
    history = _demo_history(plan, {code: office_id for code, (office_id, _) in offices.items()})
    counted = duplicates = 0
    for day in days:
        events = demo.events(plan, day)
        for n, start in enumerate(range(0, len(events), MAX_EVENTS)):
            answer = activity.ingest(DEMO_SOURCE, f"{calendar.format_date(day)}-{n}", events[start:start + MAX_EVENTS])
            if answer["status"] == "duplicate":
                duplicates += 1
            else:
                counted += answer["accepted"]
    suspected = sum(signals.evaluate(day).get("suspected", 0) for day in days)
    return DemoActivity(history, [calendar.format_date(day) for day in days], counted, duplicates, suspected)


def _demo_history(plan: demo.Plan, offices: dict) -> int:
    """The history days' hourly totals, in one transaction with their batch key. Only hours:
    the detector reads a history day's hours, never its minutes (taking in eight weeks of
    minutes would cost half a minute on SpatiaLite, fixtures/README.md). Their days are not
    touched: asked for, a history day's signals say that no minutes came (`feed_silent`)."""
    hours_ = {(offices[code], hour): count for day in demo.HISTORY_DAYS
              for (code, hour), count in demo.hour_counts(plan, day).items()}
    digest = hashlib.sha256(repr(sorted((office_id.hex, hour.isoformat(), count)
                                        for (office_id, hour), count in hours_.items())).encode()).hexdigest()
    first, last = (calendar.format_date(day) for day in (demo.HISTORY_DAYS[0], demo.HISTORY_DAYS[-1]))
    batch_id = f"hours-{first}-{last}"
    with unit_of_work():
        landed = activity_repo.get_batch(DEMO_SOURCE, batch_id)
        if landed is None:
            activity_repo.insert_batch({"source": DEMO_SOURCE, "batch_id": batch_id, "digest": digest,
                                        "accepted": len(hours_), "rejected": 0, "received_at": utcnow()})
            activity_repo.put_hours({(office_id, int(hour.timestamp())): count
                                     for (office_id, hour), count in hours_.items()})
            return len(hours_)
    if landed.digest != digest:
        raise Problem("batch-mismatch", f"The demo's history ({batch_id}) was written already from another plan "
                                        "(another seed, or other offices).")
    return 0
