"""Forms of the administration."""
from __future__ import annotations

from innolab.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField, EmailField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField,
    StringField, TextAreaField, URLField,
)
from wtforms.validators import (
    URL, Email, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain import legal, retention
from ..domain.admin import ROLE_LABELS
from ..web.forms import AmountField, VersionedForm, plain_name, single_line, within_calendar

REQUIRED = _l("Bitte füllen Sie dieses Feld aus.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        values = {str(v) for v, _ in self.choices}
        for d in self.data or []:
            if d not in values:
                raise ValidationError(_l("Bitte wählen Sie nur angebotene Rollen."))


def _role_choices():
    return [(value, label) for value, label in ROLE_LABELS.items()]


class InviteStaffForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[
        InputRequired(REQUIRED), Length(max=254),
        Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an."), check_deliverability=False),
    ])
    name = StringField(_l("Name"), validators=[InputRequired(REQUIRED), Length(max=200),
                                               plain_name])
    roles = MultiCheckboxField(_l("Rollen"), choices=_role_choices)

    def validate_roles(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens eine Rolle."))


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Rollen"), choices=_role_choices)


class AccountStatusForm(FlaskForm):
    action = HiddenField(validators=[InputRequired(), Regexp(r"^(deactivate|reactivate)$")])


class AuthorityForm(FlaskForm):
    name = StringField(_l("Name der Behörde"), validators=[InputRequired(REQUIRED),
                                                           Length(max=250), plain_name])
    short_name = StringField(_l("Kurzname"), validators=[Optional(), Length(max=40),
                                                         single_line])
    website = URLField(_l("Website"), validators=[
        Optional(), Length(max=300),
        URL(message=_l("Bitte geben Sie eine vollständige Adresse mit https:// an.")),
    ])
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=5000)])

    def validate_website(self, field):
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError(_l("Bitte geben Sie eine vollständige Adresse mit https:// an."))


class TopicForm(FlaskForm):
    name_de = StringField(_l("Name (Deutsch)"), validators=[InputRequired(REQUIRED),
                                                             Length(max=120), single_line])
    name_en = StringField(_l("Name (Englisch)"), validators=[InputRequired(REQUIRED),
                                                              Length(max=120), single_line])
    slug = StringField(_l("Kennung"), validators=[
        Optional(), Length(max=80),
        Regexp(r"^[a-z0-9-]+$", message=_l("Nur Kleinbuchstaben, Ziffern und Bindestriche.")),
    ])


class PageForm(VersionedForm, FlaskForm):
    title = StringField(_l("Überschrift"), validators=[InputRequired(REQUIRED), Length(max=200),
                                                      single_line])
    body = TextAreaField(_l("Text (Markdown)"), validators=[InputRequired(REQUIRED),
                                                             Length(max=50000)])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    prefix = SelectField(_l("Bereich"), validators=[Optional()], validate_choice=True)
    actor = StringField(_l("Person (E-Mail)"), validators=[Optional(), Length(max=254)])
    object_type = SelectField(_l("Objektart"), validators=[Optional()], validate_choice=True)
    date_from = DateField(_l("Von (Datum)"), validators=[Optional(), within_calendar])
    date_to = DateField(_l("Bis (Datum)"), validators=[Optional(), within_calendar])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("Das Enddatum liegt vor dem Anfangsdatum."))


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name oder E-Mail"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Anzeigen"), choices=[
        ("all", _l("Alle Konten")),
        ("staff", _l("Mitarbeitende des ZDMV")),
        ("partners", _l("Partnerinnen und Partner")),
        ("inactive", _l("Deaktivierte Konten")),
    ], default="all", validators=[Optional()])


class DecisionSettingsForm(FlaskForm):
    """When a decision needs a second decider's co-signature (Mitzeichnung)."""

    threshold = AmountField(_l("Schwellenwert für die Mitzeichnung (Euro)"), validators=[
        Optional(), NumberRange(min=0, max=100_000_000, message=_l(
            "Bitte geben Sie einen Betrag in ganzen Euro an (0 bis 100.000.000)."))])


class SignInSettingsForm(FlaskForm):
    """How staff may sign in."""

    staff_local_login = RadioField(
        _l("Anmeldung der Mitarbeitenden mit lokalem Passwort"),
        choices=[("on", _l("Erlaubt")),
                 ("off", _l("Abgeschaltet – nur über den Identitätsanbieter für Beschäftigte"))],
        validators=[InputRequired(REQUIRED)])


def retention_form(periods, **kwargs) -> FlaskForm:
    """A form with one whole-number field (days) per rule of the deletion schedule."""

    class RetentionForm(FlaskForm):
        pass

    for period in periods:
        rule = retention.RULES_BY_KEY[period.key]
        setattr(RetentionForm, period.key, IntegerField(
            period.label, default=period.days,
            validators=[InputRequired(_l("Bitte geben Sie eine Zahl von Tagen ein.")),
                        NumberRange(rule.min_days, rule.max_days, _l(
                            "Bitte eine Zahl zwischen %(min)d und %(max)d Tagen."))],
            render_kw={"inputmode": "numeric", "min": rule.min_days, "max": rule.max_days}))
    return RetentionForm(**kwargs)


class TermsVersionForm(FlaskForm):
    summary = TextAreaField(
        _l("Was hat sich geändert?"),
        validators=[InputRequired(_l("Bitte beschreiben Sie kurz, was sich geändert hat.")),
                    Length(max=500, message=_l("Bitte höchstens %(max)d Zeichen."))])


# ------------------------------------------------------------------ mandatory details


def _https(form, field):
    if field.data and not field.data.lower().startswith(("https://", "http://")):
        raise ValidationError(_l("Bitte geben Sie eine vollständige Adresse mit https:// an."))


def _legal_field(f):
    """The WTForms field for one mandatory detail (domain.legal.Field).

    A mandatory detail may be saved empty (the admin may not know every one yet): the page
    then warns the admins until it is filled. A choice and the answer period always have a
    value."""
    required = [InputRequired(REQUIRED)] if f.kind in ("choice", "number") else [Optional()]
    length = Length(max=legal.MAX_LENGTH,
                    message=_l("Höchstens %(max)d Zeichen.", max=legal.MAX_LENGTH))
    kw = {"description": f.hint or ""}
    if f.kind == "choice":
        return SelectField(f.label, choices=[SelectChoice(v, label) for v, label in f.choices],
                           validators=required, **kw)
    if f.kind == "date":
        return DateField(f.label, validators=required, **kw)
    if f.kind == "number":
        return IntegerField(f.label, validators=required + [NumberRange(
            min=1, max=52, message=_l("Bitte geben Sie eine Zahl von 1 bis 52 an."))], **kw)
    if f.kind == "email":
        return EmailField(f.label, validators=required + [length, Email(
            _l("Bitte geben Sie eine gültige E-Mail-Adresse an."),
            check_deliverability=False)], **kw)
    if f.kind == "url":
        return URLField(f.label, validators=required + [length, _https], **kw)
    if f.kind == "textarea":
        return TextAreaField(f.label, validators=required + [length], **kw)
    return StringField(f.label, validators=required + [length, single_line], **kw)


def legal_fields_form(group: str, data: dict | None = None) -> FlaskForm:
    """A form with the fields of one legal page (`legal.fields_of(group)`)."""
    attrs = {f.name: _legal_field(f) for f in legal.fields_of(group)}
    form_class = type(f"LegalFieldsForm_{group}", (FlaskForm,), attrs)
    return form_class(data=data)


class FeedbackStatusForm(FlaskForm):
    status = HiddenField(validators=[InputRequired(), Regexp(r"^(open|answered)$")])


class SignLanguageVideoForm(FlaskForm):
    video = FileField(_l("Videodatei in Deutscher Gebärdensprache"))
    transcript = TextAreaField(_l("Transkript (Markdown)"), validators=[
        InputRequired(REQUIRED), Length(max=50000)])


class DeleteForm(FlaskForm):
    pass
