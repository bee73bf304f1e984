"""Pure parts of notifications: kinds and labels, the HTML part of a mail, the digest time."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from innolab.domain import mailer
from innolab.domain import notifications as nt
from tests import factories as f


def test_every_kind_has_a_preferences_label():
    assert set(nt.KINDS) == set(nt.KIND_LABELS)
    assert set(nt.KINDS) >= nt.PROCESS_KINDS and set(nt.KINDS) >= nt.STAFF_KINDS
    assert {"decision", "changes_requested", "report_returned"} <= nt.PROCESS_KINDS


def test_every_kind_has_text_label_recipients_and_an_existing_mail_template(app):
    templates = Path(app.template_folder) / "mail"
    for key, kind in nt.KINDS.items():
        assert str(kind.text).strip() and str(kind.label).strip() and kind.recipients, key
        assert (templates / f"{kind.template}.txt").is_file(), key


def test_process_kinds_cannot_be_switched_off(app_ctx):
    user = f.user()
    changed = nt.set_preferences(user, {kind: "off" for kind in nt.KINDS})
    assert not set(changed) & nt.PROCESS_KINDS
    assert set(changed) == set(nt.KINDS) - nt.PROCESS_KINDS
    prefs = nt.preferences(user)
    assert all(prefs[kind] == "immediate" for kind in nt.PROCESS_KINDS)
    assert {"decision", "changes_requested", "report_returned", "pilot_cancelled",
            "consent_withdrawn", "data_export_ready"} \
        == nt.PROCESS_KINDS


def test_every_lifecycle_kind_is_a_kind_of_the_table():
    for action, (kind, audiences) in nt.TRANSITION_KINDS.items():
        assert kind in nt.KINDS and audiences, action


def test_kind_text_fills_its_params_and_shows_missing_ones_as_ellipsis(app_ctx):
    assert str(nt.text("decision", {"reference": "IL-2026-0001"})) == \
        "Entscheidung zu IL-2026-0001"
    assert str(nt.text("milestone_late", {})) == "Meilenstein „…“ ist überfällig"


def test_partner_sees_no_staff_kinds():
    class Partner:
        is_staff = False

    class Staff:
        is_staff = True

    assert not set(nt.kinds_for(Partner())) & nt.STAFF_KINDS
    assert nt.kinds_for(Staff()) == list(nt.KINDS)


def test_text_to_html_escapes_and_links():
    html = str(mailer.text_to_html(
        "Guten Tag <b>Anna</b>,\n\nZur Seite: https://innolab.example/p/1.\n"
        "\n-- \nFußzeile", "https://innolab.example/"))
    assert "&lt;b&gt;Anna&lt;/b&gt;" in html
    assert '<a href="https://innolab.example/p/1">https://innolab.example/p/1</a>.' in html
    assert html.count("<p>") == 2 and "Fußzeile" not in html


def test_digest_cutoff_is_digest_hour_local_time(app):
    with app.app_context():
        app.config["DIGEST_HOUR"] = 7
        # 05:30 UTC in November is 06:30 in Berlin: not yet
        assert nt.digest_cutoff(datetime(2026, 11, 28, 5, 30, tzinfo=UTC)) is None
        cutoff = nt.digest_cutoff(datetime(2026, 11, 28, 6, 30, tzinfo=UTC))
        assert cutoff == datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
        # summer time: 07:00 in Berlin is 05:00 UTC
        assert nt.digest_cutoff(datetime(2026, 7, 1, 5, 0, tzinfo=UTC)) == datetime(
            2026, 7, 1, 5, 0, tzinfo=UTC)
