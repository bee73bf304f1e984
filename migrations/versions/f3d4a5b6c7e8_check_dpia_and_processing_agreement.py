"""data-protection checks record DSFA and AV-Vertrag

Revision ID: f3d4a5b6c7e8
Revises: e1b7c3d9a402
Create Date: 2026-12-01 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3d4a5b6c7e8'
down_revision = 'e1b7c3d9a402'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dpia', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('processing_agreement', sa.String(length=12),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.drop_column('processing_agreement')
        batch_op.drop_column('dpia')
