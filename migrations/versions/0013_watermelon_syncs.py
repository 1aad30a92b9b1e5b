"""WatermelonDB's protocol (DESIGN §5.8): each token's syncs (the positions it pulled from
and to, and when), so that a push's merge base is the position the phone held when it
edited; the version each report change put on the feed (a report as of a position); and an
index to find a record's feed rows by id (created or updated, a report's version then).

Revision ID: 5d9b3f7a2c14
Revises: 4c8a2e6f0b13
Create Date: 2026-12-02 06:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d9b3f7a2c14'
down_revision = '4c8a2e6f0b13'
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('changes') as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
    op.create_index('ix_changes_entity_id_seq', 'changes', ['entity_id', 'seq'])
    op.create_table(
        'watermelon_syncs',
        sa.Column('id', BigInt, primary_key=True, autoincrement=True),
        sa.Column('token_id', sa.Integer(), sa.ForeignKey('api_tokens.id', ondelete='CASCADE'), nullable=False),
        sa.Column('kind', sa.String(length=4), nullable=False),
        sa.Column('sent', BigInt, nullable=True),
        sa.Column('answered', BigInt, nullable=False),
        sa.Column('districts', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_watermelon_syncs_token_id', 'watermelon_syncs', ['token_id', 'id'])


def downgrade():
    op.drop_index('ix_watermelon_syncs_token_id', table_name='watermelon_syncs')
    op.drop_table('watermelon_syncs')
    op.drop_index('ix_changes_entity_id_seq', table_name='changes')
    with op.batch_alter_table('changes') as batch_op:
        batch_op.drop_column('version')
