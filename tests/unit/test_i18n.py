from markupsafe import escape

from innolab.i18n import lazy_gettext as _l


def test_lazy_text_with_user_value_is_escaped_in_html(app_ctx):
    text = _l("Die Herausforderung „%(title)s“ ist geschlossen.", title="<script>x</script>")
    html = str(escape(text))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert str(text).startswith("Die Herausforderung")
