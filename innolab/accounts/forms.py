"""Forms of the organisations area: profile, invitation, handing over ownership."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from innolab.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from ..domain.organisations import KIND_LABELS
from ..web.forms import VersionedForm, plain_name, single_line

try:  # WTForms 3.3 deprecates plain tuples as choices
    from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
except ImportError:  # pragma: no cover - WTForms 3.2
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


_BARE_DOMAIN = re.compile(r"^[\w-]+(\.[\w-]+)+([/?#]|$)", re.UNICODE)


def _add_scheme(value):
    """"www.example.org" -> "https://www.example.org"; anything with a scheme stays as typed."""
    if isinstance(value, str) and value and _BARE_DOMAIN.match(value):
        return "https://" + value
    return value


def web_address(form, field):
    value = field.data
    if not value:
        return
    parts = urlsplit(value)
    host = parts.hostname or ""
    if (parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in value)
            or ("." not in host and host != "localhost")):
        raise ValidationError(_l("Bitte geben Sie eine gültige Webadresse an, die mit http:// "
                                 "oder https:// beginnt, z. B. https://www.beispiel.de."))


class OrganisationForm(VersionedForm, FlaskForm):
    name = StringField(
        _l("Name der Organisation"), filters=[_strip],
        validators=[DataRequired(_l("Bitte geben Sie den Namen der Organisation ein.")),
                    Length(max=200, message=_l("Bitte höchstens %(max)d Zeichen.")),
                    plain_name])
    kind = SelectField(
        _l("Art der Organisation"),
        choices=[SelectChoice("", _l("Bitte wählen"))]
        + [SelectChoice(k, label) for k, label in KIND_LABELS.items()],
        validators=[InputRequired(_l("Bitte wählen Sie eine Art der Organisation."))],
        validate_choice=False)
    website = URLField(
        _l("Website"), filters=[_strip, _add_scheme],
        validators=[Optional(), Length(max=300, message=_l("Bitte höchstens %(max)d Zeichen.")),
                    web_address])
    city = StringField(
        _l("Ort"), filters=[_strip],
        validators=[Optional(), Length(max=120, message=_l("Bitte höchstens %(max)d Zeichen.")),
                    single_line])
    description = TextAreaField(
        _l("Beschreibung"), filters=[_strip],
        validators=[Optional(),
                    Length(max=5000, message=_l("Bitte höchstens %(max)d Zeichen."))])

    def validate_kind(self, field):
        if field.data not in KIND_LABELS:
            raise ValidationError(_l("Bitte wählen Sie eine Art der Organisation."))

    def profile(self) -> dict:
        return {name: getattr(self, name).data
                for name in ("name", "kind", "website", "city", "description")}


class InviteForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse"), filters=[_strip],
        validators=[DataRequired(_l("Bitte geben Sie eine E-Mail-Adresse ein.")),
                    Length(max=254, message=_l("Bitte höchstens %(max)d Zeichen.")),
                    Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. "
                             "name@beispiel.de."))])


class TransferForm(FlaskForm):
    user_id = SelectField(_l("Neue Eigentümerin oder neuer Eigentümer"), coerce=str,
                          validate_choice=False)

    def __init__(self, candidates=(), **kwargs):
        """`candidates`: the memberships that may take over."""
        super().__init__(**kwargs)
        self.candidates = {str(m.user_id): m for m in candidates}
        self.user_id.choices = [SelectChoice("", _l("Bitte wählen"))] + [
            SelectChoice(uid, f"{m.user.name} ({m.user.email})")
            for uid, m in self.candidates.items()]

    def validate_user_id(self, field):
        if field.data not in self.candidates:
            raise ValidationError(_l("Bitte wählen Sie ein Mitglied der Organisation aus."))

    @property
    def target(self):
        return self.candidates.get(self.user_id.data)
