"""Services: each public function is one use case and owns its one transaction."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from app.extensions import db


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
