"""Coverage maps: an index to find an office's latest report in one seek.

Revision ID: 3c9e2a71b5d4
Revises: 7d2dbf659341
Create Date: 2026-11-29 09:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c9e2a71b5d4'
down_revision = '7d2dbf659341'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_reports_office_evidence', 'reports', ['office_id', 'evidence_time', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_reports_office_evidence', table_name='reports')
