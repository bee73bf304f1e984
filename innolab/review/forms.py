"""Forms of the staff side of proposals."""
from __future__ import annotations

from innolab.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, HiddenField, RadioField, SearchField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..domain import criteria
from ..domain import review as rv
from ..domain.states import MEMBER, TRANSITIONS, status_label
from ..models import CheckKind, CheckOutcome, Status
from ..web.forms import SelectField, add_error, within_calendar
from ..web.input_checks import bounded_int
from ..domain.notifications import review_due_date
from datetime import date

try:  # WTForms >= 3.3 wants SelectChoice objects instead of tuples
    from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # 3.2 stubs
except ImportError:  # pragma: no cover
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)


def _opts(pairs) -> list:
    return [SelectChoice(value, label) for value, label in pairs]


def _values(field) -> set:
    return {next(iter(c)) for c in field.choices}


# the staff's moves of the lifecycle table
ACTIONS = tuple(t.action for t in TRANSITIONS if t.who != MEMBER)


class ChoiceField(RadioField):
    """A radio group that answers a wrong value with a form error in the user's language."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.type = "RadioField"  # the `radios` macro renders it as a radio group

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = self.coerce(valuelist[0])
            except (ValueError, TypeError):
                self.data = valuelist[0]
                self._bad = True

    def pre_validate(self, form):
        if self.data is None:
            return
        if getattr(self, "_bad", False) or self.data not in _values(self):
            raise ValidationError(_l("Bitte wählen Sie einen der angebotenen Werte."))


def _int_or_none(value):
    if value in (None, ""):
        return None
    number = bounded_int(value)
    return -1 if number is None else number  # -1: never a valid choice, a form error


def _str_or_none(value):
    return value or None


# ---------------------------------------------------------------- inbox filter

SORTS = {
    "submitted_desc": _l("Eingang, neueste zuerst"),
    "submitted_asc": _l("Eingang, älteste zuerst"),
    "reference_asc": _l("Aktenzeichen aufsteigend"),
    "reference_desc": _l("Aktenzeichen absteigend"),
    "title_asc": _l("Titel A–Z"),
    "title_desc": _l("Titel Z–A"),
    "average_desc": _l("Gesamtwert (gewichtet), höchster zuerst"),
    "average_asc": _l("Gesamtwert (gewichtet), niedrigster zuerst"),
    "reviews_desc": _l("Gutachten, meiste zuerst"),
    "reviews_asc": _l("Gutachten, wenigste zuerst"),
}
assert set(SORTS) == set(rv.INBOX_SORT_KEYS)


ALL = "all"  # the inbox's status filter: every status (the default is the open ones)


class InboxFilterForm(Form):
    """The GET filter of the inbox (no CSRF: it changes nothing)."""

    q = SearchField(_l("Suche"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), validators=[Optional()])
    challenge = SelectField(_l("Herausforderung"), validators=[Optional()])
    sort = SelectField(_l("Sortierung"), choices=_opts(SORTS.items()), default="submitted_desc",
                       validators=[Optional()])

    def __init__(self, formdata, challenges, **kw):
        super().__init__(formdata, **kw)
        # By default the open ones (waiting for a step of the review); "all" lists every
        # submitted proposal, decided or not.
        self.status.choices = _opts([("", _l("Offene (eingereicht, in Begutachtung, in "
                                             "Nachbesserung)")), (ALL, _l("Alle"))] + [
            (s.value, status_label(s.value)) for s in Status if s != Status.DRAFT])
        self.challenge.choices = _opts([("", _l("Alle")), ("none", _l("Ohne Herausforderung"))] + [
            (str(c.id), c.title) for c in challenges])

    def cleaned(self) -> dict:
        """The valid filters only; anything unknown is ignored rather than refused."""
        status = self.status.data if self.status.data in _values(self.status) else ""
        challenge = self.challenge.data if self.challenge.data in _values(self.challenge) else ""
        sort = self.sort.data if self.sort.data in SORTS else "submitted_desc"
        q = (self.q.data or "").strip()[:200]
        return {"q": q, "status": status, "challenge": challenge, "sort": sort}


# ---------------------------------------------------------------- lifecycle moves


class ActForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    seen_status = HiddenField()  # the status the page showed: a later move elsewhere is told
    message = TextAreaField(_l("Nachricht"), validators=[Optional(), Length(max=10000)])
    start_date = DateField(_l("Startdatum des Piloten"), validators=[Optional(), within_calendar],
                           format="%Y-%m-%d")

    def validate_action(self, field):
        if field.data not in ACTIONS:
            raise ValidationError(_l("Diese Aktion gibt es nicht."))


class CoSignForm(FlaskForm):
    """Co-signing a pending decision (Mitzeichnung): nothing typed, the status seen."""

    seen_status = HiddenField()


class RefuseCoSignForm(FlaskForm):
    """Refusing the co-signature, with the reason the deciding person reads."""

    seen_status = HiddenField()
    reason = TextAreaField(_l("Grund der Verweigerung"),
                           validators=[DataRequired(_l("Bitte geben Sie an, warum Sie die "
                                                       "Mitzeichnung verweigern.")),
                                       Length(max=10000)])


# ---------------------------------------------------------------- reviewers


def reviewer_label(u, surname: str | None = None, open_reviews: int | None = None) -> str:
    """A reviewer as the assignment forms name them: name, address, open work, a hint."""
    label = f"{u.name} ({u.email})"
    if open_reviews is not None:
        label += " · " + str(_l("%(num)d offen", num=open_reviews))
    if surname:
        label += " · " + str(_l("Hinweis: gleicher Nachname wie eine Kontaktperson "
                                "(%(name)s)", name=surname))
    return label


def _not_past(field) -> None:
    if field.data is not None and field.data < date.today():
        raise ValidationError(_l("Das Fälligkeitsdatum darf nicht in der Vergangenheit "
                                 "liegen."))


class AssignForm(FlaskForm):
    reviewer_id = SelectField(_l("Gutachterin oder Gutachter"), coerce=_int_or_none,
                              validate_choice=False)

    due_date = DateField(_l("Gutachten fällig am"), validators=[Optional(), within_calendar],
                         format="%Y-%m-%d")

    def __init__(self, reviewers, *args, hints=None, loads=None, **kw):
        super().__init__(*args, **kw)
        hints, loads = hints or {}, loads or {}
        self.reviewer_id.choices = _opts([("", _l("Bitte wählen"))] + [
            (u.id, reviewer_label(u, hints.get(u.id), loads.get(u.id))) for u in reviewers])
        if self.due_date.data is None and not self.due_date.raw_data:
            self.due_date.data = review_due_date()

    def validate_due_date(self, field):
        _not_past(field)

    def validate_reviewer_id(self, field):
        if field.data is None:
            raise ValidationError(_l("Bitte wählen Sie eine Person aus."))
        if field.data not in _values(field):
            raise ValidationError(_l("Diese Person kann nicht zugewiesen werden."))


class ConflictForm(FlaskForm):
    reason = TextAreaField(_l("Grund für den Interessenkonflikt"), validators=[
        DataRequired(_l("Bitte nennen Sie den Grund für den Interessenkonflikt.")),
        Length(max=5000)])


class NoConflictForm(FlaskForm):
    """The reviewer's confirmation, before they see the content, that they have no conflict."""

    confirm = BooleanField(
        _l("Ich bestätige, dass mich mit der vorschlagenden Organisation und den genannten "
           "Personen nichts verbindet, was meine Unparteilichkeit in Frage stellen könnte "
           "(keine Mitgliedschaft, Beschäftigung, Beteiligung, kein Auftrag und keine enge "
           "persönliche Beziehung, auch nicht in den letzten drei Jahren)."),
        validators=[InputRequired(_l("Bitte bestätigen Sie, dass kein Interessenkonflikt "
                                     "besteht, oder erklären Sie einen."))])


class BulkAssignForm(FlaskForm):
    """The due date of a bulk assignment; the pairs come as `pair` values "proposal:reviewer"."""

    due_date = DateField(_l("Gutachten fällig am"), validators=[Optional(), within_calendar],
                         format="%Y-%m-%d")

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if self.due_date.data is None and not self.due_date.raw_data:
            self.due_date.data = review_due_date()

    def validate_due_date(self, field):
        _not_past(field)


# ---------------------------------------------------------------- the review


def _score_field(c: criteria.Criterion) -> ChoiceField:
    return ChoiceField(c.label, coerce=_int_or_none, choices=_opts(c.score_labels.items()),
                       validators=[Optional()])


def _comment_field(c: criteria.Criterion) -> TextAreaField:
    return TextAreaField(_l("Kommentar zu „%(criterion)s“", criterion=c.label),
                         validators=[Optional(), Length(max=10000)])


class ReviewForm(FlaskForm):
    """The review of a proposal on its criteria (criteria.of_proposal): a score field named by
    the criterion's key and a comment field `<key>_comment` each. Made by `review_form`."""

    recommendation = ChoiceField(_l("Empfehlung"), coerce=_str_or_none,
                                 choices=_opts(rv.RECOMMENDATION_LABELS.items()),
                                 validators=[Optional()])
    comment = TextAreaField(_l("Interner Kommentar"), validators=[Optional(), Length(max=20000)])

    of: tuple[criteria.Criterion, ...] = ()

    @property
    def score_fields(self):
        return [self[c.key] for c in self.of]

    def criteria_with_comments(self):
        """(criterion, score field, comment field) in the criteria's order."""
        return [(c, self[c.key], self[f"{c.key}_comment"]) for c in self.of]

    def scores(self) -> dict:
        return {c.key: self[c.key].data for c in self.of}

    def comments(self) -> dict:
        return {c.key: self[f"{c.key}_comment"].data for c in self.of}

    def total(self) -> criteria.ScoreTotal:
        """The weighted total of the valid scores chosen (computed here too: right without JS)."""
        return criteria.total(self.scores(), self.of)

    def validate_for_submit(self) -> bool:
        """All scores and a recommendation are needed to submit the review."""
        ok = True
        for c in self.of:
            if self[c.key].data is None:
                add_error(self[c.key], _l("Bitte vergeben Sie eine Bewertung von 1 bis %(max)d.",
                                          max=c.scale))
                ok = False
        if self.recommendation.data is None:
            add_error(self.recommendation, _l("Bitte wählen Sie eine Empfehlung aus."))
            ok = False
        return ok


def review_form(of, review=None, **kw) -> ReviewForm:
    """The review form for the criteria `of`, filled from `review` (a draft) if given."""
    fields: dict[str, object] = {"of": tuple(of)}
    for c in of:
        fields[c.key] = _score_field(c)
        fields[f"{c.key}_comment"] = _comment_field(c)
    form_class = type("ReviewForm", (ReviewForm,), fields)
    if review is not None:
        scores, comments = review.scores, review.comments
        kw.setdefault("data", {
            "recommendation": review.recommendation, "comment": review.comment,
            **{c.key: scores.get(c.key) for c in of},
            **{f"{c.key}_comment": comments.get(c.key) for c in of}})
    return form_class(**kw)


# ---------------------------------------------------------------- checks


class CheckForm(FlaskForm):
    outcome = ChoiceField(_l("Ergebnis"), coerce=_str_or_none,
                          choices=_opts(rv.OUTCOME_LABELS.items()),
                          validators=[InputRequired(_l("Bitte wählen Sie ein Ergebnis aus."))])
    comment = TextAreaField(_l("Kommentar"), validators=[Optional(), Length(max=20000)])
    conditions = TextAreaField(_l("Auflagen (optional)"),
                               validators=[Optional(), Length(max=6000)])
    # data-protection checks only (the route tells the form its kind)
    dpia = ChoiceField(_l("Datenschutz-Folgenabschätzung (DSFA, Art. 35 DSGVO)"),
                       coerce=_str_or_none, choices=_opts(rv.DPIA_LABELS.items()))
    processing_agreement = ChoiceField(
        _l("Vertrag zur Auftragsverarbeitung (AV-Vertrag, Art. 28 DSGVO)"),
        coerce=_str_or_none, choices=_opts(rv.AGREEMENT_LABELS.items()))
    # the latest result the officer saw (0: none); one recorded since is shown, not overwritten
    seen_latest = HiddenField()

    def __init__(self, *args, kind: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind != CheckKind.DATA_PROTECTION.value:
            del self.dpia
            del self.processing_agreement

    def validate_dpia(self, field):
        if field.data is None:
            raise ValidationError(_l("Bitte geben Sie an, ob eine Datenschutz-Folgenabschätzung "
                                     "erforderlich ist."))

    def validate_processing_agreement(self, field):
        if field.data is None:
            raise ValidationError(_l("Bitte geben Sie an, ob ein Vertrag zur "
                                     "Auftragsverarbeitung erforderlich ist."))

    def seen_latest_id(self) -> int | None:
        return bounded_int(self.seen_latest.data)

    def validate_outcome(self, field):
        if field.data is None:
            raise ValidationError(_l("Bitte wählen Sie ein Ergebnis aus."))

    def validate_comment(self, field):
        if self.outcome.data == CheckOutcome.FAILED.value and not (field.data or "").strip():
            raise ValidationError(_l("Bitte begründen Sie, warum die Prüfung nicht bestanden "
                                     "ist."))


# ---------------------------------------------------------------- conflicts of interest


class FlagDecisionForm(FlaskForm):
    """A coordinator's decision on a shared e-mail domain (one form per flag on the page)."""

    organisation_id = HiddenField()
    user_id = HiddenField()
    decision = ChoiceField(_l("Entscheidung"), coerce=_str_or_none, choices=_opts([
        ("confirmed", _l("Interessenkonflikt bestätigen")),
        ("cleared", _l("Kein Interessenkonflikt: Hinweis aufheben")),
    ]), validators=[InputRequired(_l("Bitte wählen Sie: bestätigen oder aufheben."))])
    reason = TextAreaField(_l("Begründung"), validators=[
        DataRequired(_l("Bitte begründen Sie die Entscheidung.")), Length(max=5000)])

    def ids(self) -> tuple[int | None, int | None]:
        return _int_or_none(self.organisation_id.data), _int_or_none(self.user_id.data)


# ---------------------------------------------------------------- the pilot's contact person


class ContactForm(FlaskForm):
    contact_id = SelectField(_l("Ansprechperson für die Partnerorganisation"),
                             coerce=_int_or_none, validate_choice=False)

    def __init__(self, people, *args, **kw):
        super().__init__(*args, **kw)
        self.contact_id.choices = _opts([("", _l("Niemand (nur „InnoLab-Team“)"))] + [
            (u.id, f"{u.name} ({u.email})") for u in people])

    def validate_contact_id(self, field):
        if field.data is not None and field.data not in _values(field):
            raise ValidationError(_l("Diese Person kann nicht Ansprechperson werden."))
