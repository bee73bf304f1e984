"""Forms of the results report: the report itself (one set of fields per pilot goal) and the
coordinator's send-back comment."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
from wtforms.validators import Length, Optional

from innolab.i18n import lazy_gettext as _l

from ..domain.results import FIELD_LABELS, RECOMMENDATION_LABELS
from ..web.forms import VersionedForm

L = FIELD_LABELS
TEXT_MAX = 20000

REACHED_CHOICES = [SelectChoice("yes", _l("Ja, erreicht")),
                   SelectChoice("no", _l("Nein, nicht (vollständig) erreicht"))]


def _reached(value):
    return {"yes": True, "no": False, True: True, False: False}.get(value)


class ReportForm(VersionedForm, FlaskForm):
    """The static part; `for_goals(goals)` adds value, reached and comment per goal."""

    summary = TextAreaField(L["summary"], validators=[Optional(), Length(max=TEXT_MAX)])
    what_worked = TextAreaField(L["what_worked"], validators=[Optional(), Length(max=TEXT_MAX)])
    what_did_not_work = TextAreaField(L["what_did_not_work"],
                                      validators=[Optional(), Length(max=TEXT_MAX)])
    lessons_learned = TextAreaField(L["lessons_learned"],
                                    validators=[Optional(), Length(max=TEXT_MAX)])
    recommendation = RadioField(
        L["recommendation"], validators=[Optional()],
        choices=[SelectChoice(k, v) for k, v in RECOMMENDATION_LABELS.items()])
    reuse_requirements = TextAreaField(L["reuse_requirements"],
                                       validators=[Optional(), Length(max=TEXT_MAX)])
    publication_consent = BooleanField(
        _l("Wir stimmen zu, dass das InnoLab die Ergebnisse nach der Annahme im Schaufenster "
           "veröffentlicht (Zusammenfassung, Ziele und erreichte Werte, Erkenntnisse, "
           "Empfehlung und Hinweise zur Nachnutzung)."))

    goal_ids: tuple[int, ...] = ()

    @classmethod
    def for_goals(cls, goals, **kw) -> ReportForm:
        attrs: dict[str, object] = {"goal_ids": tuple(g.id for g in goals)}
        for g in goals:
            attrs[f"goal_{g.id}_value"] = StringField(
                _l("Erreichter Wert für „%(goal)s“", goal=g.title),
                validators=[Optional(), Length(max=200)])
            attrs[f"goal_{g.id}_reached"] = RadioField(
                _l("Zielwert erreicht? – %(goal)s", goal=g.title),
                validators=[Optional()], choices=REACHED_CHOICES)
            attrs[f"goal_{g.id}_comment"] = TextAreaField(
                _l("Erläuterung zu „%(goal)s“", goal=g.title),
                validators=[Optional(), Length(max=5000)])
        form_class = type("GoalReportForm", (cls,), attrs)
        return form_class(**kw)

    def goal_fields(self, goal_id: int):
        return (self[f"goal_{goal_id}_value"], self[f"goal_{goal_id}_reached"],
                self[f"goal_{goal_id}_comment"])

    def fill_from(self, report) -> None:
        if report is None:
            return
        for name in ("summary", "what_worked", "what_did_not_work", "lessons_learned",
                     "recommendation", "reuse_requirements", "publication_consent"):
            self[name].data = getattr(report, name)
        for r in report.goal_results:
            if r.goal_id in self.goal_ids:
                value, reached, comment = self.goal_fields(r.goal_id)
                value.data = r.value_reached
                reached.data = {True: "yes", False: "no"}.get(r.reached)
                comment.data = r.comment

    def content(self) -> dict:
        return {name: self[name].data for name in (
            "summary", "what_worked", "what_did_not_work", "lessons_learned", "recommendation",
            "reuse_requirements", "publication_consent")}

    def goal_results(self) -> dict[int, dict]:
        result = {}
        for goal_id in self.goal_ids:
            value, reached, comment = self.goal_fields(goal_id)
            result[goal_id] = {"value_reached": value.data, "reached": _reached(reached.data),
                               "comment": comment.data}
        return result

    def mark_missing(self, names) -> None:
        """Show 'needed to submit' at the fields that are still empty."""
        for name in names:
            if name in self:
                f = self[name]
                f.errors = list(f.errors) + [_l("Für das Einreichen erforderlich.")]


class SendBackForm(FlaskForm):
    comment = TextAreaField(_l("Was soll die Partnerorganisation überarbeiten?"),
                            validators=[Optional(), Length(max=10000)])


class ConfirmForm(FlaskForm):
    """A button only (accept, publish, unpublish): CSRF protection."""
