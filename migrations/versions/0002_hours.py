"""Mandated-hours rules, official holidays and their change log.

Revision ID: 2d58a2eabfd9
Revises: ebaf3de61887
Create Date: 2026-11-29 05:04:29.335763

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2d58a2eabfd9'
down_revision = 'ebaf3de61887'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('holidays',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('jalali_date', sa.String(length=10), nullable=False),
    sa.Column('gregorian_date', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_holidays_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holidays')),
    sa.UniqueConstraint('jalali_date', 'title', name='uq_holidays_jalali_date_title')
    )
    op.create_index(op.f('ix_holidays_gregorian_date'), 'holidays', ['gregorian_date'], unique=False)
    op.create_index(op.f('ix_holidays_jalali_date'), 'holidays', ['jalali_date'], unique=False)
    op.create_table('hours_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('reevaluated_flags', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hours_changes_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_changes'))
    )
    op.create_index(op.f('ix_hours_changes_at'), 'hours_changes', ['at'], unique=False)
    op.create_index(op.f('ix_hours_changes_entity_id'), 'hours_changes', ['entity_id'], unique=False)
    op.create_table('hours_rules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('from_month', sa.Integer(), nullable=False),
    sa.Column('from_day', sa.Integer(), nullable=False),
    sa.Column('to_month', sa.Integer(), nullable=False),
    sa.Column('to_day', sa.Integer(), nullable=False),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('windows', sa.JSON(), nullable=False),
    sa.Column('exempt_categories', sa.JSON(), nullable=False),
    sa.Column('on_holidays', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('open', 'closed')", name=op.f('ck_hours_rules_kind')),
    sa.CheckConstraint('from_month BETWEEN 1 AND 12 AND to_month BETWEEN 1 AND 12', name=op.f('ck_hours_rules_months')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_hours_rules_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_rules'))
    )
    op.create_index(op.f('ix_hours_rules_scope'), 'hours_rules', ['scope'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_hours_rules_scope'), table_name='hours_rules')
    op.drop_table('hours_rules')
    op.drop_index(op.f('ix_hours_changes_entity_id'), table_name='hours_changes')
    op.drop_index(op.f('ix_hours_changes_at'), table_name='hours_changes')
    op.drop_table('hours_changes')
    op.drop_index(op.f('ix_holidays_jalali_date'), table_name='holidays')
    op.drop_index(op.f('ix_holidays_gregorian_date'), table_name='holidays')
    op.drop_table('holidays')
