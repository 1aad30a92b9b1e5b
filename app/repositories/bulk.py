"""Bulk writes of plain rows, for the aggregates whose rows come many at once (a push's reports)."""

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
