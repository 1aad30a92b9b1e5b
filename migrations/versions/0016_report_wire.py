"""Each report's wire form (DESIGN §5.3: the record a pull sends, without `photos_pending`,
which depends on the uploads), kept with the report and written at each change, so that a
pull sends stored JSON instead of building it from the columns (issue 18), with the key it was
written under (the record's format and the report's version then): a record written by
other code, or in another format, is not sent. Reports written before have none: a pull
writes theirs from the columns, as before.

Revision ID: 8a4c6e0f3b57
Revises: 7f3b5d9e2a46
Create Date: 2026-12-02 14:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a4c6e0f3b57'
down_revision = '7f3b5d9e2a46'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('reports', sa.Column('wire', sa.Text(), nullable=True))
    op.add_column('reports', sa.Column('wire_key', sa.String(40), nullable=True))


def downgrade():
    op.drop_column('reports', 'wire_key')
    op.drop_column('reports', 'wire')
