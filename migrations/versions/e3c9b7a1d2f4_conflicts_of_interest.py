"""conflicts of interest and the pilot's contact person

Former memberships (filled from the audit log), declarations of staff without an assignment,
the coordinators' decisions on shared e-mail domains, and proposals.staff_contact_id.

Revision ID: e3c9b7a1d2f4
Revises: e4b8c2d9a1f3
Create Date: 2026-12-01 19:00:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3c9b7a1d2f4'
down_revision = 'e4b8c2d9a1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'former_memberships',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=True),
        sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('left_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('how', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_former_memberships_organisation_id_organisations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_former_memberships_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_former_memberships')),
    )
    with op.batch_alter_table('former_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_former_memberships_organisation_id'),
                              ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_former_memberships_user_id'), ['user_id'],
                              unique=False)
    op.create_table(
        'conflict_declarations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'],
                                name=op.f('fk_conflict_declarations_proposal_id_proposals'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_conflict_declarations_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_declarations')),
        sa.UniqueConstraint('proposal_id', 'user_id',
                            name=op.f('uq_conflict_declarations_proposal_id')),
    )
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_declarations_proposal_id'),
                              ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflict_declarations_user_id'), ['user_id'],
                              unique=False)
    op.create_table(
        'conflict_flag_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('decision', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisations.id'],
            name=op.f('fk_conflict_flag_decisions_organisation_id_organisations'),
            ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_conflict_flag_decisions_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_conflict_flag_decisions_decided_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_flag_decisions')),
        sa.UniqueConstraint('organisation_id', 'user_id', 'domain',
                            name=op.f('uq_conflict_flag_decisions_organisation_id')),
    )
    with op.batch_alter_table('conflict_flag_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_flag_decisions_organisation_id'),
                              ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflict_flag_decisions_user_id'), ['user_id'],
                              unique=False)
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_contact_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_proposals_staff_contact_id_users'), 'users',
                                    ['staff_contact_id'], ['id'], ondelete='SET NULL')
    _former_members_from_the_audit_log()


def _former_members_from_the_audit_log():
    """Memberships that ended before this revision left only an audit event: record them."""
    conn = op.get_bind()
    events = sa.table('audit_events', sa.column('action', sa.String), sa.column('actor_id'),
                      sa.column('object_id'), sa.column('details', sa.JSON),
                      sa.column('created_at', sa.DateTime(timezone=True)))
    users = sa.table('users', sa.column('id'))
    orgs = sa.table('organisations', sa.column('id'))
    former = sa.table('former_memberships', sa.column('organisation_id'), sa.column('user_id'),
                      sa.column('left_at', sa.DateTime(timezone=True)), sa.column('how'))
    user_ids = {row[0] for row in conn.execute(sa.select(users.c.id))}
    org_ids = {row[0] for row in conn.execute(sa.select(orgs.c.id))}
    rows, seen = [], set()
    for action, actor_id, object_id, details, created_at in conn.execute(
            sa.select(events.c.action, events.c.actor_id, events.c.object_id, events.c.details,
                      events.c.created_at)
            .where(events.c.action.in_(('organisation.leave', 'organisation.remove_member')))):
        user_id = actor_id if action == 'organisation.leave' else (details or {}).get('user_id')
        if user_id not in user_ids or object_id not in org_ids or (object_id, user_id) in seen:
            continue
        seen.add((object_id, user_id))
        rows.append({'organisation_id': object_id, 'user_id': user_id,
                     'left_at': created_at or datetime.now(UTC), 'how': 'recorded'})
    if rows:
        op.bulk_insert(former, rows)


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposals_staff_contact_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('staff_contact_id')
    with op.batch_alter_table('conflict_flag_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_flag_decisions_user_id'))
        batch_op.drop_index(batch_op.f('ix_conflict_flag_decisions_organisation_id'))
    op.drop_table('conflict_flag_decisions')
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_declarations_user_id'))
        batch_op.drop_index(batch_op.f('ix_conflict_declarations_proposal_id'))
    op.drop_table('conflict_declarations')
    with op.batch_alter_table('former_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_former_memberships_user_id'))
        batch_op.drop_index(batch_op.f('ix_former_memberships_organisation_id'))
    op.drop_table('former_memberships')
