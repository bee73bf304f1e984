"""challenge_questions and proposal_answers: the questions of a challenge and their answers

Revision ID: b7c6d5e4f3a2
Revises: e3f4a5b6c7d8
Create Date: 2026-12-03 13:40:00.000000

Expand only: two new tables. A question without a challenge belongs to the default set for
initiative proposals. The previous release ignores both tables; no existing row is touched.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c6d5e4f3a2'
down_revision = 'e3f4a5b6c7d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'challenge_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('challenge_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('label_de', sa.String(length=300), nullable=False),
        sa.Column('label_en', sa.String(length=300), nullable=True),
        sa.Column('help_de', sa.Text(), nullable=True),
        sa.Column('help_en', sa.Text(), nullable=True),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('unit', sa.String(length=40), nullable=True),
        sa.Column('options', sa.JSON(), nullable=True),
        sa.Column('file_types', sa.String(length=200), nullable=True),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'],
                                name=op.f('fk_challenge_questions_challenge_id_challenges'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_questions')),
    )
    with op.batch_alter_table('challenge_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_questions_challenge_id'), ['challenge_id'],
                              unique=False)

    op.create_table(
        'proposal_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.JSON(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'],
                                name=op.f('fk_proposal_answers_proposal_id_proposals'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['question_id'], ['challenge_questions.id'],
                                name=op.f('fk_proposal_answers_question_id_challenge_questions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_answers')),
        sa.UniqueConstraint('proposal_id', 'question_id',
                            name=op.f('uq_proposal_answers_proposal_id')),
    )
    with op.batch_alter_table('proposal_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_answers_proposal_id'), ['proposal_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_answers_question_id'), ['question_id'],
                              unique=False)


def downgrade():
    op.drop_table('proposal_answers')
    op.drop_table('challenge_questions')
