"""An upload in pieces keeps how many bytes have arrived as of its last commit: the file may
hold more, appended by a request whose transaction then failed. Uploads in progress start
again from 0 (their row did not say).

Revision ID: 3b7e5d1f9a60
Revises: 9e4f2a6c1d08
Create Date: 2026-12-01 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b7e5d1f9a60'
down_revision = '9e4f2a6c1d08'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachment_uploads') as batch_op:
        batch_op.add_column(sa.Column('received', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('attachment_uploads') as batch_op:
        batch_op.drop_column('received')
