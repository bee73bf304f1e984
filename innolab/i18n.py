"""Lazy translations that are safe in templates.

Flask-Babel's LazyString declares `__html__`, so Jinja and markupsafe treat it as already
escaped markup – including values interpolated into it (a title a user typed, say). Every
module here uses `lazy_gettext` from this module instead: its strings are escaped like any
other text when they reach HTML.
"""
from __future__ import annotations

from datetime import date, datetime

from babel import Locale, dates
from flask import get_flashed_messages, session
from flask_babel import get_locale, get_timezone, gettext, to_user_timezone
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

# The languages of the platform (config LANGUAGES, page texts, account and sign-in languages),
# German first: it is the language of every source string.
LOCALES = ("de", "en")
DEFAULT_LOCALE = "de"


class LazyText(LazyString):
    def __html__(self) -> str:
        return str(escape(str(self)))


def lazy_gettext(string: str, **variables) -> LazyText:
    return LazyText(gettext, string, **variables)


# ---------------------------------------------------------------- dates and numbers
#
# Dates follow the language of the page: German "1. Dezember 2026" / "01.12.2026", English in
# British style "1 December 2026" / "1 Dec 2026" / "01/12/2026" (the platform serves a German
# state agency; Babel's plain "en" is American: "Dec 1, 2026", "12/1/26, 10:00 AM"). Every
# date the app shows goes through these functions (the `date` and `datetime` template filters,
# the edit-conflict notices, the PDF record), so the rule is kept in one place.
FORMAT_LOCALES = {"de": "de_DE", "en": "en_GB"}


def format_locale() -> Locale:
    """The Babel locale whose formats the current page uses (en → en_GB)."""
    ui = str(get_locale() or DEFAULT_LOCALE)
    return Locale.parse(FORMAT_LOCALES.get(ui, ui))


def format_date(value: date | datetime, fmt: str = "medium") -> str:
    """A date (a moment: its day in the user's time zone) in the page's language."""
    if isinstance(value, datetime):
        value = to_user_timezone(value)
    return dates.format_date(value, fmt, locale=format_locale())


def format_datetime(value: datetime, fmt: str = "medium") -> str:
    """A moment, in the user's time zone, in the page's language."""
    return dates.format_datetime(value, fmt, tzinfo=get_timezone(), locale=format_locale())


# ---------------------------------------------------------------- the language of user content
#
# What partners and staff type (titles, descriptions, comments) is German unless its language
# is known (a page text has its locale, a topic a name per language). On a page in another
# language such text is marked (WCAG 3.1.2, language of parts), so that screen readers read it
# with German rules: `lang_attr()` inside a start tag, `|de` around inline text.
CONTENT_LOCALE = DEFAULT_LOCALE


def _page_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def lang_attr(content_locale: str | None = None) -> Markup:
    """` lang="de"` for an element whose text users entered, when the page is not German;
    nothing when the page speaks the text's language."""
    locale = content_locale or CONTENT_LOCALE
    if locale == _page_locale():
        return Markup("")
    return Markup(' lang="%s"') % locale


def in_content_lang(value, content_locale: str | None = None) -> Markup:
    """The `de` filter: text users entered, in a `<span lang="de">` when the page is not
    German (escaped like any text; markup from `|markdown` is kept)."""
    if value is None or value == "":
        return Markup("")
    text = escape(value)
    attr = lang_attr(content_locale)
    if not attr:
        return text
    return Markup("<span%s>%s</span>") % (attr, text)


# ---------------------------------------------------------------- messages shown on the next page
#
# A flash message is translated when it is made, and shown on the next page. Should the
# language change between the two (the language switch, a second tab), the message keeps the
# language it was written in and is marked so (WCAG 3.1.2). Every flash, Flask-Login's too,
# passes through `record_flash_locale` (the `message_flashed` signal), which notes the
# language beside it; `flash_messages` is what the page's message area shows.


def record_flash_locale(sender, message, category, **extra) -> None:
    flashes = session.get("_flashes")
    if flashes:
        last = tuple(flashes[-1])
        if len(last) == 2:
            flashes[-1] = (*last, _page_locale())
            session.modified = True


def flash_messages() -> list[tuple[str, str, str | None]]:
    """(category, message, its language if not the page's) of the messages waiting for this
    page."""
    page = _page_locale()
    out = []
    for item in get_flashed_messages(with_categories=True):
        category, message, *rest = tuple(item)  # (category, message[, language])
        lang = rest[0] if rest and rest[0] != page else None
        out.append((category, message, lang))
    return out
