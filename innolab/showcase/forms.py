"""Forms of the public showcase: the search and filter forms (GET, no CSRF needed) and the
feedback form of the accessibility statement."""
from __future__ import annotations

from flask_wtf import FlaskForm
from innolab.i18n import lazy_gettext as _l
from wtforms import EmailField, Form, SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
from wtforms.validators import Email, InputRequired, Length, Optional

from ..domain.organisations import KIND_LABELS
from ..domain.showcase import CLOSED, OPEN, PUBLIC_PILOT_STATES
from ..domain.states import status_label
from ..web.forms import single_line

ALL = ""


class _FilterForm(Form):
    """Filters read from the query string. A value that does not fit is ignored, never a 500."""

    q = SearchField(_l("Suchbegriff"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), validators=[Optional()])
    topic = SelectField(_l("Thema"), validators=[Optional()])
    authority = SelectField(_l("Behörde"), validators=[Optional()])

    def set_choices(self, topics, authorities, locale: str) -> None:
        self.topic.choices = [SelectChoice(ALL, _l("Alle Themen"))] + [
            SelectChoice(t.slug, t.name_for(locale)) for t in topics]
        self.authority.choices = [SelectChoice(ALL, _l("Alle Behörden"))] + [
            SelectChoice(str(a.id), a.name) for a in authorities]

    FIELDS: tuple[str, ...] = ("q", "status", "topic", "authority")

    def cleaned(self) -> dict:
        """The valid filter values; invalid or empty ones become None."""
        self.validate()
        values = {}
        for name in self.FIELDS:
            field = self[name]
            value = field.data if not field.errors else None
            values[name] = (value or "").strip() or None if isinstance(value, str) else value
        if (authority := values.get("authority")) is not None:
            values["authority"] = int(authority)
        return values

    def args(self) -> dict:
        """The active filters as query arguments (for links to other pages of results)."""
        return {k: v for k, v in self.cleaned().items() if v not in (None, "")}


class ChallengeFilterForm(_FilterForm):
    status = SelectField(_l("Status"), validators=[Optional()], choices=[
        SelectChoice(ALL, _l("Alle")), SelectChoice(OPEN, _l("Offen")),
        SelectChoice(CLOSED, _l("Geschlossen"))])


class PilotFilterForm(_FilterForm):
    status = SelectField(_l("Status"), validators=[Optional()], choices=[
        SelectChoice(ALL, _l("Alle"))] + [
        SelectChoice(s, status_label(s)) for s in PUBLIC_PILOT_STATES])


class ResultsFilterForm(_FilterForm):
    """The results overview: the status select filters by the recommendation."""

    status = SelectField(_l("Empfehlung"), validators=[Optional()], choices=[
        SelectChoice(ALL, _l("Alle Empfehlungen")),
        SelectChoice("roll_out", _l("Ausrollen")),
        SelectChoice("extend", _l("Verlängern")),
        SelectChoice("stop", _l("Beenden"))])

    def filters(self) -> dict:
        """The ResultsFilter arguments (status is the recommendation)."""
        values = self.cleaned()
        values["recommendation"] = values.pop("status")
        return values


class OrganisationFilterForm(_FilterForm):
    """The directory of partner organisations: a search and their kind."""

    FIELDS = ("q", "kind")
    status = topic = authority = None  # type: ignore[assignment]  # not asked here
    kind = SelectField(_l("Art der Organisation"), validators=[Optional()], choices=[
        SelectChoice(ALL, _l("Alle Arten"))] + [
        SelectChoice(k, label) for k, label in KIND_LABELS.items()])


class FeedbackForm(FlaskForm):
    """The feedback mechanism of the accessibility statement (anyone may send it)."""

    name = StringField(_l("Ihr Name"), validators=[Optional(), Length(max=200), single_line])
    email = EmailField(_l("Ihre E-Mail-Adresse"), validators=[
        InputRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an, damit wir Ihnen antworten "
                         "können.")),
        Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang.")),
        Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel "
                 "name@beispiel.de."), check_deliverability=False),
    ])
    page_url = StringField(_l("Betroffene Seite oder Adresse (URL)"), validators=[
        Optional(), Length(max=500, message=_l("Die Adresse ist zu lang (höchstens 500 "
                                               "Zeichen).")), single_line])
    description = TextAreaField(_l("Beschreibung der Barriere"), validators=[
        InputRequired(_l("Bitte beschreiben Sie, was nicht barrierefrei ist.")),
        Length(min=10, max=5000, message=_l("Bitte beschreiben Sie die Barriere mit 10 bis "
                                            "5000 Zeichen.")),
    ])
