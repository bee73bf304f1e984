"""Searching text in the database: what a person types is matched as text, never as a pattern.

`%`, `_` and the escape character itself are escaped, so "100%" finds "100%" and not
everything that starts with "100". Case is ignored the same way on SQLite and PostgreSQL
(SQLite gets a Unicode-aware `lower()`, see docs/development.md), and so is the German ß:
"STRASSENBLICK" finds "StraßenBlick", "Straße" finds "Strasse" (Swiss spelling, or a
keyboard without ß).
"""
from __future__ import annotations

from sqlalchemy import func

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` with the LIKE wildcards escaped (use with escape=ESCAPE)."""
    return (text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%")
            .replace("_", ESCAPE + "_"))


def fold(text: str) -> str:
    """`text` as searches compare it: lower case, ß as ss (ẞ lowers to ß first)."""
    return text.lower().replace("ß", "ss")


def folded(column):
    """The SQL of `fold` for a column: the same on SQLite and PostgreSQL."""
    return func.replace(func.lower(column), "ß", "ss")


def contains(column, text: str):
    """A condition: `column` contains `text`, whatever its case and however ß is written."""
    return folded(column).like(f"%{escape_like(fold(text))}%", escape=ESCAPE)


def starts_with(column, text: str):
    """A condition: `column` starts with `text` (case as given)."""
    return column.like(escape_like(text) + "%", escape=ESCAPE)
