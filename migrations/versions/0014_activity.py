"""Systemic monitoring (DESIGN §10b): the `feed` role of the platform's machine account, the
activity it reports counted per office and minute, and the batches taken in (a batch sent
again counts nothing twice).

Revision ID: 6e2a4c8b1d35
Revises: 5d9b3f7a2c14
Create Date: 2026-12-02 07:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6e2a4c8b1d35'
down_revision = '5d9b3f7a2c14'
branch_labels = None
depends_on = None

PEOPLE = "'inspector', 'district_head', 'committee', 'admin'"


def _roles(allowed: str) -> None:
    """`users.role`'s check. SQLite changes a check by copying the table, whose rows others
    refer to: foreign keys are off while it does. The pragma holds only outside a
    transaction, so it is sent on the driver's connection between two (the app's engine
    opens one at every begin)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _foreign_keys("OFF")
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), sa.text(f"role IN ({allowed})"))
    if sqlite:
        _foreign_keys("ON")


def _foreign_keys(state: str) -> None:
    with op.get_context().autocommit_block():
        driver = op.get_bind().connection.dbapi_connection
        if driver.in_transaction:  # begun by the app's engine on the block's own begin: nothing in it
            driver.commit()
        driver.execute(f"PRAGMA foreign_keys = {state}")


def upgrade():
    _roles(f"{PEOPLE}, 'feed'")
    op.create_table(
        'activity_counts',
        sa.Column('office_id', sa.Uuid(), sa.ForeignKey('offices.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('minute', sa.DateTime(timezone=True), primary_key=True),
        sa.Column('count', sa.Integer(), nullable=False),
    )
    op.create_table(
        'activity_batches',
        sa.Column('source', sa.String(length=64), primary_key=True),
        sa.Column('batch_id', sa.String(length=128), primary_key=True),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('accepted', sa.Integer(), nullable=False),
        sa.Column('rejected', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_activity_batches_received_at', 'activity_batches', ['received_at'])


def downgrade():
    op.drop_index('ix_activity_batches_received_at', table_name='activity_batches')
    op.drop_table('activity_batches')
    op.drop_table('activity_counts')
    op.execute("DELETE FROM users WHERE role = 'feed'")
    _roles(PEOPLE)
