"""Services: each public function is one use case and owns its one transaction."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
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
    """End a transaction that only read. On PostgreSQL with COMMIT, not ROLLBACK: for a read
    they are the same, but after a ROLLBACK psycopg drops every statement it had prepared on
    the connection (DEALLOCATE ALL, one more round trip) and each is then parsed and planned
    again until it has run five more times (psycopg's prepare_threshold); a pull ended so once
    per request kept the connections' statements from ever staying prepared. On SQLite, a
    ROLLBACK, as `end_read`.

    Only for a service that reads and nothing else: a session holding a change not yet
    flushed is refused (rolled back, RuntimeError), but a write already sent (flushed, a Core
    statement) cannot be told from here and would be committed. The pull's test checks, on
    PostgreSQL, that a pull writes no row (tests/sync/test_pull_ends_by_commit.py), and a
    served one that its connection is left committed (tests/live_server/test_pull_prepared_live.py)."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.rollback()
        raise RuntimeError("commit_read: the session holds a change to write; this is for a transaction that "
                           "only read")
    if session.get_bind().dialect.name == "postgresql":
        session.commit()
    else:
        session.rollback()


def database_answers() -> bool:
    """Does the database answer a trivial query? (The transaction is ended either way.)

    A pooled connection the database dropped (a restart, an operator's pg_terminate_backend)
    is found out only when used, and SQLAlchemy then recycles the pool: the question is asked
    once more, on a new connection, so that the answer is about the database and not about a
    connection it dropped a moment ago (a load balancer would take a healthy server out)."""
    answered = _pinged()
    if answered is None:
        answered = _pinged()
    return bool(answered)


def _pinged() -> bool | None:
    """True if the database answered, False if not, None if the connection used had been dropped."""
    try:
        health_repo.ping()
        return True
    except DBAPIError as error:
        return None if error.connection_invalidated else False
    except SQLAlchemyError:
        return False
    finally:
        db.session.rollback()
