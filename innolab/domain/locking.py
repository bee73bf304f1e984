"""Taking rows for the rest of the transaction, so that a change of state happens once.

Two requests that change the same thing at the same moment (two deciders, a double click,
two workers) must not both see the old state and both act on it. Every domain function whose
change must happen once calls `lock(...)` first and only then reads the state it checks:

- on PostgreSQL, ``SELECT ... FOR UPDATE`` takes each row; a second transaction that wants
  the same row waits until the first one has committed and then reads what it wrote;
- on SQLite, which lets one connection write at a time, a write to the row takes the
  database's write lock for the rest of the transaction (a plain SELECT there takes none).

After the lock, everything the session had loaded is expired, so the checks that follow read
the committed state, not what this request loaded before it waited.
"""
from __future__ import annotations

from sqlalchemy import inspect, select, text

from ..extensions import db


def lock(*objects) -> None:
    """Lock the rows of `objects` (persistent model instances) until the transaction ends.

    Rows are taken in a fixed order (table, then primary key) so that two transactions that
    lock the same rows never wait for each other in a circle.
    """
    session = db.session
    session.flush()  # what this request changed so far is written, not thrown away below
    rows = sorted({(_table(o), _key(o)) for o in objects if o is not None},
                  key=lambda r: (r[0].name, r[1]))
    for table, key in rows:
        _lock_row(table, key)
    session.expire_all()


def lock_query(stmt) -> list:
    """Lock every row that `stmt` (a SELECT of one model) finds, in primary-key order, and
    return the objects read afresh. For rules over a set of rows, e.g. "the last admin"."""
    session = db.session
    session.flush()
    entity = stmt.column_descriptions[0]["entity"]
    pk = inspect(entity).primary_key[0]
    stmt = stmt.order_by(None).order_by(pk)
    if _dialect() == "postgresql":
        found = session.execute(stmt.with_for_update(of=entity)).scalars().unique().all()
    else:
        found = session.execute(stmt).scalars().unique().all()
        for obj in found:
            _lock_row(_table(obj), _key(obj))
    session.expire_all()
    return list(found)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _table(obj):
    return inspect(obj).mapper.local_table


def _key(obj):
    identity = inspect(obj).identity
    if identity is None:
        raise ValueError("only rows that are already stored can be locked")
    return identity[0]


def _lock_row(table, key) -> None:
    pk = list(table.primary_key.columns)[0]
    if _dialect() == "postgresql":
        db.session.execute(select(pk).where(pk == key).with_for_update())
    else:
        # A write without effect (and without touching `updated_at` columns): SQLite starts a
        # write transaction and holds its single write lock until commit or rollback.
        db.session.execute(
            text(f'UPDATE "{table.name}" SET "{pk.name}" = "{pk.name}" WHERE "{pk.name}" = :key'),
            {"key": key})
