"""What the forms of every blueprint share: the one-line rule for names and titles, the
version of a record being edited, and a select list that renders long lists quickly."""
from __future__ import annotations

from contextlib import suppress
from datetime import date

from babel.numbers import NumberFormatError, parse_decimal
from markupsafe import Markup, escape
from wtforms import HiddenField, IntegerField
from wtforms import SelectField as _SelectField
from wtforms.widgets import Select, html_params
from wtforms.validators import ValidationError

from innolab.i18n import format_locale, lazy_gettext as _l

from ..domain.editing import version_of
from ..domain.plaintext import has_address, has_forbidden
from .input_checks import bounded_int

SINGLE_LINE_MESSAGE = _l(
    "Bitte verwenden Sie hier keine Zeilenumbrüche, Tabulatoren oder anderen Steuerzeichen und "
    "keine Zeichen, die die Schreibrichtung umkehren.")


class SingleLine:
    """Refuses control characters (Unicode Cc: CR, LF, TAB, NUL …), line separators and bidi
    overrides in a one-line field such as a name or a title – text that may end up in a mail
    header. Add it to the field's validators: `validators=[..., single_line]`."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_forbidden(field.data):
            raise ValidationError(self.message or SINGLE_LINE_MESSAGE)


single_line = SingleLine()

ADDRESS_MESSAGE = _l(
    "Bitte geben Sie hier keine Webadressen, E-Mail-Adressen oder Domainnamen an (etwa "
    "„https://…“, „www.…“ oder „beispiel.de“). Steht ein Punkt in einer Abkürzung, setzen Sie "
    "bitte ein Leerzeichen dahinter (z. B. „St. Peter“).")


class PlainName(SingleLine):
    """A name or title that other people get to see, in mails too: one line (see SingleLine)
    and no web address, e-mail address or domain-like word, so that it can never be made a
    link or read as the platform's instruction. For person and organisation names and the
    titles of proposals, challenges and what belongs to a pilot."""

    def __call__(self, form, field):
        super().__call__(form, field)
        if isinstance(field.data, str) and has_address(field.data):
            raise ValidationError(ADDRESS_MESSAGE)


plain_name = PlainName()


EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2999, 12, 31)
DATE_RANGE_MESSAGE = _l("Bitte geben Sie ein Datum zwischen dem 01.01.1900 und dem 31.12.2999 an.")


def within_calendar(form, field):
    """A date field's value within EARLIEST_DATE and LATEST_DATE: a date such as 31.12.9999 is
    valid for the browser, but a day later (or the same moment in UTC) no longer exists."""
    if isinstance(field.data, date) and not EARLIEST_DATE <= field.data <= LATEST_DATE:
        raise ValidationError(DATE_RANGE_MESSAGE)


class VersionField(HiddenField):
    """The version of the record the person started from (rendered by form.hidden_tag())."""

    data: int | None  # type: ignore[assignment]  # an int here, not HiddenField's string

    def process_formdata(self, valuelist):
        # not a number the database holds: treated like a form without a version
        self.data = bounded_int(valuelist[0], minimum=0) if valuelist else None


class VersionedForm:
    """Mixin for the edit form of a versioned record (see domain.editing)."""

    version = VersionField()

    def start_from(self, record) -> None:
        """First display of the form: remember the version the person starts from."""
        self.version.data = version_of(record)

    @property
    def seen_version(self) -> int | None:
        return self.version.data

    def continue_from(self, conflict) -> None:
        """After an edit conflict: the next save deliberately replaces what is stored now."""
        self.version.data = conflict.version


def text_of(field) -> str:
    """What a validated text field holds, as text ("" where it was left empty)."""
    return field.data or ""


def date_of(field) -> date:
    """What a validated, required date field holds."""
    if field.data is None:
        raise ValueError(f"{field.name} is required and was validated")
    return field.data


def add_error(field, message) -> None:
    """Show `message` (a refusal of the domain, say) at `field` as one of its errors."""
    field.errors = [*field.errors, str(message)]


AMOUNT_MESSAGE = _l("Bitte geben Sie einen Betrag in ganzen Euro an, zum Beispiel 12500 oder "
                    "12.500.")
AMOUNT_TOO_LARGE = _l("Dieser Betrag ist zu groß.")
AMOUNT_LIMIT = 10 ** 15
# What may stand around and inside an amount besides the number: the currency and spaces
# (normal, no-break and narrow no-break spaces, as thousands separators too).
AMOUNT_NOISE = ("€", "EUR", "Euro", " ", "\u00a0", "\u202f")


class AmountField(IntegerField):
    """Whole euros, written as people write them in the page's language: German „12.500“,
    „12 500“, „12.500 €“ or „12.500,00“; English "12,500" or "12,500.00". A fraction of a euro
    or a number with its separators in the wrong places is refused with AMOUNT_MESSAGE, and the
    field keeps what was typed."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0]
        for noise in AMOUNT_NOISE:
            text = text.replace(noise, "")
        amount = None
        if text and text.strip("0123456789.,") == "" and text[0].isdigit():
            # digits and the page language's separators only (no "1e5", no sign)
            with suppress(NumberFormatError):
                amount = parse_decimal(text, locale=format_locale(), strict=True)
        if amount is None or not amount.is_finite() or amount != amount.to_integral_value():
            self.data = None
            raise ValueError(str(AMOUNT_MESSAGE))
        if amount >= AMOUNT_LIMIT:  # the field's own range check names its bounds below that
            self.data = None
            raise ValueError(str(AMOUNT_TOO_LARGE))
        self.data = int(amount)


class QuickSelect(Select):
    """WTForms' select widget with the same HTML, built in one pass: WTForms renders each
    option through `html_params` (6 ms for the 200 challenges of the inbox filter, a fifth of
    that page's time; this takes under 2). Groups, `multiple` and options with their own
    attributes take WTForms' way."""

    def __call__(self, field, **kwargs):
        if self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in self.validation_attrs:
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = getattr(flags, name)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for choice in field._iter_choices_normalized():
            if choice.render_kw:
                html.append(self.render_option(choice))
                continue
            value = str(choice.value) if isinstance(choice.value, bool) else choice.value
            # html_params sorts: "selected" comes before "value"
            html.append(f'<option {"selected " if choice.selected else ""}value="{escape(value)}">'
                        f"{escape(choice.label or choice.value)}</option>")
        html.append("</select>")
        return Markup("".join(html))


class SelectField(_SelectField):
    """A select field rendered by QuickSelect, for lists that can grow long."""

    widget = QuickSelect()
