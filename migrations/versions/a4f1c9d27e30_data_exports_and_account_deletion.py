"""data exports (Datenauskunft) and deleted accounts

Revision ID: a4f1c9d27e30
Revises: f3d4a5b6c7e8
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'a4f1c9d27e30'
down_revision = 'f3d4a5b6c7e8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_exports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_data_exports_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_data_exports_stored_name')),
    )
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_exports_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_exports_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_exports_expires_at'), ['expires_at'],
                              unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pseudonym', sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_pseudonym'), ['pseudonym'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_pseudonym'), type_='unique')
        batch_op.drop_column('pseudonym')
        batch_op.drop_column('deleted_at')
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_exports_expires_at'))
        batch_op.drop_index(batch_op.f('ix_data_exports_status'))
        batch_op.drop_index(batch_op.f('ix_data_exports_user_id'))
    op.drop_table('data_exports')
