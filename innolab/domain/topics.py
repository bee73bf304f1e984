"""The topics (themes) proposals, challenges and pilots are tagged with (managed by admins)."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Topic


def all_topics() -> list[Topic]:
    """Every topic, by German name: the choices of every form and filter."""
    return list(db.session.execute(select(Topic).order_by(Topic.name_de)).scalars())
