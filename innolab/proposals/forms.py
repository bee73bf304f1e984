"""Forms of the proposals blueprint: the proposal itself, actions and attachments."""
from __future__ import annotations

from innolab.i18n import lazy_gettext as _l
from innolab.i18n import lang_attr
from flask_wtf import FlaskForm
from markupsafe import Markup
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, EmailField, HiddenField, IntegerField, RadioField, SelectField,
    SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import (
    DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

try:  # WTForms >= 3.3 wants SelectChoice objects instead of tuples
    from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
except ImportError:  # pragma: no cover - older WTForms
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)

from ..domain import questions as qs
from ..domain.proposals import FIELD_LABELS, TRL_LEVELS
from ..models import CONTENT_FIELDS
from ..web.forms import AmountField, VersionedForm, plain_name
from ..web.input_checks import bounded_int

L = FIELD_LABELS

ACTIONS = ("submit", "resubmit", "withdraw")  # what a member may do from the detail page


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    number = bounded_int(value)
    if number is None:  # no row has such an id: the field says the choice is invalid
        raise ValueError(value)
    return number


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# ---------------------------------------------------------------- the questions of the challenge


class AnswerCheck:
    """The answer's rules of its question's kind (domain.questions.validate), at the field."""

    def __init__(self, question):
        self.question = question

    def __call__(self, form, field):
        try:
            qs.validate(self.question, field.data)
        except qs.AnswerInvalid as exc:
            raise ValidationError(exc.reason) from exc


def _marked(text, locale: str):
    """A label typed by staff, marked with its language where it is not the page's (a German
    question on an English page)."""
    attr = lang_attr(locale)
    return Markup("<span{}>{}</span>").format(attr, text) if attr else str(text)


def _options(q) -> list:
    return [SelectChoice(value, _marked(text, "de" if text == value else "en"))
            for value, text in qs.option_choices(q)]


def _question_field(q):
    text = qs.label(q)
    label = _marked(text, text.locale)
    validators = [Optional(), AnswerCheck(q)]
    if q.kind == "long_text":
        return TextAreaField(label, validators=validators)
    if q.kind == "date":
        return StringField(label, validators=validators, render_kw={"type": "date"})
    if q.kind == "number":
        return StringField(label, validators=validators, render_kw={"inputmode": "decimal"})
    if q.kind == "single_choice":
        return RadioField(label, choices=_options(q), validators=validators,
                          validate_choice=False)
    if q.kind == "multiple_choice":
        return MultiCheckboxField(label, choices=_options(q), validators=validators,
                                  validate_choice=False)
    if q.kind == "yes_no":
        return RadioField(label, choices=[SelectChoice("yes", _l("Ja")),
                                          SelectChoice("no", _l("Nein"))],
                          validators=validators, validate_choice=False)
    return StringField(label, validators=validators)


def with_questions(form_class, questions):
    """`form_class` with a field per question (named like the answer in a snapshot, "q<id>"),
    after the fixed fields; a file question has none (its document is uploaded on the
    proposal's page)."""
    attrs = {qs.key_of(q): _question_field(q) for q in questions if q.kind != "file"}
    attrs["questions"] = list(questions)
    return type(form_class.__name__, (form_class,), attrs)


class AnswersMixin:
    """The answers part of the proposal form (`with_questions` sets `questions`)."""

    questions: list = []

    def question_fields(self):
        return [(q, self[qs.key_of(q)]) for q in self.questions if q.kind != "file"]

    def documents(self):
        """The file questions (their documents are uploaded on the proposal's page)."""
        return [q for q in self.questions if q.kind == "file"]

    def answers(self) -> dict:
        """Question id -> what was typed (the domain checks it again)."""
        return {q.id: f.data for q, f in self.question_fields()}

    def fill_answers(self, p) -> None:
        values = qs.answers_of(p)
        for q, f in self.question_fields():
            f.data = qs.typed(q, values.get(q.id))

    def answers_refused(self, errors: dict) -> None:
        for q, f in self.question_fields():
            if q.id in errors:
                f.errors = list(f.errors) + [errors[q.id].reason]


class ProposalForm(AnswersMixin, VersionedForm, FlaskForm):
    title = StringField(L["title"], validators=[
        DataRequired(_l("Bitte geben Sie einen Titel an.")), Length(max=200), plain_name])
    organisation_id = SelectField(_l("Organisation"), coerce=_int_or_none, validators=[
        InputRequired(_l("Bitte wählen Sie eine Organisation."))])
    challenge_id = SelectField(L["challenge_id"], coerce=_int_or_none, validate_choice=False)
    title_en = StringField(L["title_en"], validators=[Optional(), Length(max=200), plain_name])
    public_summary = TextAreaField(L["public_summary"], validators=[Optional(), Length(max=1000)])
    public_summary_en = TextAreaField(L["public_summary_en"],
                                      validators=[Optional(), Length(max=1000)])
    problem = TextAreaField(L["problem"], validators=[Optional(), Length(max=10000)])
    solution = TextAreaField(L["solution"], validators=[Optional(), Length(max=10000)])
    benefit = TextAreaField(L["benefit"], validators=[Optional(), Length(max=10000)])
    trl = SelectField(L["trl"], coerce=_int_or_none, validators=[Optional()])
    duration_months = IntegerField(L["duration_months"], validators=[
        Optional(), NumberRange(min=1, max=120, message=_l(
            "Bitte geben Sie eine ganze Zahl von 1 bis 120 Monaten an."))])
    cost_estimate = AmountField(L["cost_estimate"], validators=[
        Optional(), NumberRange(min=0, max=100_000_000, message=_l(
            "Bitte geben Sie einen Betrag in ganzen Euro an (0 bis 100.000.000)."))])
    personal_data = RadioField(L["personal_data"], choices=[
        SelectChoice("no", _l("Nein, es werden keine personenbezogenen Daten verarbeitet")),
        SelectChoice("yes", _l("Ja, es werden personenbezogene Daten verarbeitet")),
    ], default="no", validators=[InputRequired(_l("Bitte wählen Sie Ja oder Nein."))])
    personal_data_details = TextAreaField(L["personal_data_details"],
                                          validators=[Optional(), Length(max=5000)])
    hosting_location = StringField(L["hosting_location"], validators=[Optional(), Length(max=300)])
    security_notes = TextAreaField(L["security_notes"], validators=[Optional(), Length(max=5000)])
    contact_name = StringField(L["contact_name"], validators=[Optional(), Length(max=200),
                                                               plain_name])
    contact_email = EmailField(L["contact_email"], validators=[
        Optional(), Length(max=254),
        Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an."), check_deliverability=False)])
    contact_phone = StringField(L["contact_phone"], validators=[
        Optional(), Length(max=50),
        Regexp(r"^[0-9+()/ .\-]{3,50}$", message=_l(
            "Bitte geben Sie eine Telefonnummer aus Ziffern an (erlaubt sind auch + / - ( ) "
            "und Leerzeichen)."))])
    publication_consent = BooleanField(_l(
        "Wir stimmen zu, dass der Pilot nach einer Bewilligung im Schaufenster veröffentlicht "
        "werden darf (Titel, öffentliche Kurzbeschreibung, Organisation, Themen, Ergebnisse)."))
    topic_ids = MultiCheckboxField(L["topics"], coerce=int, validators=[Optional()])

    def __init__(self, *args, organisations=(), challenges=(), topics=(), locale="de",
                 current_challenge=None, with_organisation=True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_organisation:
            self.organisation_id.choices = [SelectChoice(o.id, o.name) for o in organisations]
        else:
            del self.organisation_id
        choices = [SelectChoice("", _l("Eigeninitiative (ohne Herausforderung)"))]
        seen = set()
        for c in challenges:
            choices.append(SelectChoice(c.id, f"{c.title} – {c.authority.name}"))
            seen.add(c.id)
        if current_challenge is not None and current_challenge.id not in seen:
            choices.append(SelectChoice(
                current_challenge.id, _l("%(title)s (geschlossen)", title=current_challenge.title)))
        self.challenge_id.choices = choices
        self.trl.choices = [SelectChoice("", _l("Bitte wählen"))] + [
            SelectChoice(level, _l("TRL %(level)d – %(text)s", level=level, text=text))
            for level, text in TRL_LEVELS.items()]
        self.topic_ids.choices = [SelectChoice(t.id, t.name_for(locale)) for t in topics]

    def challenge_choices(self) -> set:
        """The challenge ids one may choose (None = own initiative)."""
        return {_int_or_none(choice[0] if isinstance(choice, tuple)
                             else choice.value)  # type: ignore[attr-defined]  # SelectChoice
                for choice in self.challenge_id.choices or ()}

    def validate_challenge_id(self, field):
        if field.data not in self.challenge_choices():
            raise ValidationError(_l("Bitte wählen Sie eine offene Herausforderung."))

    def content(self) -> dict:
        """The field values for the domain (CONTENT_FIELDS names)."""
        return {
            "title": self.title.data,
            "title_en": self.title_en.data,
            "public_summary": self.public_summary.data,
            "public_summary_en": self.public_summary_en.data,
            "problem": self.problem.data,
            "solution": self.solution.data,
            "benefit": self.benefit.data,
            "trl": self.trl.data,
            "duration_months": self.duration_months.data,
            "cost_estimate": self.cost_estimate.data,
            "personal_data": self.personal_data.data == "yes",
            "personal_data_details": self.personal_data_details.data,
            "hosting_location": self.hosting_location.data,
            "security_notes": self.security_notes.data,
            "contact_name": self.contact_name.data,
            "contact_email": self.contact_email.data,
            "contact_phone": self.contact_phone.data,
            "publication_consent": self.publication_consent.data,
            "challenge_id": self.challenge_id.data,
        }

    def fill_from(self, p) -> None:
        """Prefill from a saved proposal (GET of the edit page)."""
        for name in CONTENT_FIELDS:
            if name != "personal_data":
                getattr(self, name).data = getattr(p, name)
        self.personal_data.data = "yes" if p.personal_data else "no"
        self.topic_ids.data = [t.id for t in p.topics]
        self.fill_answers(p)

    def mark_missing(self, names) -> None:
        """Show 'needed to submit' at the fields the workflow guard found empty."""
        for name in names:
            f = getattr(self, name, None)
            if f is not None:
                f.errors = list(f.errors) + [_l("Für das Einreichen erforderlich.")]


class ActionForm(FlaskForm):
    action = SelectField(choices=[SelectChoice(a, a) for a in ACTIONS],
                         validators=[InputRequired()])
    seen_status = HiddenField()  # the status the page showed: a later move elsewhere is told
    message = TextAreaField(_l("Nachricht an das InnoLab-Team"),
                            validators=[Optional(), Length(max=5000)])


class UploadForm(FlaskForm):
    file = FileField(_l("Datei"))
    internal = BooleanField(_l("Nur intern (für die Partnerorganisation nicht sichtbar)"))


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for confirmations."""
