"""Forms of the second factors."""
from __future__ import annotations

from flask_wtf import FlaskForm
from innolab.i18n import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ..domain.mfa import POLICIES, POLICY_LABELS
from ..web.forms import single_line


def _name_field():
    return StringField(
        _l("Bezeichnung"), validators=[Length(max=100, message=_l(
            "Die Bezeichnung darf höchstens %(max)d Zeichen lang sein.", max=100)), single_line],
        render_kw={"autocomplete": "off"})


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"), validators=[
            InputRequired(_l("Bitte geben Sie den Code ein.")),
            Length(max=40, message=_l("Der Code ist zu lang."))],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false",
                   "autocapitalize": "none"})


class PasskeyForm(FlaskForm):
    credential = HiddenField()


class TotpSetupForm(FlaskForm):
    name = _name_field()
    code = StringField(
        _l("Code aus der App"), validators=[
            InputRequired(_l("Bitte geben Sie den sechsstelligen Code aus Ihrer App ein.")),
            Length(max=20, message=_l("Der Code ist zu lang."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "spellcheck": "false"})
    setup = HiddenField()


class PasskeySetupForm(FlaskForm):
    name = _name_field()
    credential = HiddenField()


class RenameForm(FlaskForm):
    name = _name_field()


class ButtonForm(FlaskForm):
    pass


class PolicyForm(FlaskForm):
    policy = RadioField(_l("Zweiter Faktor für Mitarbeitende"),
                        choices=[(p, POLICY_LABELS[p]) for p in POLICIES],
                        validators=[InputRequired(_l("Bitte wählen Sie eine Regel."))])


class AdminResetForm(FlaskForm):
    reason = TextAreaField(
        _l("Grund und wie die Identität geprüft wurde"),
        validators=[InputRequired(_l("Bitte geben Sie den Grund an.")),
                    Length(max=500, message=_l("Höchstens %(max)d Zeichen.", max=500))])
    confirm = BooleanField(
        _l("Ich habe über einen zweiten Weg (etwa einen Rückruf unter der bekannten Nummer "
           "oder persönlich) geprüft, dass die Anfrage von der Person selbst kommt."),
        validators=[DataRequired(_l("Bitte bestätigen Sie die Prüfung der Identität."))])
