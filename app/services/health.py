"""Liveness that means something: the database answers."""

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db


def check():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": db.engine.dialect.name}
