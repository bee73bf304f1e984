"""change_markers: one row whose value changes after every commit that changed what pages show

Revision ID: c1d2e3f4a5b6
Revises: a7c3e9f15b20
Create Date: 2026-12-02 19:10:00.000000

Expand only: a new table and its one row.
"""
import secrets
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1d2e3f4a5b6'
down_revision = 'a7c3e9f15b20'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'change_markers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.String(length=32), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_markers')),
    )
    op.bulk_insert(table, [{'id': 1, 'value': secrets.token_hex(16),
                            'changed_at': datetime.now(UTC)}])


def downgrade():
    op.drop_table('change_markers')
