"""Reports' rows kept uncompressed up to the size of a page (PostgreSQL).

Since each report keeps its wire record beside its columns (0016), a report's row is some
2–2.5 KB, past PostgreSQL's default threshold of 2 KB, past which it compresses the row's
longest values (pglz) as it writes them and decompresses them as it reads them. For a push
of 500 reports that compression was a quarter of the database's time on the COPY (issue 18,
measured in one run against the default: 37–61 ms → 24–43 ms). A row is now compressed, or
moved out of line, only past 8,160 bytes, the most a heap page holds (a report with long
notes, whose text the wire record repeats); the table takes more room on disk, a few hundred
bytes a report. SQLite has no such setting.

Revision ID: 9b5d7f1a4c68
Revises: 8a4c6e0f3b57
Create Date: 2026-12-03 09:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9b5d7f1a4c68'
down_revision = '8a4c6e0f3b57'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE reports SET (toast_tuple_target = 8160)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE reports RESET (toast_tuple_target)")
