"""Forms of "Ihre Daten": deleting the account, one form per way to confirm it."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from innolab.i18n import lazy_gettext as _l

from ..domain.passwords import MAX_PASSWORD_LENGTH


def _understood():
    return BooleanField(
        _l("Ich habe verstanden, dass mein Konto endgültig gelöscht wird und nicht "
           "wiederhergestellt werden kann."),
        validators=[InputRequired(_l("Bitte bestätigen Sie, dass Sie Ihr Konto endgültig "
                                     "löschen möchten."))])


class DeleteWithPasswordForm(FlaskForm):
    """Confirmation by the current password (CONFIRMATIONS["password"])."""

    method = "password"
    understood = _understood()
    password = PasswordField(
        _l("Ihr aktuelles Passwort"),
        validators=[InputRequired(_l("Bitte geben Sie Ihr aktuelles Passwort ein.")),
                    Length(max=MAX_PASSWORD_LENGTH,
                           message=_l("Das Passwort ist nicht richtig."))],
        render_kw={"autocomplete": "current-password"})

    def value(self) -> str:
        return self.password.data or ""


class DeleteByLinkForm(FlaskForm):
    """The last step of the confirmation by a link in a mail (CONFIRMATIONS["mail_link"])."""

    method = "mail_link"
    understood = _understood()


class DeleteWithSecondFactorForm(FlaskForm):
    """Confirmation by a code of the second factor (CONFIRMATIONS["second_factor"])."""

    method = "second_factor"
    understood = _understood()
    code = StringField(
        _l("Code aus Ihrer Authenticator-App oder Wiederherstellungscode"),
        validators=[InputRequired(_l("Bitte geben Sie einen Code ein.")),
                    Length(max=40, message=_l("Der Code ist nicht richtig."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"})

    def value(self) -> str:
        return self.code.data or ""


# The form of each inline way to confirm (domain.privacy.CONFIRMATIONS).
INLINE_FORMS = {"password": DeleteWithPasswordForm, "second_factor": DeleteWithSecondFactorForm}
