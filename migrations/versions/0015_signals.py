"""Systemic monitoring's signals (DESIGN §10b): each office's activity by Tehran hour (the
detector's history), each day's signals and the keys they were worked out from, and every
signal's history (its states, the field reports that confirmed or cleared it).

The hours are filled from the minutes already counted.

Revision ID: 7f3b5d9e2a46
Revises: 6e2a4c8b1d35
Create Date: 2026-12-02 09:30:00

"""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7f3b5d9e2a46'
down_revision = '6e2a4c8b1d35'
branch_labels = None
depends_on = None

TEHRAN = ZoneInfo("Asia/Tehran")


def upgrade():
    op.create_table(
        'activity_hours',
        sa.Column('office_id', sa.Uuid(), sa.ForeignKey('offices.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('hour', sa.DateTime(timezone=True), primary_key=True),
        sa.Column('count', sa.Integer(), nullable=False),
    )
    op.create_index('ix_activity_hours_hour', 'activity_hours', ['hour'])
    op.create_table(
        'signal_days',
        sa.Column('day', sa.String(length=10), primary_key=True),
        sa.Column('activity_seq', sa.BigInteger(), nullable=False, server_default='0'),
        sa.Column('evaluated_seq', sa.BigInteger(), nullable=True),
        sa.Column('hours_key', sa.BigInteger(), nullable=True),
        sa.Column('reports_key', sa.String(length=64), nullable=True),
        sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    )
    big = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'signals',
        sa.Column('id', big, primary_key=True, autoincrement=True),
        sa.Column('office_id', sa.Uuid(), sa.ForeignKey('offices.id', ondelete='CASCADE'), nullable=False),
        sa.Column('district', sa.Integer(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('window_start', sa.String(length=5), nullable=False),
        sa.Column('window_end', sa.String(length=5), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('reason_code', sa.String(length=40), nullable=False),
        sa.Column('silent_from', sa.DateTime(timezone=True), nullable=True),
        sa.Column('silent_to', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expected', sa.Double(), nullable=False),
        sa.Column('observed', sa.Integer(), nullable=False),
        sa.Column('confidence', sa.Double(), nullable=True),
        sa.Column('judged_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('suspected_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('field_status', sa.String(length=10), nullable=True),
        sa.Column('field_report_id', sa.Uuid(), nullable=True),
        sa.Column('field_state', sa.String(length=24), nullable=True),
        sa.Column('field_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('office_id', 'day', 'window_start', name='uq_signals_office_day_window'),
    )
    op.create_index('ix_signals_day_district', 'signals', ['day', 'district'])
    op.create_table(
        'signal_events',
        sa.Column('id', big, primary_key=True, autoincrement=True),
        sa.Column('office_id', sa.Uuid(), sa.ForeignKey('offices.id', ondelete='CASCADE'), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('window_start', sa.String(length=5), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
    )
    op.create_index('ix_signal_events_office_day', 'signal_events', ['office_id', 'day'])
    _fill_hours()


def _fill_hours() -> None:
    """activity_hours from activity_counts, a Tehran hour at a time, read as a stream."""
    bind = op.get_bind()
    minutes = sa.table('activity_counts', sa.column('office_id', sa.Uuid()),
                       sa.column('minute', sa.DateTime(timezone=True)), sa.column('count', sa.Integer()))
    hours = sa.table('activity_hours', sa.column('office_id', sa.Uuid()),
                     sa.column('hour', sa.DateTime(timezone=True)), sa.column('count', sa.Integer()))
    totals: dict = {}
    # The stream is the statement's option, not the connection's: Connection.execution_options
    # changes the connection itself, and Alembic's own UPDATE of alembic_version after this
    # migration would then be sent as a server-side cursor, which PostgreSQL refuses.
    rows = bind.execute(sa.select(minutes.c.office_id, minutes.c.minute, minutes.c['count'])
                        .execution_options(yield_per=10_000))
    for office_id, minute, count in rows:
        if isinstance(minute, str):  # SQLite hands back the stored text when read through a bare table
            minute = datetime.fromisoformat(minute)
        if minute.tzinfo is None:
            minute = minute.replace(tzinfo=UTC)
        local = minute.astimezone(TEHRAN)
        hour = (local - timedelta(minutes=local.minute)).astimezone(UTC)
        totals[(office_id, hour)] = totals.get((office_id, hour), 0) + count
    if totals:
        op.bulk_insert(hours, [{"office_id": o, "hour": h, "count": c} for (o, h), c in totals.items()])


def downgrade():
    op.drop_index('ix_signal_events_office_day', table_name='signal_events')
    op.drop_table('signal_events')
    op.drop_index('ix_signals_day_district', table_name='signals')
    op.drop_table('signals')
    op.drop_table('signal_days')
    op.drop_index('ix_activity_hours_hour', table_name='activity_hours')
    op.drop_table('activity_hours')
