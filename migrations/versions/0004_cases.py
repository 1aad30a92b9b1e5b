"""Violation cases and their audit log.

Revision ID: 7d2dbf659341
Revises: 5657d2f6d950
Create Date: 2026-11-29 05:55:13.075327

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2dbf659341'
down_revision = '5657d2f6d950'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('violation_cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('office_id', sa.Uuid(), nullable=False),
    sa.Column('district', sa.Integer(), nullable=False),
    sa.Column('jalali_date', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=True),
    sa.Column('penalty', sa.String(length=20), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'under_review', 'confirmed', 'dismissed', 'withdrawn')", name=op.f('ck_violation_cases_status')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_violation_cases_decided_by_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_violation_cases_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_violation_cases')),
    sa.UniqueConstraint('office_id', 'jalali_date', name='uq_violation_cases_office_day')
    )
    op.create_index(op.f('ix_violation_cases_district'), 'violation_cases', ['district'], unique=False)
    op.create_index(op.f('ix_violation_cases_jalali_date'), 'violation_cases', ['jalali_date'], unique=False)
    op.create_index(op.f('ix_violation_cases_office_id'), 'violation_cases', ['office_id'], unique=False)
    op.create_index(op.f('ix_violation_cases_status'), 'violation_cases', ['status'], unique=False)
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['violation_cases.id'], name=op.f('fk_case_events_case_id_violation_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index(op.f('ix_case_events_case_id'), 'case_events', ['case_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_case_events_case_id'), table_name='case_events')
    op.drop_table('case_events')
    op.drop_index(op.f('ix_violation_cases_status'), table_name='violation_cases')
    op.drop_index(op.f('ix_violation_cases_office_id'), table_name='violation_cases')
    op.drop_index(op.f('ix_violation_cases_jalali_date'), table_name='violation_cases')
    op.drop_index(op.f('ix_violation_cases_district'), table_name='violation_cases')
    op.drop_table('violation_cases')
