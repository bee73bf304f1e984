"""edit versions: lock_version on records several people edit, edit_snapshots

Revision ID: 8b2d1f6e3a21
Revises: d2546e82fe14
Create Date: 2026-12-01 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b2d1f6e3a21'
down_revision = 'd2546e82fe14'
branch_labels = None
depends_on = None

VERSIONED = ('proposals', 'organisations', 'pilot_goals', 'milestones', 'results_reports',
             'challenges', 'site_pages')


def upgrade():
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('lock_version', sa.Integer(), nullable=False,
                                          server_default='1'))
    op.create_table('edit_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_edit_snapshots_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edit_snapshots')),
    sa.UniqueConstraint('kind', 'record_id', 'version', name=op.f('uq_edit_snapshots_kind'))
    )
    with op.batch_alter_table('edit_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_edit_snapshots_kind_record_id', ['kind', 'record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_edit_snapshots_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('edit_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_edit_snapshots_user_id'))
        batch_op.drop_index('ix_edit_snapshots_kind_record_id')
    op.drop_table('edit_snapshots')
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('lock_version')
