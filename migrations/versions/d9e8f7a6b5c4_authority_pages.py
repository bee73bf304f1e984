"""the authorities' showcase pages: Authority.slug (their address) and Authority.description

Revision ID: d9e8f7a6b5c4
Revises: c8d7e6f5a4b3
Create Date: 2026-12-04 21:40:00.000000

Expand: two nullable columns the previous release ignores. Every existing authority gets its
slug here (from its short name, else its name, unique); the new release gives each new one
its slug as it is created (domain/admin.py).
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9e8f7a6b5c4'
down_revision = 'c8d7e6f5a4b3'
branch_labels = None
depends_on = None


def _slug(text):
    # the rule of domain/organisations.slugify as of this revision (a migration keeps its own)
    text = (text or "").translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae",
                                                 "Ö": "Oe", "Ü": "Ue", "ß": "ss"}))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:200].rstrip("-") or "behoerde"


def upgrade():
    with op.batch_alter_table('authorities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slug', sa.String(length=220), nullable=True))
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
    conn = op.get_bind()
    taken = set()
    for row in conn.execute(sa.text(
            "SELECT id, name, short_name FROM authorities ORDER BY id")).mappings():
        base = _slug(row["short_name"] or row["name"])
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        conn.execute(sa.text("UPDATE authorities SET slug = :s WHERE id = :i"),
                     {"s": slug, "i": row["id"]})
    with op.batch_alter_table('authorities', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_authorities_slug', ['slug'])


def downgrade():
    with op.batch_alter_table('authorities', schema=None) as batch_op:
        batch_op.drop_constraint('uq_authorities_slug', type_='unique')
        batch_op.drop_column('description')
        batch_op.drop_column('slug')
