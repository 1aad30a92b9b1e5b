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


def commit_read() -> None:
    """End a transaction that only read with COMMIT, not ROLLBACK: for a read they are the
    same, but after a ROLLBACK psycopg drops every statement it had prepared on the
    connection (DEALLOCATE ALL, one more round trip) and each is then parsed and planned again
    until it has run five more times (psycopg's prepare_threshold). A pull ended so once per
    request kept the connections' statements from ever staying prepared. Refused where the
    session holds a change it would write."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("commit_read: the session holds changes; this is for a transaction that only read")
    session.commit()


def database_answers() -> bool:
    """Does the database answer a trivial query? (The transaction is ended either way.)"""
    try:
        health_repo.ping()
        return True
    except SQLAlchemyError:
        return False
    finally:
        db.session.rollback()
