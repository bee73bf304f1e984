"""indexes for every filter and order of the long lists (showcase, API, feeds, inbox)

Revision ID: b8d2f4a6c913
Revises: d5f1a8c3e207
Create Date: 2026-12-02 09:00:00.000000

Expand only: new indexes. The partial ones carry the predicate exactly as the queries write
it (`publication_consent IS true`), or PostgreSQL would not use them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d2f4a6c913'
down_revision = "d5f1a8c3e207"
branch_labels = None
depends_on = None

PUBLIC = sa.text("publication_consent IS true AND published_at IS NOT NULL")


def upgrade():
    op.create_index("ix_proposals_public_order", "proposals", ["published_at", "id", "status"],
                    postgresql_where=PUBLIC, sqlite_where=PUBLIC)
    op.create_index("ix_proposals_public_challenge", "proposals", ["challenge_id", "status"],
                    postgresql_where=PUBLIC, sqlite_where=PUBLIC)
    op.create_index("ix_proposals_submitted_at", "proposals", ["submitted_at", "id"])
    op.create_index("ix_proposals_title", "proposals", ["title", "id"])
    op.create_index("ix_proposal_topics_topic", "proposal_topics", ["topic_id", "proposal_id"])


def downgrade():
    op.drop_index("ix_proposal_topics_topic", table_name="proposal_topics")
    op.drop_index("ix_proposals_title", table_name="proposals")
    op.drop_index("ix_proposals_submitted_at", table_name="proposals")
    op.drop_index("ix_proposals_public_challenge", table_name="proposals")
    op.drop_index("ix_proposals_public_order", table_name="proposals")
