"""form receipts: a form sent twice has one effect

Revision ID: 9c3e2a7f4b32
Revises: 8b2d1f6e3a21
Create Date: 2026-12-01 15:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9c3e2a7f4b32'
down_revision = '8b2d1f6e3a21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'form_receipts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('endpoint', sa.String(length=100), nullable=True),
        sa.Column('location', sa.String(length=2000), nullable=True),
        sa.Column('flashes', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_form_receipts_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_receipts')),
        sa.UniqueConstraint('token', name=op.f('uq_form_receipts_token')),
    )
    with op.batch_alter_table('form_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_receipts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_receipts_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('form_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_receipts_user_id'))
        batch_op.drop_index(batch_op.f('ix_form_receipts_created_at'))
    op.drop_table('form_receipts')
