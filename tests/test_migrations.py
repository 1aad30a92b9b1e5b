"""The schema comes from Alembic migrations alone, from an empty database of either kind."""

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from geoalchemy2 import alembic_helpers

from app import create_app
from app.database import own_tables_only
from app.extensions import db
from app.services import seed
from tests.support import fresh_database_url

OUR_TABLES = {"districts", "offices", "users", "user_districts", "devices", "api_tokens",
              "hours_rules", "holidays", "hours_changes", "changes", "reports", "report_versions", "op_ledger",
              "sync_conflicts", "quarantine", "attachments", "attachment_senders", "attachment_uploads",
              "office_corrections", "activity_counts", "activity_batches", "activity_hours", "signal_days", "signals",
              "signal_events"}


@pytest.fixture
def empty_app(database_url, tmp_path):
    url = fresh_database_url(database_url, "migrations", tmp_path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()


def _tables(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names()) & (OUR_TABLES | {"alembic_version"})


def test_upgrade_from_empty_builds_every_table_and_matches_the_models(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "include_name": own_tables_only(db.metadata),
                "include_object": alembic_helpers.include_object,
            })
            diff = compare_metadata(context, db.metadata)
    assert _tables(empty_app) >= OUR_TABLES
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert _tables(empty_app) == {"alembic_version"}
        flask_migrate.upgrade()
    assert _tables(empty_app) >= OUR_TABLES


@pytest.mark.concurrency  # seeds its own database: not inside the leg's rolled-back transaction
def test_cases_judged_before_findings_get_theirs_read_back_from_their_reasons(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        seed.seed("demo-password")
        assert seed.demo_reports() == 6
    events = sa.table("case_events", sa.column("id", sa.Integer()), sa.column("detail", sa.JSON()))
    cases = sa.table("violation_cases", sa.column("id", sa.Uuid()), sa.column("findings", sa.JSON()))
    with empty_app.app_context():
        with db.engine.begin() as connection:
            judged = dict(connection.execute(sa.select(cases.c.id, cases.c.findings)).all())
            logged = dict(connection.execute(sa.select(events.c.id, events.c.detail)).all())
        assert judged and all(judged.values())
        flask_migrate.downgrade(revision="6e0f3a9d2c17")  # just before findings
        with db.engine.begin() as connection:  # the events as they were written then
            for event_id, detail in logged.items():
                connection.execute(events.update().where(events.c.id == event_id).values(
                    detail={k: v for k, v in detail.items() if k != "findings"}))
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            assert dict(connection.execute(sa.select(cases.c.id, cases.c.findings)).all()) == judged
            assert dict(connection.execute(sa.select(events.c.id, events.c.detail)).all()) == logged


def test_photo_senders_are_backfilled_with_each_photos_uploader_and_downgrade_keeps_the_photos(empty_app):
    before_senders = "e56378c7d385"  # 0009, the revision before 0010_attachment_senders
    with empty_app.app_context():
        flask_migrate.upgrade(revision=before_senders)
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO users (id, username, full_name, role, password_hash, active, created_at) "
                "VALUES (7001, 'inspector-old', '', 'inspector', 'x', true, '2026-03-20 08:00:00')"))
            for sha, uploader in (("a" * 64, "7001"), ("b" * 64, "NULL")):
                connection.execute(sa.text(
                    "INSERT INTO attachments (sha256, size, content_type, uploaded_by, created_at) "
                    f"VALUES ('{sha}', 10, 'image/jpeg', {uploader}, '2026-03-20 08:00:00')"))
            connection.execute(sa.text(
                "INSERT INTO attachment_uploads (sha256, total, content_type, user_id, updated_at) "
                f"VALUES ('{'c' * 64}', 100, 'image/jpeg', 7001, '2026-03-20 08:00:00')"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            senders = connection.execute(sa.text("SELECT sha256, user_id FROM attachment_senders")).all()
            uploads = connection.execute(sa.text("SELECT count(*) FROM attachment_uploads")).scalar()
        assert [tuple(row) for row in senders] == [("a" * 64, 7001)] and uploads == 0
        flask_migrate.downgrade(revision=before_senders)
        with db.engine.connect() as connection:
            kept = connection.execute(sa.text("SELECT sha256 FROM attachments ORDER BY sha256")).scalars().all()
        assert kept == ["a" * 64, "b" * 64]
        assert "attachment_senders" not in sa.inspect(db.engine).get_table_names()


@pytest.mark.concurrency  # seeds its own database: not inside the leg's rolled-back transaction
def test_feed_rows_of_reports_landed_before_get_the_version_they_made(empty_app):
    """WatermelonDB's merge base reads a report's version at a feed position from the feed
    (0013): the rows written before it are given theirs from the versions kept then."""
    changes = sa.table("changes", sa.column("seq", sa.Integer()), sa.column("entity", sa.String()),
                       sa.column("version", sa.Integer()))
    with empty_app.app_context():
        flask_migrate.upgrade()
        seed.seed("demo-password")
        assert seed.demo_reports() == 6
        reports = sa.select(changes.c.seq, changes.c.version).where(changes.c.entity == "reports")
        with db.engine.begin() as connection:
            written = dict(connection.execute(reports).all())
        assert written and all(written.values())
        flask_migrate.downgrade(revision="4c8a2e6f0b13")  # just before 0013
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            assert dict(connection.execute(reports).all()) == written


@pytest.mark.concurrency  # seeds its own database: not inside the leg's rolled-back transaction
def test_activity_counted_before_the_signals_gets_its_tehran_hours(empty_app):
    """The detector's history is read by Tehran hour (0015): the minutes counted before it are
    summed into their hours, on the hour of Tehran's clock (+03:30), not of UTC."""
    from app.services import activity

    with empty_app.app_context():
        flask_migrate.upgrade()
        seed.seed("demo-password")
        answer = activity.ingest("platform", "before", [
            {"office_code": "TEH-06-01", "at": "2026-03-25T08:15:03+03:30", "count": 2},
            {"office_code": "TEH-06-01", "at": "2026-03-25T08:59:59+03:30"},
            {"office_code": "TEH-06-01", "at": "2026-03-25T09:00:00+03:30", "count": 4}])
        assert answer["status"] == "applied" and answer["accepted"] == 3, answer
        hours = sa.text("SELECT hour, count FROM activity_hours ORDER BY hour")
        with db.engine.begin() as connection:
            written = connection.execute(hours).all()
        assert [count for _, count in written] == [3, 4]
        flask_migrate.downgrade(revision="6e2a4c8b1d35")  # just before 0015
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            assert connection.execute(hours).all() == written
            # the day is known to have activity: its signals are worked out when read
            assert connection.execute(sa.text("SELECT day, activity_seq FROM signal_days")).all() == [("1405-01-05", 1)]
