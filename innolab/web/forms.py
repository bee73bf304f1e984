"""What the forms of every blueprint share: the one-line rule for names and titles, and the
version of a record being edited."""
from __future__ import annotations

from datetime import date

from wtforms import HiddenField
from wtforms.validators import ValidationError

from innolab.i18n import lazy_gettext as _l

from ..domain.editing import version_of
from ..domain.plaintext import has_forbidden

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


class VersionField(HiddenField):
    """The version of the record the person started from (rendered by form.hidden_tag())."""

    data: int | None  # type: ignore[assignment]  # an int here, not HiddenField's string

    def process_formdata(self, valuelist):
        try:
            self.data = int(valuelist[0]) if valuelist and valuelist[0] != "" else None
        except (TypeError, ValueError):
            self.data = None  # treated like a form without a version


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
