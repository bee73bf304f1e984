"""Lazy translations that are safe in templates.

Flask-Babel's LazyString declares `__html__`, so Jinja and markupsafe treat it as already
escaped markup – including values interpolated into it (a title a user typed, say). Every
module here uses `lazy_gettext` from this module instead: its strings are escaped like any
other text when they reach HTML.
"""
from __future__ import annotations

from flask_babel import gettext
from flask_babel.speaklater import LazyString
from markupsafe import escape

# The languages of the platform (config LANGUAGES, page texts, account and sign-in languages),
# German first: it is the language of every source string.
LOCALES = ("de", "en")
DEFAULT_LOCALE = "de"


class LazyText(LazyString):
    def __html__(self) -> str:
        return str(escape(str(self)))


def lazy_gettext(string: str, **variables) -> LazyText:
    return LazyText(gettext, string, **variables)
