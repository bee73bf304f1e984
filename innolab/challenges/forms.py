"""Forms of the coordinators' challenge management."""
from __future__ import annotations

from datetime import date

from innolab.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain.challenges import PAST_DEADLINE, ChallengeData
from ..web.forms import VersionedForm, date_of, plain_name, text_of, within_calendar
from ..web.input_checks import bounded_int


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
