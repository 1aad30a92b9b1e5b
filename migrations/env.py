"""Alembic environment: the app's engine, GeoAlchemy2's spatial helpers, both databases."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

from app.database import own_tables_only

config = context.config
if config.config_file_name is not None:
    # Keep the app's loggers working when migrations run inside it (tests, `make run`).
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
target_metadata = target_db.metadata


def render_item(type_, obj, autogen_context):
    # Migrations must not import the app: its UTC wrapper is a plain timestamptz column.
    from app.database import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return alembic_helpers.render_item(type_, obj, autogen_context)


def process_revision_directives(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")
        return
    alembic_helpers.writer.process_revision_directives(context_, revision, directives)


def run_migrations_online() -> None:
    engine = target_db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_name=own_tables_only(target_metadata),
            include_object=alembic_helpers.include_object,
            process_revision_directives=process_revision_directives,
            render_item=render_item,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `flask --app app db upgrade`.")
run_migrations_online()
