"""content flags of stored files (PDFs with JavaScript, embedded files, launch actions)

Revision ID: e4b8c2d9a1f3
Revises: e4b7c2d9a1f0
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b8c2d9a1f3'
down_revision = 'e4b7c2d9a1f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_flags', sa.String(length=100), nullable=True))
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_flags', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.drop_column('content_flags')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('content_flags')
