"""Rounds: a district's offices for a day split among its inspectors, in planned order.

Revision ID: 80ec00fae3f7
Revises: 3c9e2a71b5d4
Create Date: 2026-11-29 08:39:43.875915

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '80ec00fae3f7'
down_revision = '3c9e2a71b5d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rounds',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('district', sa.Integer(), nullable=False),
    sa.Column('jalali_date', sa.String(length=10), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('planned_minutes', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('balanced', 'manual')", name=op.f('ck_rounds_method')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_rounds_created_by_users')),
    sa.ForeignKeyConstraint(['district'], ['districts.number'], name=op.f('fk_rounds_district_districts')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_rounds_inspector_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rounds')),
    sa.UniqueConstraint('jalali_date', 'inspector_id', name='uq_rounds_inspector_day')
    )
    op.create_index(op.f('ix_rounds_district'), 'rounds', ['district'], unique=False)
    op.create_index(op.f('ix_rounds_inspector_id'), 'rounds', ['inspector_id'], unique=False)
    op.create_index(op.f('ix_rounds_jalali_date'), 'rounds', ['jalali_date'], unique=False)
    op.create_table('round_stops',
    sa.Column('round_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('office_id', sa.Uuid(), nullable=False),
    sa.Column('jalali_date', sa.String(length=10), nullable=False),
    sa.Column('eta_minute', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_round_stops_office_id_offices')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_stops_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'seq', name=op.f('pk_round_stops')),
    sa.UniqueConstraint('jalali_date', 'office_id', name='uq_round_stops_office_day')
    )
    op.create_index(op.f('ix_round_stops_office_id'), 'round_stops', ['office_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_round_stops_office_id'), table_name='round_stops')
    op.drop_table('round_stops')
    op.drop_index(op.f('ix_rounds_jalali_date'), table_name='rounds')
    op.drop_index(op.f('ix_rounds_inspector_id'), table_name='rounds')
    op.drop_index(op.f('ix_rounds_district'), table_name='rounds')
    op.drop_table('rounds')
