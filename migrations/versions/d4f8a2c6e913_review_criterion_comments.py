"""reviews: an optional comment per criterion, next to the overall comment

Revision ID: d4f8a2c6e913
Revises: c9e3a7f5d124
Create Date: 2026-12-09 00:10:00.000000

Expand only: new nullable columns; the previous release ignores them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f8a2c6e913'
down_revision = 'c9e3a7f5d124'
branch_labels = None
depends_on = None

CRITERIA = ("innovation", "benefit", "feasibility", "cost_effectiveness", "privacy_security")


def upgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        for name in CRITERIA:
            batch_op.add_column(sa.Column(f'{name}_comment', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        for name in reversed(CRITERIA):
            batch_op.drop_column(f'{name}_comment')
