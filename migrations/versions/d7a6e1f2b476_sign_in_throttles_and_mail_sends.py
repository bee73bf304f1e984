"""sign-in back-off counters and per-recipient mail counts

Revision ID: d7a6e1f2b476
Revises: c6f5d0e1a365
Create Date: 2026-12-01 16:15:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'd7a6e1f2b476'
down_revision = 'c6f5d0e1a365'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_throttles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_throttles')),
        sa.UniqueConstraint('key', name=op.f('uq_sign_in_throttles_key')),
    )
    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_throttles_last_failure_at'),
                              ['last_failure_at'], unique=False)
    op.create_table(
        'mail_sends',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_sends')),
    )
    with op.batch_alter_table('mail_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_sends_recipient_hash'), ['recipient_hash'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_mail_sends_created_at'), ['created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('mail_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_sends_created_at'))
        batch_op.drop_index(batch_op.f('ix_mail_sends_recipient_hash'))
    op.drop_table('mail_sends')
    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_throttles_last_failure_at'))
    op.drop_table('sign_in_throttles')
