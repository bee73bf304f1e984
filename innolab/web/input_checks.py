"""Hostile input never becomes a server error: numbers the database cannot hold and characters
its text columns refuse are answered before any view runs.

- **Numbers.** Ids are 32-bit integers in the database; PostgreSQL refuses a larger number in a
  query (`/challenges/2147483648` was a 500). The `int` converter of every route is
  `BoundedInt`, so a path number above INT_MAX matches no route (404). Numbers from the query
  or a form go through `bounded_int` (out of range is "not given"/"no such object").
- **Characters.** PostgreSQL text cannot hold NUL (U+0000), and no database driver can write a
  lone surrogate (U+D800–U+DFFF, possible in JSON as `"\\ud800"`). A request carrying one in
  its path, a query or form parameter (name or value), the name of an uploaded file or a JSON
  body is refused as a whole with 400 and a clear message – on SQLite too, so both databases
  behave alike. They are never stripped: what was typed is not silently changed, and no field
  is treated differently from another.
"""
from __future__ import annotations

from flask import request
from innolab.i18n import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

INT_MAX = 2_147_483_647  # PostgreSQL's INTEGER, the type of every id column

REFUSED_CHARACTER = _l(
    "Ihre Eingabe enthält ein unzulässiges Steuerzeichen (etwa ein Nullbyte), das nicht "
    "gespeichert werden kann. Bitte entfernen Sie es – oft hilft es, den Text neu zu tippen "
    "statt ihn einzufügen – und senden Sie die Eingabe erneut.")


class BoundedInt(IntegerConverter):
    """`<int:…>` that matches only numbers up to INT_MAX (unless the rule names a max)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=INT_MAX if max is None else max, signed=signed)


def bounded_int(value, minimum: int = -INT_MAX - 1, maximum: int = INT_MAX) -> int | None:
    """`value` (text or number) as an int the database can hold, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not text or len(text) > 12:  # also keeps int() from parsing megabytes of digits
            return None
        try:
            number = int(text)
        except ValueError:
            return None
    return number if minimum <= number <= maximum else None


class RefusedCharacter(BadRequest):
    """The request holds a character no text column can store; answered by web/errors.py."""

    description = str(REFUSED_CHARACTER)


def is_refused(text: str) -> bool:
    """NUL or a lone surrogate: what no text column of either database can store."""
    return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)


def _refused_in(value, depth: int = 0) -> bool:
    if isinstance(value, str):
        return is_refused(value)
    if depth > 50:  # deeper than any body we read; json has parsed it already
        return False
    if isinstance(value, dict):
        return any(_refused_in(k, depth + 1) or _refused_in(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, list):
        return any(_refused_in(v, depth + 1) for v in value)
    return False


def refused_input() -> bool:
    """Whether this request carries a character no text column can store."""
    if is_refused(request.path):
        return True
    for params in (request.args, request.form):
        for key, values in params.lists():
            if is_refused(key) or any(is_refused(v) for v in values):
                return True
    for key, storage in request.files.items(multi=True):
        if is_refused(key) or is_refused(storage.filename or ""):
            return True
    if request.is_json:
        body = request.get_json(silent=True)
        if _refused_in(body):
            return True
    return False


def _check_input() -> None:
    if refused_input():
        raise RefusedCharacter()


def init_app(app) -> None:
    """Before any blueprint is registered: the rules must be made with BoundedInt."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_check_input)
