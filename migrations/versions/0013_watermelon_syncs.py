"""WatermelonDB's protocol (DESIGN §5.8): each token's syncs (the positions it pulled from
and to, and when), so that a push's merge base is the position the phone held when it
edited; the version each report change put on the feed (a report as of a position); and an
index to find a record's feed rows by id (created or updated, a report's version then); the
version each landed update was based on (a phone's own last op tells what it held after it).

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
    with op.batch_alter_table('op_ledger') as batch_op:
        batch_op.add_column(sa.Column('base_version', sa.Integer(), nullable=True))
    op.create_index('ix_changes_entity_id_seq', 'changes', ['entity_id', 'seq'])
    # The version each report change made, for the changes already on the feed: the latest
    # kept by the time of the change (a version is kept in the transaction that puts it on
    # the feed, stamped no later). SQLite keeps a Uuid as 32 hex digits, the feed as text.
    if op.get_bind().dialect.name == "postgresql":
        same_report = ("rv.report_id = CASE WHEN changes.entity_id ~ '^[0-9a-f-]{36}$' "
                       "THEN changes.entity_id::uuid END")
    else:
        same_report = "rv.report_id = replace(changes.entity_id, '-', '')"
    op.execute(f"UPDATE changes SET version = (SELECT max(rv.version) FROM report_versions rv "
               f"WHERE {same_report} AND rv.at <= changes.at) WHERE entity = 'reports' AND version IS NULL")
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
    with op.batch_alter_table('op_ledger') as batch_op:
        batch_op.drop_column('base_version')
    with op.batch_alter_table('changes') as batch_op:
        batch_op.drop_column('version')
