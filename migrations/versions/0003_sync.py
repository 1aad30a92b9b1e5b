"""Sync: reports and their versions, the op ledger, conflicts, quarantine, attachments,
office corrections and the change feed.

Revision ID: 5657d2f6d950
Revises: 2d58a2eabfd9
Create Date: 2026-11-29 05:14:29.050641

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

# revision identifiers, used by Alembic.
revision = '5657d2f6d950'
down_revision = '2d58a2eabfd9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('changes',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('district', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_changes'))
    )
    op.create_index(op.f('ix_changes_district'), 'changes', ['district'], unique=False)
    op.create_index(op.f('ix_changes_user_id'), 'changes', ['user_id'], unique=False)
    op.create_table('attachment_uploads',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('total', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attachment_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachment_uploads'))
    )
    op.create_table('attachments',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_attachments_uploaded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachments'))
    )
    op.create_table('op_ledger',
    sa.Column('op_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('entity', sa.String(length=30), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_op_ledger_user_id_users')),
    sa.PrimaryKeyConstraint('op_id', name=op.f('pk_op_ledger'))
    )
    op.create_index(op.f('ix_op_ledger_user_id'), 'op_ledger', ['user_id'], unique=False)
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('op_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('entity', sa.String(length=30), nullable=True),
    sa.Column('action', sa.String(length=10), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quarantine_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine'))
    )
    op.create_index(op.f('ix_quarantine_op_id'), 'quarantine', ['op_id'], unique=False)
    op.create_index(op.f('ix_quarantine_user_id'), 'quarantine', ['user_id'], unique=False)
    op.create_table('sync_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('op_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=80), nullable=False),
    sa.Column('policy', sa.String(length=30), nullable=False),
    sa.Column('base', sa.JSON(), nullable=True),
    sa.Column('server', sa.JSON(), nullable=True),
    sa.Column('client', sa.JSON(), nullable=True),
    sa.Column('resolved', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sync_conflicts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts'))
    )
    op.create_index(op.f('ix_sync_conflicts_report_id'), 'sync_conflicts', ['report_id'], unique=False)
    op.create_geospatial_table('office_corrections',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('office_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('moved', 'phone', 'closed_permanently')", name=op.f('ck_office_corrections_kind')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name=op.f('ck_office_corrections_status')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_office_corrections_author_id_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_office_corrections_decided_by_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_office_corrections_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_corrections'))
    )
    op.create_index(op.f('ix_office_corrections_author_id'), 'office_corrections', ['author_id'], unique=False)
    op.create_index(op.f('ix_office_corrections_office_id'), 'office_corrections', ['office_id'], unique=False)
    op.create_geospatial_table('reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('office_id', sa.Uuid(), nullable=False),
    sa.Column('district', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Uuid(), nullable=True),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gps_fix_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('accuracy_m', sa.Double(), nullable=True),
    sa.Column('office_state', sa.String(length=24), nullable=False),
    sa.Column('staff_present', sa.Integer(), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence_time_source', sa.String(length=20), nullable=False),
    sa.Column('clock_skew_s', sa.Double(), nullable=False),
    sa.Column('distance_to_office_m', sa.Double(), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('violation_id', sa.Uuid(), nullable=True),
    sa.Column('amendments', sa.JSON(), nullable=False),
    sa.Column('field_times', sa.JSON(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("office_state IN ('open', 'closed', 'open_not_serving', 'relocated', 'permanently_closed', 'inaccessible')", name=op.f('ck_reports_office_state')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_reports_author_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_reports_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    op.create_index(op.f('ix_reports_author_id'), 'reports', ['author_id'], unique=False)
    op.create_index(op.f('ix_reports_district'), 'reports', ['district'], unique=False)
    op.create_index(op.f('ix_reports_evidence_time'), 'reports', ['evidence_time'], unique=False)
    op.create_index(op.f('ix_reports_office_id'), 'reports', ['office_id'], unique=False)
    op.create_table('report_versions',
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('op_id', sa.Uuid(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_versions_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'version', name=op.f('pk_report_versions'))
    )
    # Databases that existed before the change feed: every synced record gets one entry,
    # so a first pull (cursor null) still finds them.
    for table, id_col, district, deleted in [
        ("districts", "number", "number", "FALSE"),
        ("offices", "id", "district", "FALSE"),
        ("hours_rules", "id", "NULL", "CASE WHEN withdrawn_at IS NULL THEN FALSE ELSE TRUE END"),
        ("holidays", "id", "NULL", "CASE WHEN cancelled_at IS NULL THEN FALSE ELSE TRUE END"),
    ]:
        op.execute(f"INSERT INTO changes (entity, entity_id, district, deleted, at) "
                   f"SELECT '{table}', CAST({id_col} AS VARCHAR(36)), {district}, {deleted}, CURRENT_TIMESTAMP "
                   f"FROM {table}")


def downgrade():
    op.drop_table('report_versions')
    op.drop_index(op.f('ix_reports_office_id'), table_name='reports')
    op.drop_index(op.f('ix_reports_evidence_time'), table_name='reports')
    op.drop_index(op.f('ix_reports_district'), table_name='reports')
    op.drop_index(op.f('ix_reports_author_id'), table_name='reports')
    op.drop_geospatial_table('reports')
    op.drop_index(op.f('ix_office_corrections_office_id'), table_name='office_corrections')
    op.drop_index(op.f('ix_office_corrections_author_id'), table_name='office_corrections')
    op.drop_geospatial_table('office_corrections')
    op.drop_index(op.f('ix_sync_conflicts_report_id'), table_name='sync_conflicts')
    op.drop_table('sync_conflicts')
    op.drop_index(op.f('ix_quarantine_user_id'), table_name='quarantine')
    op.drop_index(op.f('ix_quarantine_op_id'), table_name='quarantine')
    op.drop_table('quarantine')
    op.drop_index(op.f('ix_op_ledger_user_id'), table_name='op_ledger')
    op.drop_table('op_ledger')
    op.drop_table('attachments')
    op.drop_table('attachment_uploads')
    op.drop_index(op.f('ix_changes_user_id'), table_name='changes')
    op.drop_index(op.f('ix_changes_district'), table_name='changes')
    op.drop_table('changes')
