"""Receipts of form posts (see web/once.py): kept for a day, then forgotten."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from ..extensions import db, rows_changed
from ..models import FormReceipt
from ..models._base import utcnow

KEEP = timedelta(days=1)


def prune(now: datetime | None = None) -> int:
    """Delete the receipts older than a day; a form that old is not sent twice by a click."""
    count = rows_changed(delete(FormReceipt).where(
        FormReceipt.created_at < (now or utcnow()) - KEEP))
    db.session.commit()
    return count
