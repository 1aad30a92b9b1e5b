"""Photos: who sent each one's bytes, and uploads in pieces kept per user (DESIGN §5.5).

A hash is a name, not a proof: `attachment_senders` records every user who sent a photo's
bytes themself, backfilled with each photo's first uploader. `attachment_uploads` is keyed
by (user, sha256) so that another user's PATCH or HEAD never touches someone's upload. The
uploads in progress are dropped: their partial files were named by sha256 alone, and a
phone resumes from the `Upload-Offset` HEAD gives it (0), sending the photo again.

Revision ID: 9e4f2a6c1d08
Revises: e56378c7d385
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e4f2a6c1d08'
down_revision = 'e56378c7d385'
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('attachment_senders',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['attachments.sha256'], name=op.f('fk_attachment_senders_sha256_attachments'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attachment_senders_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sha256', 'user_id', name=op.f('pk_attachment_senders'))
    )
    op.execute("INSERT INTO attachment_senders (sha256, user_id, sent_at) "
               "SELECT sha256, uploaded_by, created_at FROM attachments WHERE uploaded_by IS NOT NULL")
    op.drop_table('attachment_uploads')
    op.create_table('attachment_uploads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('total', BigInt, nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attachment_uploads_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'sha256', name=op.f('pk_attachment_uploads'))
    )
    op.create_index(op.f('ix_attachment_uploads_updated_at'), 'attachment_uploads', ['updated_at'], unique=False)


def downgrade():
    # The uploads in progress go, as on the way up: their files are named per user now.
    op.drop_index(op.f('ix_attachment_uploads_updated_at'), table_name='attachment_uploads')
    op.drop_table('attachment_uploads')
    op.create_table('attachment_uploads',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('total', BigInt, nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attachment_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachment_uploads'))
    )
    op.drop_table('attachment_senders')
