"""outbox: a stable Message-ID per mail, failed mails

Revision ID: 7a1c0e5d2f10
Revises: 9c3e2a7f4b32
Create Date: 2026-12-01 15:45:00.000000

"""
import os
from email.utils import make_msgid
from urllib.parse import urlsplit

from alembic import op
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0e5d2f10'
down_revision = '9c3e2a7f4b32'
branch_labels = None
depends_on = None


def _domain():
    """The Message-ID domain as the app makes it (MAIL_MESSAGE_ID_DOMAIN, else BASE_URL's host,
    else the sender's domain) – never the machine's host name."""
    try:
        config = current_app.config
    except RuntimeError:  # outside the app (plain alembic): the environment only
        config = os.environ
    if config.get("MAIL_MESSAGE_ID_DOMAIN"):
        return config["MAIL_MESSAGE_ID_DOMAIN"]
    host = urlsplit(config.get("BASE_URL") or "").hostname
    if host:
        return host
    sender = (config.get("MAIL_FROM") or "").rstrip(">").rpartition("@")[2].strip()
    return sender or "innolab.invalid"


def upgrade():
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))

    # Every mail already queued gets its Message-ID now, used for every attempt from here on.
    outbox = sa.table('outbox_mails', sa.column('id', sa.Integer),
                      sa.column('message_id', sa.String))
    conn = op.get_bind()
    domain = _domain()
    ids = conn.execute(sa.select(outbox.c.id).where(outbox.c.message_id.is_(None))).scalars().all()
    for mail_id in ids:
        conn.execute(outbox.update().where(outbox.c.id == mail_id)
                     .values(message_id=make_msgid(domain=domain)))

    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_mails_message_id'), ['message_id'])


def downgrade():
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_mails_message_id'), type_='unique')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('message_id')
