"""proposals: full-text search document (search_a/b/c); PostgreSQL: generated tsvector with a
GIN index; SQLite: the FTS5 table proposal_search

Revision ID: a7c3e9f15b20
Revises: b8d2f4a6c913
Create Date: 2026-12-02 08:45:00.000000

Expand only: three nullable text columns, filled here for every existing row (and again by
`flask innolab search reindex`), plus the index on either database.
"""
from alembic import op
import sqlalchemy as sa

from innolab.domain import search


# revision identifiers, used by Alembic.
revision = 'a7c3e9f15b20'
down_revision = 'b8d2f4a6c913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_a', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('search_b', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('search_c', sa.Text(), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT p.id, p.title, p.title_en, p.public_summary, p.public_summary_en, o.name, a.name "
        "FROM proposals p JOIN organisations o ON o.id = p.organisation_id "
        "LEFT JOIN challenges c ON c.id = p.challenge_id "
        "LEFT JOIN authorities a ON a.id = c.authority_id")).all()
    topics: dict[int, list[str]] = {}
    for pid, de, en in bind.execute(sa.text(
            "SELECT pt.proposal_id, t.name_de, t.name_en FROM proposal_topics pt "
            "JOIN topics t ON t.id = pt.topic_id")):
        topics.setdefault(pid, []).extend((de, en))
    documents = []
    for pid, title, title_en, summary, summary_en, org, authority in rows:
        a, b, c = search.document(titles=(title, title_en), summaries=(summary, summary_en),
                                  others=(org, authority, *topics.get(pid, [])))
        documents.append((pid, a, b, c))
        bind.execute(sa.text("UPDATE proposals SET search_a = :a, search_b = :b, search_c = :c "
                             "WHERE id = :id"), {"a": a, "b": b, "c": c, "id": pid})

    if bind.dialect.name == "postgresql":
        for sql in search.PG_DDL:
            op.execute(sql)
    elif bind.dialect.name == "sqlite":
        for sql in search.SQLITE_DDL:
            op.execute(sql)
        for pid, a, b, c in documents:
            bind.execute(sa.text(f"INSERT INTO {search.FTS_TABLE} (rowid, a, b, c) "
                                 "VALUES (:id, :a, :b, :c)"),
                         {"id": pid, "a": search.stem(a), "b": search.stem(b),
                          "c": search.stem(c)})


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_proposals_search_vector")
        op.execute("ALTER TABLE proposals DROP COLUMN IF EXISTS search_vector")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS proposals_search_delete")
        op.execute("DROP TABLE IF EXISTS proposal_search")
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('search_c')
        batch_op.drop_column('search_b')
        batch_op.drop_column('search_a')
