"""Pages of a long list whose cost does not grow with the list.

`db.paginate` asks the database for the page's rows with `LIMIT … OFFSET …`: to skip the
first 9,990 rows of the last page the database reads them whole (every wide text column of
every skipped proposal, from the table), and the count reads every row again. `paginate`
here asks first for the keys of the page only (`SELECT id … LIMIT … OFFSET …`, which an
index holding the sort and filter columns answers without touching the table), then for the
rows of those keys, and counts keys rather than rows. The page and the interface stay the
same as Flask-SQLAlchemy's (`items`, `total`, `pages`, `iter_pages` …), so the pagination
macro and the API serve both.

The indexes that make the key query cheap are listed in docs/performance.md; a list with
a new filter or sort needs one (check it with EXPLAIN at the large benchmark size).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import SelectPagination

from ..extensions import db


class KeyPagination(SelectPagination):
    """A page found by its keys first (see the module's docstring)."""

    def _query_items(self) -> list[Any]:
        select, key = self._query_args["select"], self._query_args["key"]
        session = self._query_args["session"]
        keys = list(session.execute(
            select.with_only_columns(key).limit(self.per_page).offset(self._query_offset)
        ).scalars())
        if not keys:
            return []
        rows = session.execute(select.where(key.in_(keys))).unique().scalars()
        # the order of the keys query (the rows query may return them in another order)
        by_key = {row_key: row for row in rows if (row_key := getattr(row, key.key)) in keys}
        return [by_key[k] for k in keys if k in by_key]

    def _query_count(self) -> int:
        select, key = self._query_args["select"], self._query_args["key"]
        sub = select.with_only_columns(key).order_by(None).subquery()
        return int(self._query_args["session"].execute(
            sa.select(sa.func.count()).select_from(sub)).scalar() or 0)


def paginate(select: sa.Select, key, *, page: int = 1, per_page: int = 10,
             max_per_page: int | None = 100) -> KeyPagination:
    """The `page` of `select` (an ORM select of one entity, ordered), found by `key` (its
    primary key column). Pages past the end are empty, never an error."""
    return KeyPagination(select=select, key=key, session=db.session, page=page,
                         per_page=per_page, max_per_page=max_per_page, error_out=False)
