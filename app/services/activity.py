"""The platform's activity taken in (DESIGN §10b): batches of events, each event checked on its
own, counted per office and minute; a batch sent again counts nothing twice.

Events are checked by hand, not by a schema per event: a batch of 5,000 is read in a few
milliseconds, and the errors still name the event (by index) and the field.

Retention: counts are kept `ACTIVITY_COUNT_DAYS` (400: a year of an office's own history at
each weekday and hour, and the Nowruz before), batch keys `ACTIVITY_BATCH_DAYS` (30: a
platform retries for hours, not weeks); `prune` drops what is older.
"""

import csv
import hashlib
import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy.exc import IntegrityError

from app.database import utcnow
from app.errors import Problem
from app.hours import calendar
from app.repositories import activity as repo
from app.services import unit_of_work
from schemas.activity import MAX_EVENTS
from schemas.fields import InstantError, read_instant
from schemas.input import without_lone_surrogates

MAX_COUNT = 100_000  # transactions an office serves in one minute, at most (an event's, and a minute's total)
FUTURE_SLACK = timedelta(minutes=5)  # a platform clock a little ahead is not refused
COUNT_DAYS, BATCH_DAYS = 400, 30
FIELDS = frozenset({"office_code", "at", "count"})


def ingest(source: str, batch_id: str, events: list) -> dict:
    """Take in one batch: each good event counted, each bad one named with its reason."""
    if len(events) > MAX_EVENTS:
        raise Problem("payload-too-large", f"{len(events)} events in one batch; send at most {MAX_EVENTS}.")
    digest = _digest(events)
    now = utcnow()
    codes = repo.office_ids_by_code()
    counted: Counter = Counter()
    rejected = []
    kept = ((now - timedelta(days=COUNT_DAYS)).timestamp(), (now + FUTURE_SLACK).timestamp())
    for index, event in enumerate(events):
        read, errors = _check(event, codes, kept)
        if errors:
            rejected.append({"index": index, "errors": errors})
        else:
            # The minute as seconds since the epoch: an offset of odd seconds or a quarter hour
            # must not shift the bucket (and numbers cost less to count by than instants).
            office_id, seconds, count = read
            counted[(office_id, seconds - seconds % 60)] += count
    if any(count > MAX_COUNT for count in counted.values()):
        counted = Counter({key: min(count, MAX_COUNT) for key, count in counted.items()})
    answer = {"source": source, "batch_id": batch_id, "accepted": len(events) - len(rejected), "rejected": rejected}
    try:
        with unit_of_work():
            landed = repo.get_batch(source, batch_id)
            if landed is None:
                repo.insert_batch({"source": source, "batch_id": batch_id, "digest": digest,
                                   "accepted": answer["accepted"], "rejected": len(rejected), "received_at": now})
                hours, last_minutes = _by_hour(counted)
                repo.touch_days(last_minutes)
                repo.add_counts(counted)
                repo.add_hours(hours)
                repo.note_sources(source, last_minutes, {office for office, _ in counted})
                return answer | {"status": "applied"}
    except IntegrityError:  # the same batch, taken in meanwhile by another request
        landed = _landed(source, batch_id)
        if landed is None:
            raise  # not the batch's key: something else refused the write
    if landed.digest != digest:
        raise Problem("batch-mismatch", f"Batch {batch_id!r} of {source!r} was taken in already with other "
                                        "events; a batch sent again must be the same. Give new events a new batch_id.")
    return answer | {"status": "duplicate"}


def _by_hour(counted: Counter) -> tuple[Counter, dict[str, datetime]]:
    """The counts by Tehran hour (the detector's history; its start as seconds since the
    epoch), and the Jalali days they fall on with the batch's last minute on each. Tehran's
    offsets are whole half-hours: each half-hour is placed once."""
    hours: Counter = Counter()
    placed: dict[int, tuple[int, str]] = {}
    last: dict[str, int] = {}
    for (office, minute), count in counted.items():
        half = minute - minute % 1800
        if half not in placed:
            local = datetime.fromtimestamp(half, calendar.TEHRAN)
            placed[half] = (int(local.replace(minute=0).timestamp()),
                            calendar.format_date(calendar.from_gregorian(local.date())))
        hour, day = placed[half]
        hours[(office, hour)] += count
        if day not in last or minute > last[day]:
            last[day] = minute
    return hours, {day: datetime.fromtimestamp(minute, UTC) for day, minute in last.items()}


def _landed(source: str, batch_id: str):
    with unit_of_work():
        return repo.get_batch(source, batch_id)


def _check(event, codes: dict, kept: tuple[float, float]) -> tuple[tuple | None, dict]:
    """((the office's id, the event's instant as whole seconds since the epoch, its count), the
    errors by field: none for a good event); `kept`: the instants taken (seconds since the
    epoch), from the oldest kept to the latest a clock a little ahead may send."""
    if not isinstance(event, dict):
        return None, {"event": ["Each event must be an object: {office_code, at, count}."]}
    errors = {}
    if not event.keys() <= FIELDS:
        errors["event"] = [f"Unknown field(s): {', '.join(sorted(map(str, event.keys() - FIELDS)))}."]
    code = event.get("office_code")
    if not isinstance(code, str) or code not in codes:
        errors["office_code"] = ["Missing." if code is None else "No office has this code."]
    try:
        at = read_instant(event.get("at")).timestamp()
        seconds = math.floor(at)
        if at > kept[1]:
            errors["at"] = ["In the future: the platform's clock is ahead, or the instant is wrong."]
        elif at < kept[0]:
            errors["at"] = [f"Older than the {COUNT_DAYS} days activity is kept: it would be dropped at once."]
    except InstantError:
        errors["at"] = ["An ISO 8601 instant with its offset, such as 2026-03-25T08:15:03+03:30."]
    count = event.get("count", 1)
    if type(count) is not int or not 1 <= count <= MAX_COUNT:
        errors["count"] = [f"A whole number from 1 to {MAX_COUNT:,}."]
    if errors:
        return None, errors
    return (codes[code], seconds, count), errors


def _digest(events: list) -> str:
    try:
        text = orjson.dumps(events, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson refuses (a huge integer, a lone surrogate, deep nesting)
        text = json.dumps(without_lone_surrogates(events), sort_keys=True, default=str).encode()
    return hashlib.sha256(text).hexdigest()


def import_csv(path: Path, source: str, batch_size: int = 5_000) -> list[dict]:
    """Take in a CSV of `office_code,at,count` (count optional) in batches, each keyed by the
    file's content and its place in it: importing the same file again counts nothing twice.
    Read twice as a stream (its digest, then its rows): a batch at a time is in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            digest.update(block)
    key = digest.hexdigest()[:16]
    answers, events = [], []
    with path.open(encoding="utf-8-sig", newline="") as text:
        rows = csv.DictReader(text)
        missing = {"office_code", "at"} - set(rows.fieldnames or ())
        if missing:
            raise Problem("validation-failed", f"The CSV needs the columns office_code, at (and count); "
                                               f"missing: {', '.join(sorted(missing))}.")
        try:
            for row in rows:
                count = row.get("count") or ""
                events.append({"office_code": row["office_code"], "at": row["at"],
                               "count": int(count) if count.isdecimal() else count or 1})
                if len(events) == batch_size:
                    answers.append(ingest(source, f"{key}-{len(answers)}", events))
                    events = []
        except csv.Error as error:  # a field past the csv module's limit, a NUL: the file is not a CSV of events
            raise Problem("validation-failed", f"Line {rows.line_num + 1}: {error}. "
                                               f"{sum(a['accepted'] for a in answers)} events were counted before it.")
    if events:
        answers.append(ingest(source, f"{key}-{len(answers)}", events))
    return answers


def prune(now: datetime | None = None) -> tuple[int, int]:
    """Drop counts older than COUNT_DAYS and batch keys older than BATCH_DAYS."""
    now = now or utcnow()
    with unit_of_work():
        return repo.delete_before(now - timedelta(days=COUNT_DAYS), now - timedelta(days=BATCH_DAYS))
