"""The platform's activity taken in (DESIGN §10b): `POST /api/v1/activity` by the feed's
machine account and `flask import-activity`, counted per office and minute, each batch once,
a bad event refused by its index alone."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import ActivityCount, ActivityHour, ActivitySource, Office, OfficeSource
from tests.support import assert_problem

URL = "/api/v1/activity"
FEED = "feed-platform"


def counted(app_context, code: str) -> dict[str, int]:
    """The minutes counted for an office: {ISO minute (UTC): count}."""
    office_id = db.session.scalar(sa.select(Office.id).where(Office.code == code))
    rows = db.session.execute(sa.select(ActivityCount.minute, ActivityCount.count)
                              .where(ActivityCount.office_id == office_id).order_by(ActivityCount.minute))
    return {minute.isoformat(): count for minute, count in rows}


def batch(batch_id="b-1", events=None, source="platform"):
    return {"source": source, "batch_id": batch_id, "events": events if events is not None else [
        {"office_code": "TEH-06-01", "at": "2026-03-25T08:15:03+03:30", "count": 2},
        {"office_code": "TEH-06-01", "at": "2026-03-25T08:15:59+03:30"},
        {"office_code": "TEH-06-01", "at": "2026-03-25T04:46:00Z", "count": 1},
    ]}


def test_a_batch_is_counted_per_office_and_minute(client, app_context):
    answer = client.as_(FEED).post(URL, json=batch())
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() | {"rejected": None} == {"source": "platform", "batch_id": "b-1", "status": "applied",
                                                      "accepted": 3, "rejected": None}
    assert counted(app_context, "TEH-06-01") == {"2026-03-25T04:45:00+00:00": 3, "2026-03-25T04:46:00+00:00": 1}


def test_a_batch_sent_again_counts_nothing_twice(client, app_context):
    feed = client.as_(FEED)
    assert feed.post(URL, json=batch()).get_json()["status"] == "applied"
    again = feed.post(URL, json=batch())
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert counted(app_context, "TEH-06-01") == {"2026-03-25T04:45:00+00:00": 3, "2026-03-25T04:46:00+00:00": 1}
    # A later batch adds to the same minutes.
    feed.post(URL, json=batch("b-2", [{"office_code": "TEH-06-01", "at": "2026-03-25T08:15:30+03:30"}]))
    assert counted(app_context, "TEH-06-01")["2026-03-25T04:45:00+00:00"] == 4


def test_the_same_key_with_other_events_is_refused_and_counts_nothing(client, app_context):
    feed = client.as_(FEED)
    feed.post(URL, json=batch())
    other = feed.post(URL, json=batch(events=[{"office_code": "TEH-06-02", "at": "2026-03-25T08:20:00+03:30"}]))
    assert_problem(other, 409)["type"].endswith("batch-mismatch")
    assert counted(app_context, "TEH-06-02") == {}


def test_a_bad_event_is_refused_by_its_index_and_the_rest_are_counted(client, app_context):
    events = [{"office_code": "TEH-06-01", "at": "2026-03-25T08:15:00+03:30"},
              {"office_code": "NOPE-99", "at": "2026-03-25T08:15:00+03:30"},
              {"office_code": "TEH-06-01", "at": "2026-03-25 08:15"},
              {"office_code": "TEH-06-01", "at": "2099-01-01T00:00:00Z"},
              {"office_code": "TEH-06-01", "at": "2026-03-25T08:15:00+03:30", "count": 0},
              {"office_code": "TEH-06-01", "at": "2026-03-25T08:15:00+03:30", "count": True},
              "not an event",
              {"office_code": "TEH-06-01", "at": "2026-03-25T08:16:00+03:30", "extra": 1}]
    answer = client.as_(FEED).post(URL, json=batch(events=events)).get_json()
    assert answer["accepted"] == 1
    refused = {r["index"]: set(r["errors"]) for r in answer["rejected"]}
    assert refused == {1: {"office_code"}, 2: {"at"}, 3: {"at"}, 4: {"count"}, 5: {"count"}, 6: {"event"},
                       7: {"event"}}
    assert counted(app_context, "TEH-06-01") == {"2026-03-25T04:45:00+00:00": 1}


def test_a_malformed_batch_is_refused_whole_naming_the_field(client):
    feed = client.as_(FEED)
    assert_problem(feed.post(URL, json={"batch_id": "b", "events": []}), 422, "source")
    assert_problem(feed.post(URL, json={"source": "p", "batch_id": "no spaces", "events": []}), 422, "batch_id")
    assert_problem(feed.post(URL, json={"source": "p", "batch_id": "b", "events": {}}), 422, "events")
    too_many = [{"office_code": "TEH-06-01", "at": "2026-03-25T08:15:00+03:30"}] * 10_001
    assert_problem(feed.post(URL, json=batch(events=too_many)), 413)


def test_only_the_feed_account_posts_activity_and_it_reads_nothing(client):
    assert_problem(client.as_("admin").post(URL, json=batch()), 403)
    assert_problem(client.as_(FEED).get("/api/v1/offices"), 403)
    assert_problem(client.as_(FEED).post("/api/v1/sync/pull", json={}), 403)


def test_a_csv_is_imported_in_batches_and_importing_it_again_counts_nothing_twice(app, app_context, tmp_path):
    rows = ["office_code,at,count", "TEH-06-01,2026-03-25T08:15:00+03:30,3", "TEH-06-01,2026-03-25T08:15:40+03:30,",
            "NOPE-1,2026-03-25T08:15:00+03:30,1"]
    path = tmp_path / "activity.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    first = app.test_cli_runner().invoke(args=["import-activity", str(path)])
    assert first.exit_code == 0, first.output
    assert "2 events counted, 1 refused" in first.output and "line 4: office_code" in first.output
    again = app.test_cli_runner().invoke(args=["import-activity", str(path)])
    assert "taken in before" in again.output
    assert counted(app_context, "TEH-06-01") == {"2026-03-25T04:45:00+00:00": 4}


def test_a_minute_added_to_past_any_office_can_serve_is_held_there_not_overflowed(client, app_context):
    """Batch after batch of the largest counts on one minute: every batch is taken in (none
    fails on the column's range, on either database), the minute held at 100,000."""
    feed = client.as_(FEED)
    for n in range(3):
        events = [{"office_code": "TEH-06-01", "at": "2026-03-25T08:15:00+03:30", "count": 100_000}] * 10_000
        assert feed.post(URL, json=batch(f"huge-{n}", events)).get_json()["status"] == "applied"
    assert counted(app_context, "TEH-06-01") == {"2026-03-25T04:45:00+00:00": 100_000}


def test_an_instant_is_bucketed_by_its_utc_minute_whatever_its_offset(client, app_context):
    events = [{"office_code": "TEH-06-01", "at": "2026-03-25T08:15:30+03:30:30"},  # 04:45:00 UTC
              {"office_code": "TEH-06-01", "at": "2026-03-25T10:30:10+05:45"}]  # 04:45:10 UTC
    assert client.as_(FEED).post(URL, json=batch("offsets", events)).get_json()["accepted"] == 2
    assert counted(app_context, "TEH-06-01") == {"2026-03-25T04:45:00+00:00": 2}


def test_an_event_older_than_what_is_kept_is_refused_by_its_index(client, app_context):
    answer = client.as_(FEED).post(URL, json=batch("old", [{"office_code": "TEH-06-01", "at": "2001-01-01T08:00:00Z"}]))
    assert answer.get_json()["rejected"][0]["index"] == 0 and "400 days" in answer.get_json()["rejected"][0]["errors"]["at"][0]


def test_a_csv_with_a_field_past_any_limit_is_refused_with_its_line_not_a_traceback(app, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("office_code,at,count\nTEH-06-01,2026-03-25T08:15:00+03:30,1\nTEH-06-01," + "x" * 200_000 + ",1\n")
    result = app.test_cli_runner().invoke(args=["import-activity", str(path)])
    assert result.exit_code == 1 and "Line 3" in result.output and "field larger" in result.output, result.output


def test_an_instant_a_hair_before_the_next_minute_counts_in_its_own(client, app_context):
    events = [{"office_code": "TEH-06-01", "at": "2026-03-25T08:15:59.999999+03:30"}]
    assert client.as_(FEED).post(URL, json=batch("edge", events)).get_json()["accepted"] == 1
    assert counted(app_context, "TEH-06-01") == {"2026-03-25T04:45:00+00:00": 1}


def test_the_bounds_of_what_is_taken_are_exact(client, app_context, monkeypatch):
    """A clock five minutes ahead is taken, a microsecond more is not; the same at the oldest
    kept instant, 400 days back."""
    now = datetime(2026, 3, 25, 8, 0, tzinfo=UTC)
    monkeypatch.setattr("app.services.activity.utcnow", lambda: now)
    at = [now + timedelta(minutes=5), now + timedelta(minutes=5, microseconds=1),
          now - timedelta(days=400), now - timedelta(days=400, microseconds=1)]
    events = [{"office_code": "TEH-06-01", "at": instant.isoformat()} for instant in at]
    answer = client.as_(FEED).post(URL, json=batch("bounds", events)).get_json()
    assert answer["accepted"] == 2
    assert {r["index"] for r in answer["rejected"]} == {1, 3}


def test_a_tehran_midnight_splits_the_hours_and_the_days_each_with_its_last_minute(client, app_context):
    """23:59 and 00:00 in Tehran (20:29 and 20:30 UTC) fall on two Jalali days, each day's
    last minute noted for its source, and in two Tehran hours."""
    events = [{"office_code": "TEH-06-01", "at": "2026-03-25T20:29:00Z", "count": 2},
              {"office_code": "TEH-06-01", "at": "2026-03-25T20:30:00Z", "count": 3}]
    assert client.as_(FEED).post(URL, json=batch("midnight", events)).get_json()["accepted"] == 2
    office_id = db.session.scalar(sa.select(Office.id).where(Office.code == "TEH-06-01"))
    hours = dict(db.session.execute(sa.select(ActivityHour.hour, ActivityHour.count)
                                    .where(ActivityHour.office_id == office_id)).all())
    assert {hour.astimezone(UTC).isoformat(): count for hour, count in hours.items()} == {
        "2026-03-25T19:30:00+00:00": 2, "2026-03-25T20:30:00+00:00": 3}
    assert _last_minutes("platform") == {"1405-01-05": "2026-03-25T20:29:00+00:00",
                                         "1405-01-06": "2026-03-25T20:30:00+00:00"}


def test_a_source_s_last_minute_only_moves_on_and_an_office_goes_with_its_latest_source(client, app_context):
    feed = client.as_(FEED)
    feed.post(URL, json=batch("late", [{"office_code": "TEH-06-01", "at": "2026-03-25T10:00:00+03:30"}]))
    feed.post(URL, json=batch("early", [{"office_code": "TEH-06-01", "at": "2026-03-25T09:00:00+03:30"}]))
    assert _last_minutes("platform") == {"1405-01-05": "2026-03-25T06:30:00+00:00"}
    assert _source_of("TEH-06-01") == "platform"
    feed.post(URL, json=batch("gw-1", [{"office_code": "TEH-06-01", "at": "2026-03-25T09:30:00+03:30"}], "gateway"))
    assert _source_of("TEH-06-01") == "gateway"
    assert _last_minutes("gateway") == {"1405-01-05": "2026-03-25T06:00:00+00:00"}
    assert _last_minutes("platform") == {"1405-01-05": "2026-03-25T06:30:00+00:00"}  # its own, untouched
    feed.post(URL, json=batch("gw-2", [{"office_code": "TEH-06-01", "at": "2026-03-25T09:31:00+03:30"}], "gateway"))
    assert _source_of("TEH-06-01") == "gateway"


def _last_minutes(source: str) -> dict[str, str]:
    rows = db.session.execute(sa.select(ActivitySource.day, ActivitySource.last_minute)
                              .where(ActivitySource.source == source))
    return {day: minute.astimezone(UTC).isoformat() for day, minute in rows}


def _source_of(code: str) -> str | None:
    return db.session.scalar(sa.select(OfficeSource.source).join(Office, Office.id == OfficeSource.office_id)
                             .where(Office.code == code))
