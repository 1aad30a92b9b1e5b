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
              "sync_conflicts", "quarantine", "attachments", "attachment_uploads", "office_corrections"}


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
