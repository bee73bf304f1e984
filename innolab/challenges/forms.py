"""Forms of the coordinators' challenge management."""
from __future__ import annotations

from datetime import date

from innolab.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain import criteria
from ..domain.challenges import PAST_DEADLINE, ChallengeData
from ..web.forms import VersionedForm, date_of, plain_name, text_of, within_calendar
from ..web.input_checks import bounded_int


MAX_REVIEWS_NEEDED = 10  # as the database's check on challenges.reviews_needed


def _int_or_none(value):
    return bounded_int(value)


class ChallengeForm(VersionedForm, FlaskForm):
    title = StringField(_l("Titel"), validators=[
        DataRequired(_l("Bitte geben Sie einen Titel ein.")),
        Length(max=200, message=_l("Höchstens %(max)d Zeichen.")), plain_name])
    summary = TextAreaField(_l("Kurzbeschreibung"), validators=[
        DataRequired(_l("Bitte geben Sie eine Kurzbeschreibung ein.")),
        Length(max=500, message=_l("Höchstens %(max)d Zeichen."))])
    description = TextAreaField(_l("Beschreibung"), validators=[
        DataRequired(_l("Bitte beschreiben Sie die Herausforderung.")),
        Length(max=20000, message=_l("Höchstens %(max)d Zeichen."))])
    title_en = StringField(_l("Titel (Englisch, optional)"), validators=[
        Optional(), Length(max=200, message=_l("Höchstens %(max)d Zeichen.")), plain_name])
    summary_en = TextAreaField(_l("Kurzbeschreibung (Englisch, optional)"), validators=[
        Optional(), Length(max=500, message=_l("Höchstens %(max)d Zeichen."))])
    description_en = TextAreaField(_l("Beschreibung (Englisch, optional)"), validators=[
        Optional(), Length(max=20000, message=_l("Höchstens %(max)d Zeichen."))])
    authority = SelectField(_l("Behörde"), coerce=_int_or_none, validators=[
        DataRequired(_l("Bitte wählen Sie eine Behörde."))])
    topics = SelectMultipleField(_l("Themen"), coerce=int, widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())
    deadline = DateField(_l("Frist"), validators=[
        InputRequired(_l("Bitte geben Sie eine Frist an.")), within_calendar])

    def __init__(self, *args, authorities=(), topics=(), locale="de", status=None,
                 today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.authority.choices = [SelectChoice("", _l("Bitte wählen"))] + [
            SelectChoice(a.id, a.name) for a in authorities]
        self.topics.choices = [SelectChoice(t.id, t.name_for(locale)) for t in topics]
        self._status = status
        self._today = today

    def validate_deadline(self, field):
        # A published challenge must keep a deadline that has not passed.
        today = self._today or date.today()
        if self._status == "published" and field.data and field.data < today:
            raise ValidationError(PAST_DEADLINE)

    def data_object(self) -> ChallengeData:
        return ChallengeData(title=text_of(self.title), summary=text_of(self.summary),
                             description=text_of(self.description),
                             title_en=self.title_en.data, summary_en=self.summary_en.data,
                             description_en=self.description_en.data,
                             authority_id=self.authority.data, deadline=date_of(self.deadline),
                             topic_ids=list(self.topics.data or []))


# ---------------------------------------------------------------- the challenge's criteria


class NumberChoice(SelectField):
    """A select of numbers; a value not offered is a form error in the user's language."""

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.data not in {c.value for c in self.choices}:
            raise ValidationError(_l("Bitte wählen Sie einen der angebotenen Werte."))


class CriterionForm(FlaskForm):
    name_de = StringField(_l("Name"), validators=[
        DataRequired(_l("Bitte geben Sie einen Namen ein.")),
        Length(max=120, message=_l("Höchstens %(max)d Zeichen.")), plain_name])
    name_en = StringField(_l("Name (Englisch, optional)"), validators=[
        Optional(), Length(max=120, message=_l("Höchstens %(max)d Zeichen.")), plain_name])
    description_de = TextAreaField(_l("Beschreibung (optional)"), validators=[
        Optional(), Length(max=2000, message=_l("Höchstens %(max)d Zeichen."))])
    description_en = TextAreaField(_l("Beschreibung (Englisch, optional)"), validators=[
        Optional(), Length(max=2000, message=_l("Höchstens %(max)d Zeichen."))])
    weight = NumberChoice(_l("Gewicht"), coerce=_int_or_none, default=1, validators=[
        InputRequired(_l("Bitte wählen Sie ein Gewicht."))])
    scale_max = NumberChoice(_l("Skala: von 1 bis"), coerce=_int_or_none,
                             default=criteria.DEFAULT_SCALE, validators=[
                                 InputRequired(_l("Bitte wählen Sie den Höchstwert der Skala."))])
    knockout_min = NumberChoice(_l("Mindestwert (Ausschlusskriterium, optional)"),
                                coerce=_int_or_none, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight.choices = [SelectChoice(n, str(n))
                               for n in range(1, criteria.MAX_WEIGHT + 1)]
        self.scale_max.choices = [SelectChoice(n, str(n)) for n in criteria.SCALES]
        self.knockout_min.choices = [SelectChoice("", _l("kein Mindestwert"))] + [
            SelectChoice(n, str(n)) for n in range(2, criteria.SCALES[-1] + 1)]

    def validate_knockout_min(self, field):
        scale = self.scale_max.data
        if field.data is not None and scale is not None and field.data > scale:
            raise ValidationError(_l("Der Mindestwert darf nicht über dem Höchstwert der Skala "
                                     "(%(max)d) liegen.", max=scale))

    def data_object(self) -> criteria.CriterionData:
        return criteria.CriterionData(
            name_de=text_of(self.name_de), name_en=self.name_en.data,
            description_de=self.description_de.data, description_en=self.description_en.data,
            weight=self.weight.data or 0, scale_max=self.scale_max.data or 0,
            knockout_min=self.knockout_min.data)


class RoundsForm(FlaskForm):
    """Whether the challenge's first round of review is anonymised."""

    anonymised_first_round = BooleanField(_l("Erste Begutachtungsrunde anonymisieren"))


class ReviewsNeededForm(FlaskForm):
    """How many reviews each proposal to the challenge needs."""

    reviews_needed = NumberChoice(_l("Gutachten je Vorschlag"), coerce=_int_or_none,
                                  validators=[InputRequired(_l("Bitte wählen Sie eine Zahl."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reviews_needed.choices = [SelectChoice(n, str(n))
                                       for n in range(1, MAX_REVIEWS_NEEDED + 1)]

    def validate_reviews_needed(self, field):
        if field.data is None:  # not a number, or out of any range
            raise ValidationError(_l("Bitte wählen Sie einen der angebotenen Werte."))
