"""the anonymised first round: Challenge.anonymised_first_round, Proposal.shortlisted_at,
Attachment.first_round_released_at, Review.round and the unique review per round

Revision ID: c8d7e6f5a4b3
Revises: b7c6d5e4f3a2
Create Date: 2026-12-04 20:10:00.000000

Expand: four new columns, each with a default the previous release can ignore (no
challenge has the round, no proposal is shortlisted, no attachment released for it, every
review is round 1). The unique review of a reviewer per proposal becomes one per round: the
previous release writes at most one review per reviewer, which the new constraint allows.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8d7e6f5a4b3'
down_revision = 'b7c6d5e4f3a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_first_round', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shortlisted_at', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_round_released_at', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round', sa.Integer(), server_default='1',
                                      nullable=False))
        batch_op.drop_constraint('uq_reviews_proposal_id', type_='unique')
        batch_op.create_unique_constraint('uq_reviews_proposal_reviewer_round',
                                          ['proposal_id', 'reviewer_id', 'round'])


def downgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reviews_proposal_reviewer_round', type_='unique')
        batch_op.create_unique_constraint('uq_reviews_proposal_id',
                                          ['proposal_id', 'reviewer_id'])
        batch_op.drop_column('round')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('first_round_released_at')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('shortlisted_at')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('anonymised_first_round')
