"""pilot_mutes: people who muted the new-message notices of one pilot

Revision ID: a7c1e5d3b902
Revises: e3b9c4d5f601
Create Date: 2026-12-01 23:50:00.000000

Expand only: a new table, nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c1e5d3b902'
down_revision = 'e3b9c4d5f601'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pilot_mutes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'],
                                name=op.f('fk_pilot_mutes_proposal_id_proposals'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_pilot_mutes_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot_mutes')),
        sa.UniqueConstraint('user_id', 'proposal_id',
                            name=op.f('uq_pilot_mutes_user_id')),
    )
    with op.batch_alter_table('pilot_mutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_mutes_proposal_id'), ['proposal_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_pilot_mutes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pilot_mutes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilot_mutes_user_id'))
        batch_op.drop_index(batch_op.f('ix_pilot_mutes_proposal_id'))
    op.drop_table('pilot_mutes')
