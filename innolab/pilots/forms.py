"""Forms of the pilot workspace: goals, messages, milestones and documents."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from innolab.i18n import lazy_gettext as _l

from ..web.forms import VersionedForm, plain_name, within_calendar



class GoalForm(VersionedForm, FlaskForm):
    title = StringField(_l("Ziel"), validators=[
        DataRequired(_l("Bitte beschreiben Sie das Ziel.")), Length(max=200), plain_name])
    baseline = StringField(_l("Ausgangswert"), validators=[
        DataRequired(_l("Bitte geben Sie den heutigen Stand an.")), Length(max=200)])
    target = StringField(_l("Zielwert"), validators=[
        DataRequired(_l("Bitte geben Sie den Zielwert an.")), Length(max=200)])
    measurement = TextAreaField(_l("Wie wird gemessen?"), validators=[
        DataRequired(_l("Bitte beschreiben Sie, wie das Ziel gemessen wird.")),
        Length(max=2000)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Nachricht"), validators=[
        DataRequired(_l("Bitte schreiben Sie eine Nachricht.")), Length(max=10000)])
    files = MultipleFileField(_l("Dateien anhängen"))
    internal = BooleanField(_l("Interne Notiz (nur für das InnoLab-Team sichtbar)"))


class MilestoneForm(VersionedForm, FlaskForm):
    title = StringField(_l("Meilenstein"), validators=[
        DataRequired(_l("Bitte benennen Sie den Meilenstein.")), Length(max=200), plain_name])
    due_date = DateField(_l("Fällig am"), validators=[
        InputRequired(_l("Bitte geben Sie ein gültiges Datum an (TT.MM.JJJJ).")),
        within_calendar])
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=2000)])


class DocumentForm(FlaskForm):
    title = StringField(_l("Titel des Dokuments"), validators=[
        DataRequired(_l("Bitte geben Sie einen Titel an.")), Length(max=200), plain_name])
    file = FileField(_l("Datei"))
    note = StringField(_l("Hinweis zu dieser Fassung"), validators=[Optional(), Length(max=500)])
    internal = BooleanField(_l("Intern (für die Partnerorganisation nicht sichtbar)"))


class VersionForm(FlaskForm):
    file = FileField(_l("Neue Fassung"))
    note = StringField(_l("Was hat sich geändert?"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token (delete, mark as done, reopen)."""
