"""Platform settings an admin changes in the administration."""
from __future__ import annotations

from ..extensions import db
from ..models import PlatformSetting
from . import audit


def get_setting(key: str) -> str | None:
    row = db.session.get(PlatformSetting, key)
    return row.value if row is not None else None


def set_setting(actor, key: str, value: str) -> bool:
    """Store `value`; returns whether it changed (an audit event records each change)."""
    row = db.session.get(PlatformSetting, key)
    before = row.value if row is not None else None
    if before == value:
        return False
    if row is None:
        row = PlatformSetting(key=key, value=value)
        db.session.add(row)
    row.value = value
    row.updated_by_id = getattr(actor, "id", None)
    audit.record(actor, "setting.change", None, key=key, before=before, after=value)
    return True


def remember(key: str, value: str) -> None:
    """Internal state of the platform (e.g. when a daily job last ran): no audit event."""
    row = db.session.get(PlatformSetting, key)
    if row is None:
        db.session.add(PlatformSetting(key=key, value=value))
    else:
        row.value = value
