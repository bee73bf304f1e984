"""warnings sent before the deletion schedule removes something

Revision ID: e1b7c3d9a402
Revises: d7a6e1f2b476
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1b7c3d9a402'
down_revision = 'd7a6e1f2b476'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'retention_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('warned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('object_updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_notices')),
        sa.UniqueConstraint('rule', 'object_id', name=op.f('uq_retention_notices_rule')),
    )


def downgrade():
    op.drop_table('retention_notices')
