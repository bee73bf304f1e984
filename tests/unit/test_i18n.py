import re
from datetime import UTC, date, datetime

import pytest
from flask import render_template_string
from markupsafe import escape

from innolab.i18n import format_date, format_datetime, in_content_lang, lang_attr
from innolab.i18n import lazy_gettext as _l
from innolab.proposals.forms import ProposalForm


def test_lazy_text_with_user_value_is_escaped_in_html(app_ctx):
    text = _l("Die Herausforderung „%(title)s“ ist geschlossen.", title="<script>x</script>")
    html = str(escape(text))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert str(text).startswith("Die Herausforderung")


# ---------------------------------------------------------------- dates follow the language

DAY = date(2026, 12, 1)
MOMENT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # 10:30 in Berlin


@pytest.mark.parametrize("lang,fmt,expected", [
    ("de", "long", "1. Dezember 2026"),
    ("de", "medium", "01.12.2026"),
    ("de", "short", "01.12.26"),
    ("en", "long", "1 December 2026"),
    ("en", "medium", "1 Dec 2026"),
    ("en", "short", "01/12/2026"),
])
def test_dates_follow_the_language_of_the_page_british_in_english(app, lang, fmt, expected):
    with app.test_request_context(f"/?lang={lang}"):
        assert format_date(DAY, fmt) == expected
        assert render_template_string("{{ d|date(f) }}", d=DAY, f=fmt) == expected


def test_moments_are_shown_in_berlin_time_in_both_languages(app):
    with app.test_request_context("/?lang=de"):
        assert format_datetime(MOMENT, "short") == "01.12.26, 10:30"
        assert render_template_string("{{ m|datetime('short') }}", m=MOMENT) == "01.12.26, 10:30"
        # shortly before midnight UTC is the next day in Berlin
        assert format_date(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "long") == \
            "1. Dezember 2026"
    with app.test_request_context("/?lang=en"):
        assert format_datetime(MOMENT, "short") == "01/12/2026, 10:30"
        assert "AM" not in format_datetime(MOMENT, "medium")


def test_amounts_in_english_are_british_too(app):
    with app.test_request_context("/?lang=en"):
        assert render_template_string("{{ 41000|euro }}") == "41,000\u00a0€"
    with app.test_request_context("/?lang=de"):
        assert render_template_string("{{ 41000|euro }}") == "41.000\u00a0€"


# ---------------------------------------------------------------- text users entered


def test_user_text_is_marked_german_on_english_pages_only(app):
    with app.test_request_context("/?lang=en"):
        assert str(lang_attr()) == ' lang="de"'
        assert str(lang_attr("en")) == ""
        assert str(in_content_lang("Förderanträge <b>")) == \
            '<span lang="de">Förderanträge &lt;b&gt;</span>'
        assert str(in_content_lang(None)) == str(in_content_lang("")) == ""
        assert render_template_string('<h1{{ lang_attr() }}>{{ t }}</h1> {{ t|de }}',
                                      t="Posteingang") == \
            '<h1 lang="de">Posteingang</h1> <span lang="de">Posteingang</span>'
        # Markdown stays markup; a text of known language keeps its own
        assert render_template_string("{{ t|markdown|de }}", t="**fett**") == \
            '<span lang="de"><p><strong>fett</strong></p>\n</span>'
        assert render_template_string("{{ t|de('en') }}", t="Easy Read") == "Easy Read"
    with app.test_request_context("/?lang=de"):
        assert str(lang_attr()) == ""
        assert render_template_string("{{ t|de }}", t="<i>Titel</i>") == "&lt;i&gt;Titel&lt;/i&gt;"
        assert render_template_string("{{ t|de('en') }}", t="Easy Read") == \
            '<span lang="en">Easy Read</span>'


def _tag(html: str, element: str, field_id: str) -> str:
    return re.search(rf'<{element}[^>]*id="{field_id}"[^>]*>', html).group(0)


def test_a_form_field_with_text_users_typed_is_marked_german_on_english_pages(app):
    template = ('{% from "_macros/forms.html" import field %}'
                '{{ field(form.title) }}{{ field(form.problem) }}{{ field(form.solution) }}')
    for lang, marked in (("en", True), ("de", False)):
        with app.test_request_context(f"/?lang={lang}"):
            form = ProposalForm(meta={"csrf": False},
                                data={"title": "Posteingang", "problem": "Papier", "solution": ""})
            html = render_template_string(template, form=form)
            assert ('lang="de"' in _tag(html, "input", "title")) is marked
            assert ('lang="de"' in _tag(html, "textarea", "problem")) is marked
            # an empty field: whoever fills it writes in the language they like
            assert "lang=" not in _tag(html, "textarea", "solution")
