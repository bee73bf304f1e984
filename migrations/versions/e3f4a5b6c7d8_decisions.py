"""decisions: each decision with the rules it was taken on, and its co-signature

Revision ID: e3f4a5b6c7d8
Revises: a9b8c7d6e5f4
Create Date: 2026-12-03 13:15:00.000000

Expand only: one new table. A decision above the co-signature threshold waits in it for a
second decider; every decision keeps the snapshot of what applied (`basis`). Proposals
decided before have no row; their decision date and rationale stay on `proposals`.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3f4a5b6c7d8'
down_revision = 'a9b8c7d6e5f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('decider_id', sa.Integer(), nullable=True),
        sa.Column('rationale', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('co_signature_required', sa.Boolean(), nullable=False),
        sa.Column('co_signer_id', sa.Integer(), nullable=True),
        sa.Column('co_signed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refused_by_id', sa.Integer(), nullable=True),
        sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refusal_reason', sa.Text(), nullable=True),
        sa.Column('basis', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'],
                                name=op.f('fk_decisions_proposal_id_proposals'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decider_id'], ['users.id'],
                                name=op.f('fk_decisions_decider_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['co_signer_id'], ['users.id'],
                                name=op.f('fk_decisions_co_signer_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['refused_by_id'], ['users.id'],
                                name=op.f('fk_decisions_refused_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_proposal_id'), ['proposal_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_proposal_id'))
    op.drop_table('decisions')
