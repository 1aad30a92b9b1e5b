"""The op ledger keeps a digest of what each op carried, so a replay must match it.

Revision ID: 6e0f3a9d2c17
Revises: 5b1d7c0e9a42
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6e0f3a9d2c17'
down_revision = '5b1d7c0e9a42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('op_ledger') as batch_op:
        batch_op.add_column(sa.Column('digest', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('op_ledger') as batch_op:
        batch_op.drop_column('digest')
