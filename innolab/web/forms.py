"""What the forms of every blueprint share."""
from __future__ import annotations

from wtforms.validators import ValidationError

from innolab.i18n import lazy_gettext as _l

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
