"""Searching text in the database: what a person types is matched as text, never as a pattern.

`%`, `_` and the escape character itself are escaped, so "100%" finds "100%" and not
everything that starts with "100". Case is ignored the same way on SQLite and PostgreSQL
(SQLite gets a Unicode-aware `lower()`, see docs/development.md).
"""
from __future__ import annotations

from sqlalchemy import func

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` with the LIKE wildcards escaped (use with escape=ESCAPE)."""
    return (text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%")
            .replace("_", ESCAPE + "_"))


def contains(column, text: str):
    """A condition: `column` contains `text`, whatever its case."""
    return func.lower(column).like(f"%{escape_like(text.lower())}%", escape=ESCAPE)


def starts_with(column, text: str):
    """A condition: `column` starts with `text` (case as given)."""
    return column.like(escape_like(text) + "%", escape=ESCAPE)
