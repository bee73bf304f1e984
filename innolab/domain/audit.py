"""Writing the audit log."""
from __future__ import annotations

import contextvars

from ..extensions import db
from ..models import AuditEvent

# Set by the web layer at the start of each request; the domain never reads the request.
client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def record(actor, action: str, obj=None, **details) -> AuditEvent:
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        details={k: _plain(v) for k, v in details.items()} or None,
        ip=client_ip.get(),
    )
    if obj is not None and event.object_id is None:
        db.session.flush()
        event.object_id = obj.id
    db.session.add(event)
    return event


def _plain(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
