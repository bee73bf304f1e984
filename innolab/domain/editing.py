"""Saving a record several people edit, without silently losing anyone's change.

Every such record carries a version (`models._base.Versioned`). Its edit form sends back the
version the person started from. A domain update function wraps its changes in

    with editing.edit(SPEC, record, user, seen_version):
        ...set the typed values on the record, audit.record(...)...

and `edit` decides, in one place for every record:

- the version is current: the changes are saved (flushed); the database refuses the UPDATE if
  another save got in between (SQLAlchemy's StaleDataError), which becomes the same
  EditConflict as below;
- the version is old and saving would undo a change someone made since (a field differs from
  what the person saw, and what was typed is not the new value): EditConflict with what
  changed (field, label, the value then, the value now, who and when). What was typed being
  exactly what is stored now (e.g. a double click) is no conflict;
- the version is old but only other things changed (a workflow move, a reminder mark): the
  edited fields are as the person saw them, so the save goes through.

What a person saw is taken from `EditSnapshot` rows: after each save, the edited fields at the
new version (and, before the first save of a record, its state then as version 0). Only the
edited fields change through `edit`, so the content at any version is the latest snapshot at
or below it. Only the last KEEP snapshots per record are kept.

EditConflict leaves the session rolled back, so the record shows what is stored now.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..models import EditSnapshot
from . import DomainError

KEEP = 10  # snapshots kept per record

EMPTY = _l("(leer)")
UNKNOWN = _l("(nicht bekannt)")
YES, NO = _l("Ja"), _l("Nein")


def plain(value):
    """A value as the snapshot stores it (JSON): dates as ISO text, sets as sorted lists."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(plain(v) for v in value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace("\r\n", "\n")
    return value


def show_value(value) -> str:
    """The default way a stored value reads on the conflict notice."""
    if value is None or value == "" or value == []:
        return str(EMPTY)
    if value is True:
        return str(YES)
    if value is False:
        return str(NO)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Editable:
    """How one kind of record is compared.

    fields(record): the values its edit form changes (JSON-able, normalised as stored);
    labels(record): field name -> label, in the order of the form;
    show(record, name, value): how a value reads (defaults to show_value).
    """

    fields: Callable[[Any], dict]
    labels: Callable[[Any], dict]
    show: Callable[[Any, str, Any], str] | None = None

    def display(self, record, name: str, value) -> str:
        if self.show is not None:
            return self.show(record, name, value)
        return show_value(value)


@dataclass(frozen=True)
class Change:
    """One field someone else changed since this person opened the form."""

    name: str
    label: object
    seen: str       # the value when this person opened the form (UNKNOWN if not kept)
    now: str        # the value stored now
    by: Any         # the User who changed it, or None if unknown
    at: datetime | None


class EditConflict(DomainError):
    """A save based on an old version, while someone else changed the same record.

    `version` is the version the stored values belong to: a form sent back with it saves.
    """

    def __init__(self, record, version: int, changes: list[Change]):
        super().__init__(_l("Während Sie bearbeitet haben, wurden diese Angaben geändert. "
                            "Ihre Eingaben sind noch nicht gespeichert."))
        self.record = record
        self.version = version
        self.changes = changes


def version_of(record) -> int:
    """The version a form starts from; 0 for a record that does not exist yet."""
    return (getattr(record, "lock_version", None) or 0) if record is not None else 0


def _kind(record) -> str:
    return record.__tablename__


def _snapshots(record, after_version: int | None = None) -> list[EditSnapshot]:
    q = select(EditSnapshot).where(EditSnapshot.kind == _kind(record),
                                   EditSnapshot.record_id == record.id)
    if after_version is not None:
        q = q.where(EditSnapshot.version > after_version)
    return list(db.session.execute(q.order_by(EditSnapshot.version)).scalars())


def _seen(record, seen_version: int, stored: dict):
    """(the edited fields at `seen_version`, known?)."""
    rows = _snapshots(record)
    if not rows:
        # never saved through `edit`: the edited fields have not changed since tracking began
        return stored, True
    earlier = [r for r in rows if r.version <= seen_version]
    if not earlier:
        return None, False  # older than the snapshots kept
    return earlier[-1].data, True


def _undoes(seen: dict, stored: dict, typed: dict) -> bool:
    """Would saving `typed` undo a change someone made since `seen`?"""
    return any(seen.get(k) != now and typed.get(k) != now for k, now in stored.items())


def _changes(spec: Editable, record, seen: dict | None, stored: dict, typed: dict,
             since: int) -> list[Change]:
    later = _snapshots(record, after_version=since)
    missing = object()
    changes = []
    for name, label in spec.labels(record).items():
        now = stored.get(name)
        if seen is not None:
            old = seen.get(name)
            if old == now:
                continue
        elif typed.get(name) == now:
            continue
        by = at = None
        previous = seen.get(name) if seen is not None else missing
        for row in later:
            value = row.data.get(name)
            if value != previous:
                by, at = row.user, row.created_at
            previous = value
        changes.append(Change(
            name=name, label=label,
            seen=spec.display(record, name, seen.get(name)) if seen is not None else str(UNKNOWN),
            now=spec.display(record, name, now), by=by, at=at))
    return changes


def _store(record, user, before: dict, after: dict) -> None:
    kind = _kind(record)
    versions = list(db.session.execute(
        select(EditSnapshot.version).where(EditSnapshot.kind == kind,
                                           EditSnapshot.record_id == record.id)
        .order_by(EditSnapshot.version.desc())).scalars())
    if not versions:
        # the state this first tracked save started from (version 0: before tracking)
        db.session.add(EditSnapshot(kind=kind, record_id=record.id, version=0, data=before))
        versions = [0]
    db.session.add(EditSnapshot(kind=kind, record_id=record.id, version=record.lock_version,
                                data=after, user_id=getattr(user, "id", None)))
    if len(versions) >= KEEP:
        db.session.execute(delete(EditSnapshot).where(
            EditSnapshot.kind == kind, EditSnapshot.record_id == record.id,
            EditSnapshot.version < versions[KEEP - 2]))
    db.session.flush()


@contextmanager
def edit(spec: Editable, record, user, seen_version: int | None, reload=None):
    """Apply the changes made inside the block, or raise EditConflict (see the module).

    `seen_version` None (a client that sends no version) skips the check against an old
    version; the database still refuses a save that another one overtook. For a record this
    save creates, `reload()` finds the one another person created at the same moment (a
    unique constraint refused ours), to compare with it.
    """
    start = version_of(record)
    before = plain(spec.fields(record))
    typed = None
    try:
        with db.session.no_autoflush:
            yield
            typed = plain(spec.fields(record))
            if seen_version is not None and seen_version != start and typed != before:
                seen, known = _seen(record, seen_version, before)
                if not known or _undoes(seen, before, typed):
                    changes = _changes(spec, record, seen, before, typed, since=seen_version)
                    db.session.rollback()
                    raise EditConflict(record, start, changes)
        if typed == before:
            if start:
                db.session.expire(record)  # nothing the form edits changed: nothing to save
            return
        if start and record.lock_version == start:
            # e.g. only a list of topics changed: the row itself must show the new version
            record.lock_version = start + 1
        db.session.flush()
    except StaleDataError:
        # Another save of this record was committed after we read it.
        _overtaken(spec, record, before, typed, start)
        return
    except IntegrityError:
        if start or reload is None:
            raise
        typed = typed if typed is not None else plain(spec.fields(record))
        db.session.rollback()
        other = reload()
        if other is None:
            raise
        _overtaken(spec, other, before, typed, 0, rolled_back=True)
        return
    _store(record, user, before, typed)


def _overtaken(spec, record, before, typed, start, rolled_back=False) -> None:
    """Our save lost the race: fine if the winner stored what we typed, else EditConflict."""
    typed = typed if typed is not None else plain(spec.fields(record))
    if not rolled_back:
        db.session.rollback()
    stored = plain(spec.fields(record))
    if stored == typed:
        return
    raise EditConflict(record, version_of(record),
                       _changes(spec, record, before, stored, typed, since=start))
