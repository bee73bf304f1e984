"""versions of the privacy notice people agreed to

Revision ID: b5c6d7e8f901
Revises: a4f1c9d27e30
Create Date: 2026-12-01 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5c6d7e8f901'
down_revision = 'a4f1c9d27e30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'terms_consents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=20), nullable=False),
        sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_terms_consents_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_terms_consents')),
    )
    with op.batch_alter_table('terms_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terms_consents_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_version', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('terms_version')
    with op.batch_alter_table('terms_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_terms_consents_user_id'))
    op.drop_table('terms_consents')
