"""Forms of the notification centre."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import ValidationError

from innolab.i18n import lazy_gettext as _l

from ..domain import notifications as nt


class DeliveryField(RadioField):
    """Immediately / daily digest / off; a wrong value is a form error in the user's language."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.type = "RadioField"  # the `radios` macro renders it as a radio group

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("Bitte wählen Sie eine der angebotenen Möglichkeiten."))


class PreferencesForm(FlaskForm):
    """One DeliveryField per kind the user can switch (fields are added per user)."""

    @classmethod
    def for_user(cls, user, current: dict[str, str], **kw) -> PreferencesForm:
        form_class = type("Form", (cls,), {})  # a class of its own: fields are added to it

        choices = list(nt.DELIVERY_LABELS.items())
        for kind in nt.kinds_for(user):
            if kind in nt.PROCESS_KINDS:
                continue
            setattr(form_class, kind, DeliveryField(nt.KIND_LABELS[kind], choices=choices,
                                              default=current.get(kind)))
        return form_class(**kw)

    def choices(self) -> dict[str, str]:
        return {f.name: f.data for f in self if isinstance(f, DeliveryField)}

    def kind_fields(self):
        return [f for f in self if isinstance(f, DeliveryField)]
