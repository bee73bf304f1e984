"""challenge_criteria and review_scores: review criteria per challenge, and the scores on them

Revision ID: d2e3f4a5b6c7
Revises: c1d2e3f4a5b6
Create Date: 2026-12-03 09:00:00.000000

Expand only: two new tables. The default five criteria keep their columns on `reviews`
(they stay the one place of those scores), so no existing row is touched and the previous
release reads every review as before; a challenge's own criteria are scored in
`review_scores` rows.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2e3f4a5b6c7'
down_revision = 'c1d2e3f4a5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'challenge_criteria',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('challenge_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name_de', sa.String(length=120), nullable=False),
        sa.Column('name_en', sa.String(length=120), nullable=True),
        sa.Column('description_de', sa.Text(), nullable=True),
        sa.Column('description_en', sa.Text(), nullable=True),
        sa.Column('weight', sa.Integer(), nullable=False),
        sa.Column('scale_max', sa.Integer(), nullable=False),
        sa.Column('knockout_min', sa.Integer(), nullable=True),
        sa.CheckConstraint('weight >= 1', name=op.f('ck_challenge_criteria_weight_positive')),
        sa.CheckConstraint('scale_max >= 2', name=op.f('ck_challenge_criteria_scale_at_least_two')),
        sa.CheckConstraint('knockout_min IS NULL OR (knockout_min >= 1 AND knockout_min <= scale_max)',
                           name=op.f('ck_challenge_criteria_knockout_within_scale')),
        sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'],
                                name=op.f('fk_challenge_criteria_challenge_id_challenges'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_criteria')),
    )
    with op.batch_alter_table('challenge_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_criteria_challenge_id'), ['challenge_id'],
                              unique=False)

    op.create_table(
        'review_scores',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['criterion_id'], ['challenge_criteria.id'],
                                name=op.f('fk_review_scores_criterion_id_challenge_criteria'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id'],
                                name=op.f('fk_review_scores_review_id_reviews'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_scores')),
        sa.UniqueConstraint('review_id', 'criterion_id',
                            name=op.f('uq_review_scores_review_id')),
    )
    with op.batch_alter_table('review_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_scores_criterion_id'), ['criterion_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_review_scores_review_id'), ['review_id'],
                              unique=False)


def downgrade():
    op.drop_table('review_scores')
    op.drop_table('challenge_criteria')
