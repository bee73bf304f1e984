"""Forms of this blueprint: local accounts."""
from __future__ import annotations

from innolab.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from ..domain.accounts import MIN_PASSWORD_LENGTH
from ..domain.registration import MAX_PASSWORD_LENGTH
from ..web.forms import plain_name


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _name_field():
    return StringField(
        _l("Name"),
        filters=[_strip],
        validators=[InputRequired(_l("Bitte geben Sie Ihren Namen ein.")),
                    Length(max=200, message=_l("Der Name darf höchstens %(max)d Zeichen lang sein.",
                                               max=200)), plain_name],
        render_kw={"autocomplete": "name"},
    )


def _email_field(label=None):
    return EmailField(
        label or _l("E-Mail-Adresse"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
            Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.")),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def _new_password_fields():
    password = PasswordField(
        _l("Passwort"),
        validators=[
            InputRequired(_l("Bitte geben Sie ein Passwort ein.")),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                   message=_l("Das Passwort muss zwischen %(min)d und %(max)d Zeichen lang sein.",
                              min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Passwort wiederholen"),
        validators=[
            InputRequired(_l("Bitte wiederholen Sie das Passwort.")),
            EqualTo("password", _l("Die beiden Passwörter stimmen nicht überein.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class RegisterForm(FlaskForm):
    email = _email_field()
    name = _name_field()
    password, password_confirm = _new_password_fields()
    consent = BooleanField(
        _l("Ich habe die Datenschutzhinweise gelesen und bin mit der Verarbeitung meiner Daten "
           "für mein Konto einverstanden."),
        validators=[InputRequired(_l("Bitte bestätigen Sie, dass Sie die Datenschutzhinweise "
                                     "gelesen haben."))],
    )


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Passwort"),
        validators=[InputRequired(_l("Bitte geben Sie Ihr Passwort ein.")),
                    Length(max=MAX_PASSWORD_LENGTH,
                           message=_l("E-Mail-Adresse oder Passwort ist falsch."))],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class EmailForm(FlaskForm):
    """Forgot password, resend confirmation: only the address."""

    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password, password_confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Aktuelles Passwort"),
        validators=[InputRequired(_l("Bitte geben Sie Ihr aktuelles Passwort ein."))],
        render_kw={"autocomplete": "current-password"},
    )
    password, password_confirm = _new_password_fields()

    def validate_password(self, field):
        if field.data and field.data == self.current_password.data:
            raise ValidationError(_l("Das neue Passwort muss sich vom aktuellen unterscheiden."))


class SettingsForm(FlaskForm):
    name = _name_field()
    locale = RadioField(
        _l("Sprache der Oberfläche und der E-Mails"),
        choices=[("de", "Deutsch"), ("en", "English")],
        validators=[InputRequired(_l("Bitte wählen Sie eine Sprache."))],
    )


class TermsForm(FlaskForm):
    agree = BooleanField(
        _l("Ich habe die geänderten Datenschutzhinweise gelesen und bin mit der Verarbeitung "
           "meiner Daten für mein Konto einverstanden."),
        validators=[InputRequired(_l("Bitte bestätigen Sie, dass Sie die geänderten "
                                     "Datenschutzhinweise gelesen haben."))])
    next = HiddenField()


class ReauthForm(FlaskForm):
    """Confirming who one is with the password (before a sensitive change)."""

    password = PasswordField(
        _l("Passwort"),
        validators=[InputRequired(_l("Bitte geben Sie Ihr Passwort ein.")),
                    Length(max=MAX_PASSWORD_LENGTH,
                           message=_l("Das Passwort ist nicht richtig."))],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class EmailChangeForm(FlaskForm):
    email = _email_field(_l("Neue E-Mail-Adresse"))
