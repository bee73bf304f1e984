"""proposals: the first submission kept apart from the latest; due dates of the checks and the
decision, with the stamps of their overdue reminders

Revision ID: c9e3a7f5d124
Revises: b8d2f6e4c013
Create Date: 2026-12-02 00:10:00.000000

Expand only: new nullable columns; first_submitted_at starts as the submission date known.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9e3a7f5d124'
down_revision = 'b8d2f6e4c013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_submitted_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('checks_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('decision_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reminded_checks_overdue_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('reminded_decision_overdue_at',
                                      sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE proposals SET first_submitted_at = submitted_at "
               "WHERE submitted_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('reminded_decision_overdue_at')
        batch_op.drop_column('reminded_checks_overdue_at')
        batch_op.drop_column('decision_due_on')
        batch_op.drop_column('checks_due_on')
        batch_op.drop_column('first_submitted_at')
