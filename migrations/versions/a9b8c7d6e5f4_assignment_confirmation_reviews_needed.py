"""review_assignments.no_conflict_confirmed_at and challenges.reviews_needed

Revision ID: a9b8c7d6e5f4
Revises: d2e3f4a5b6c7
Create Date: 2026-12-03 13:30:00.000000

Expand only: two new columns. An assignment made before this release has no confirmation:
its reviewer confirms once, the next time they open the proposal. Every challenge asks for
two reviews per proposal until a coordinator sets another number.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9b8c7d6e5f4'
down_revision = 'd2e3f4a5b6c7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review_assignments') as batch:
        batch.add_column(sa.Column('no_conflict_confirmed_at', sa.DateTime(timezone=True),
                                   nullable=True))
    with op.batch_alter_table('challenges') as batch:
        batch.add_column(sa.Column('reviews_needed', sa.Integer(), nullable=False,
                                   server_default='2'))
        batch.create_check_constraint(op.f('ck_challenges_reviews_needed_range'),
                                      'reviews_needed >= 1 AND reviews_needed <= 10')


def downgrade():
    with op.batch_alter_table('challenges') as batch:
        batch.drop_constraint(op.f('ck_challenges_reviews_needed_range'), type_='check')
        batch.drop_column('reviews_needed')
    with op.batch_alter_table('review_assignments') as batch:
        batch.drop_column('no_conflict_confirmed_at')
