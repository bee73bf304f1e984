"""check_conditions: the conditions a check passed with (Auflagen)

Revision ID: b8d2f6e4c013
Revises: a7c1e5d3b902
Create Date: 2026-12-02 00:05:00.000000

Expand only: a new table, nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d2f6e4c013'
down_revision = 'a7c1e5d3b902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'check_conditions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('check_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=300), nullable=False),
        sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('met_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['check_id'], ['checks.id'],
                                name=op.f('fk_check_conditions_check_id_checks'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['met_by_id'], ['users.id'],
                                name=op.f('fk_check_conditions_met_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_check_conditions')),
    )
    with op.batch_alter_table('check_conditions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_conditions_check_id'), ['check_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('check_conditions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_conditions_check_id'))
    op.drop_table('check_conditions')
