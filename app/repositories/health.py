"""The database itself: does it answer?"""

import sqlalchemy as sa

from app.extensions import db


def ping() -> None:
    """A trivial query; raises what the driver raises when the database is away."""
    db.session.execute(sa.text("SELECT 1"))
