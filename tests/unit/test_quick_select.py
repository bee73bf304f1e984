"""The quick select widget writes exactly the HTML of WTForms' own, for every kind of option:
the selected one, labels and values that need escaping, translated labels, booleans, options
with their own attributes, groups and multiple selects."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField as PlainSelectField, SelectMultipleField
from wtforms.validators import DataRequired, Optional

from innolab.i18n import lazy_gettext as _l
from innolab.web.forms import QuickSelect, SelectField

try:
    from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover: WTForms before 3.3 takes (value, label) pairs
    SelectChoice = None


def _choices(pairs):
    return [SelectChoice(*p) if SelectChoice else p for p in pairs]


CHOICES = _choices([("", _l("Alle")), ("a&b", 'Titel mit "Anführungszeichen" & <Tags>'),
                    ("17", "Herausforderung 17"), ("ü", "Umlaute: äöüß")])


def _both(choices, data, **field):
    class Quick(Form):
        pick = SelectField("Wahl", choices=choices, **field)

    class Plain(Form):
        pick = PlainSelectField("Wahl", choices=choices, **field)

    formdata = MultiDict({"pick": data}) if data is not None else None
    return Quick(formdata).pick, Plain(formdata).pick


@pytest.mark.parametrize("data", (None, "", "17", "a&b", "ü", "unbekannt"))
@pytest.mark.parametrize("required", (False, True))
def test_the_same_html_as_wtforms(app, data, required):
    with app.test_request_context():
        quick, plain = _both(CHOICES, data,
                             validators=[DataRequired() if required else Optional()])
        assert isinstance(quick.widget, QuickSelect)
        attrs = {"class_": "kern-form-input__select", "aria_describedby": "hint",
                 "aria_invalid": False}
        assert str(quick(**attrs)) == str(plain(**attrs))
        if data == "17":
            assert '<option selected value="17">Herausforderung 17</option>' in str(quick())
        assert "&lt;Tags&gt;" in str(quick()) and "<Tags>" not in str(quick())


def test_booleans_groups_and_options_with_attributes_as_wtforms(app):
    with app.test_request_context():
        quick, plain = _both(_choices([(True, "Ja"), (False, "Nein")]), "True",
                             coerce=lambda v: v == "True")
        assert str(quick()) == str(plain())
        groups = {"Nord": _choices([("1", "Rostock")]), "Süd": _choices([("2", "Neubrandenburg")])}
        quick, plain = _both(groups, "2")
        assert str(quick()) == str(plain()) and "<optgroup" in str(quick())
        if SelectChoice is not None:
            with_attrs = [SelectChoice("1", "Eins", render_kw={"disabled": True}),
                          SelectChoice("2", "Zwei")]
            quick, plain = _both(with_attrs, "2")
            assert str(quick()) == str(plain()) and "disabled" in str(quick())


def test_a_multiple_select_as_wtforms(app):
    class Both(Form):
        quick = SelectMultipleField("Viele", choices=CHOICES, widget=QuickSelect(multiple=True))
        plain = SelectMultipleField("Viele", choices=CHOICES)

    with app.test_request_context():
        form = Both(MultiDict([("quick", "17"), ("quick", "ü"), ("plain", "17"), ("plain", "ü")]))
        assert str(form.quick()).replace('"quick"', '"x"') == \
            str(form.plain()).replace('"plain"', '"x"')
