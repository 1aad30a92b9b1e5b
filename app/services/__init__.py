"""Services: each public function is one use case and owns its one transaction."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.repositories import health as health_repo


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """The transaction of one write: committed once at the end, rolled back on any error.

    Repositories and helpers never commit; only a service, through this, does.
    """
    session = db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def end_read() -> None:
    """End a transaction that only read (a check before a long body, a batch of an export),
    so that nothing is held while the slow part runs: SQLite's reader, a pooled connection,
    a snapshot PostgreSQL would otherwise keep."""
    db.session.rollback()


def database_answers() -> bool:
    """Does the database answer a trivial query? (The transaction is ended either way.)"""
    try:
        health_repo.ping()
        return True
    except SQLAlchemyError:
        return False
    finally:
        db.session.rollback()
