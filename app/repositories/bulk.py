"""Bulk writes of plain rows, for the aggregates whose rows come many at once (a push's reports)."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def flush() -> None:
    """Send the session's pending ORM changes, for Core statements that refer to them."""
    db.session.flush()


def insert_many(model, rows: list[dict]) -> None:
    """Plain rows (every one with the same keys) in one executemany of a Core INSERT on the
    model's table, in the session's transaction. Core, not the ORM's bulk insert: that
    sorts and checks every row against the mapper first, which costs more than the INSERT.
    The column types still bind each value: UTC instants, JSON, and geometries through
    GeoAlchemy2's bind expression (`ST_GeomFromEWKT`)."""
    if rows:
        db.session.execute(model.__table__.insert(), rows)


def insert(table):
    """The database's own INSERT on `table`, which spells ON CONFLICT (both databases do)."""
    return (postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite).insert(table)


def one_of(column, values: list):
    """`column IN values`; on PostgreSQL as `column = ANY(array)`, one bound array: the text
    of the statement is then the same whatever the count, so SQLAlchemy and psycopg write it
    and PostgreSQL plans it once, where an IN list of a pull page's 2,000 ids cost more to
    write out and parse than the query took to run. SQLite has no arrays: an IN list there
    (at most 32,766 values a statement)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))
