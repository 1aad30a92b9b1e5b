"""Rules' publication times to the whole second, as the wire carries them: the later-published
rule wins a tie of scope, and a phone that works the hours out from the wire (the inspector's
app) must see the same order as the server. New times are cut when written
(app/services/hours.py); this cuts the ones written before.

Revision ID: 4c8a2e6f0b13
Revises: 3b7e5d1f9a60
Create Date: 2026-12-02 00:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4c8a2e6f0b13'
down_revision = '3b7e5d1f9a60'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE hours_rules SET published_at = date_trunc('second', published_at) "
                   "WHERE published_at <> date_trunc('second', published_at)")
    else:  # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff'
        op.execute("UPDATE hours_rules SET published_at = substr(published_at, 1, 19) || '.000000' "
                   "WHERE length(published_at) > 19 AND substr(published_at, 20) <> '.000000'")


def downgrade():
    pass  # the microseconds are gone; the cut times are valid times
