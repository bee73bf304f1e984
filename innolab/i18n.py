"""Lazy translations that are safe in templates.

Flask-Babel's LazyString declares `__html__`, so Jinja and markupsafe treat it as already
escaped markup – including values interpolated into it (a title a user typed, say). Every
module here uses `lazy_gettext` from this module instead: its strings are escaped like any
other text when they reach HTML.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from babel import Locale, dates, numbers
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


def format_euro(value) -> str:
    """An amount of whole euros in the page's language (the template filter `euro`)."""
    if value is None:
        return ""
    return numbers.format_currency(value, "EUR", format="#,##0\u00a0¤", currency_digits=False,
                           locale=format_locale())


def page_locale() -> str:
    """The language of the page (or feed) being made."""
    return str(get_locale() or DEFAULT_LOCALE)


def lang_attr(content_locale: str | None = None) -> Markup:
    """` lang="de"` for an element whose text users entered, when the page is not German;
    nothing when the page speaks the text's language."""
    locale = content_locale or CONTENT_LOCALE
    if locale == page_locale():
        return Markup("")
    return Markup(' lang="%s"') % locale


def in_content_lang(value, content_locale: str | None = None) -> Markup:
    """The `de` filter: text users entered, in a `<span lang="de">` when the page is not
    German (escaped like any text; markup from `|markdown` is kept). A `Localized` text
    brings its own language."""
    if isinstance(value, Localized):
        value, content_locale = value.text, content_locale or value.locale
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
            # the text as written now (a lazy text would be translated again when shown, and
            # cannot be kept as JSON by a form's receipt, web/once.py)
            flashes[-1] = (last[0], str(last[1]), page_locale())
            session.modified = True


def reflash(flashes: list) -> None:
    """Show again messages kept from an earlier answer (the form sent twice, web/once.py),
    each with the language it was written in."""
    if flashes:
        session.setdefault("_flashes", []).extend(tuple(item) for item in flashes)
        session.modified = True


def flash_messages() -> list[tuple[str, str, str | None]]:
    """(category, message, its language if not the page's) of the messages waiting for this
    page."""
    page = page_locale()
    out = []
    for item in get_flashed_messages(with_categories=True):
        category, message, *rest = tuple(item)  # (category, message[, language])
        lang = rest[0] if rest and rest[0] != page else None
        out.append((category, message, lang))
    return out


# ---------------------------------------------------------------- texts written in two languages
#
# Challenges and pilots may carry their public texts in English as well (`title_en`,
# `summary_en`, `description_en` next to the German `title`, `summary`, `description`). Which
# one a page shows is decided here and nowhere else: the page's language when the record has a
# text in it, the German text otherwise – marked `lang="de"` on an English page.


@dataclass(frozen=True)
class Localized:
    """A text of a record in the language chosen for the page, and that language.

    In a template it prints as its (escaped) text; `lang` is the attribute for the start tag of
    the element showing it (empty when the text speaks the page's language); `|de` marks it
    inline with its own language."""

    text: str | None
    locale: str

    def __str__(self) -> str:
        return self.text or ""

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __bool__(self) -> bool:
        return bool(self.text)

    @property
    def lang(self) -> Markup:
        return lang_attr(self.locale)


def _text_in(obj, name: str, locale: str) -> str | None:
    """`obj`'s `<name>_<locale>` when it holds more than white space."""
    value = getattr(obj, f"{name}_{locale}", None)
    return value if isinstance(value, str) and value.strip() else None


def localized(obj, name: str, locale: str | None = None) -> Localized:
    """`obj`'s text `name` for a page in `locale` (default: the current page's): the text in
    that language (`<name>_<locale>`) when there is one, the German `<name>` otherwise."""
    locale = locale or page_locale()
    if locale != DEFAULT_LOCALE:
        text = _text_in(obj, name, locale)
        if text is not None:
            return Localized(text, locale)
    return Localized(getattr(obj, name, None), DEFAULT_LOCALE)
