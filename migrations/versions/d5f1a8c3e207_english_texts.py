"""challenges and proposals: optional English title, summary (and a challenge's description)

Revision ID: d5f1a8c3e207
Revises: d4f8a2c6e913
Create Date: 2026-12-02 03:00:00.000000

Expand only: new nullable columns; a row without them shows its German text in every language.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f1a8c3e207'
down_revision = "d4f8a2c6e913"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('summary_en', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('description_en', sa.Text(), nullable=True))
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('public_summary_en', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('public_summary_en')
        batch_op.drop_column('title_en')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('description_en')
        batch_op.drop_column('summary_en')
        batch_op.drop_column('title_en')
