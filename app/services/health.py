"""Liveness that means something: the database answers."""

from app.extensions import db
from app.services import database_answers


def check():
    if not database_answers():
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": db.engine.dialect.name}
