"""roles know their source, pending staff grants, identities linked while unconfirmed

Revision ID: c6f5d0e1a365
Revises: 7a1c0e5d2f10
Create Date: 2026-12-01 16:20:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6f5d0e1a365'
down_revision = '7a1c0e5d2f10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=60), nullable=False,
                                      server_default='admin'))
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unconfirmed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        'pending_role_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('roles', sa.String(length=200), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('granted_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'],
                                name=op.f('fk_pending_role_grants_granted_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_pending_role_grants_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_role_grants')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_pending_role_grants_token_hash')),
    )
    with op.batch_alter_table('pending_role_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_role_grants_user_id'), ['user_id'],
                              unique=False)

    conn = op.get_bind()
    # Identities of accounts whose address is still unconfirmed were linked by someone who has
    # not shown they own the mailbox.
    users = sa.table('users', sa.column('id', sa.Integer),
                     sa.column('email_confirmed_at', sa.DateTime))
    identities = sa.table('external_identities', sa.column('user_id', sa.Integer),
                          sa.column('unconfirmed', sa.Boolean))
    conn.execute(identities.update()
                 .where(identities.c.user_id.in_(
                     sa.select(users.c.id).where(users.c.email_confirmed_at.is_(None))))
                 .values(unconfirmed=True))
    # Such accounts could be signed in through the provider before; from now on they wait for
    # the confirmation, so their open sessions end.
    sessions = sa.table('users', sa.column('id', sa.Integer),
                        sa.column('session_token', sa.String))
    waiting = conn.execute(
        sa.select(users.c.id).where(users.c.email_confirmed_at.is_(None),
                                    users.c.id.in_(sa.select(identities.c.user_id)))
    ).scalars().all()
    for user_id in waiting:
        conn.execute(sessions.update().where(sessions.c.id == user_id)
                     .values(session_token=secrets.token_urlsafe(32)))
    # Roles a staff provider handed out (the audit log says so: the latest grant of that role
    # came from "oidc:<key>") are that provider's from now on.
    roles = sa.table('user_roles', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                     sa.column('role', sa.String), sa.column('source', sa.String))
    events = sa.table('audit_events', sa.column('id', sa.Integer),
                      sa.column('action', sa.String), sa.column('object_type', sa.String),
                      sa.column('object_id', sa.Integer), sa.column('details', sa.JSON))
    latest = {}
    for row in conn.execute(
            sa.select(events.c.object_id, events.c.action, events.c.details)
            .where(events.c.object_type == 'users',
                   events.c.action.in_(['user.role_granted', 'user.roles_change']))
            .order_by(events.c.id)):
        details = row.details or {}
        if row.action == 'user.role_granted':
            latest[(row.object_id, details.get('role'))] = details.get('source') or ''
        else:
            for role in details.get('added') or []:
                latest[(row.object_id, role)] = 'admin'
    for (user_id, role), source in latest.items():
        if isinstance(source, str) and source.startswith('oidc:'):
            conn.execute(roles.update()
                         .where(roles.c.user_id == user_id, roles.c.role == role)
                         .values(source='provider:' + source[len('oidc:'):]))


def downgrade():
    with op.batch_alter_table('pending_role_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_role_grants_user_id'))
    op.drop_table('pending_role_grants')
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.drop_column('unconfirmed')
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_column('source')
