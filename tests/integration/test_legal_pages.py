"""Impressum, Datenschutzerklärung and Erklärung zur Barrierefreiheit: every mandatory item
from fields an admin fills, and the warning about empty ones – for admins only."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.domain import legal
from innolab.extensions import db
from innolab.models import AuditEvent, PlatformSetting, SitePage
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

WARNING = "Pflichtangaben fehlen"

IMPRESSUM = {
    "authority_name": "Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV)",
    "address": "Lübecker Straße 287\n19059 Schwerin",
    "director": "Erika Musterfrau, Direktorin",
    "email": "poststelle@zd.mv-regierung.de",
    "phone": "0385 588 57777",
    "phone_hours_de": "Dienstag 13–16 Uhr, Donnerstag 9–12 Uhr",
    "phone_hours_en": "Tuesdays 1–4 pm",
    "supervisory_authority": "Ministerium für Inneres, Bau und Digitalisierung "
                             "Mecklenburg-Vorpommern",
    "supervisory_address": "Alexandrinenstraße 1\n19055 Schwerin",
    "content_responsible": "Max Beispiel\nLübecker Straße 287, 19059 Schwerin",
    "vat_id": "DE123456789",
}
DATENSCHUTZ = {
    "dpo_contact": "Datenschutzbeauftragte des ZDMV\ndatenschutz@zdmv.example",
    "processor": "Rechenzentrum Beispiel GmbH, Schwerin",
    "dpa_name": "Der Landesbeauftragte für Datenschutz und Informationsfreiheit "
                "Mecklenburg-Vorpommern",
    "dpa_address": "Schloss Schwerin\nLennéstraße 1\n19053 Schwerin",
    "dpa_website": "https://www.datenschutz-mv.de",
}
BARRIEREFREIHEIT = {
    "a11y_status": "partial",
    "a11y_prepared_on": "2026-11-02",
    "a11y_reviewed_on": "2026-11-30",
    "a11y_method": "test",
    "a11y_method_detail": "BITV-Test durch eine Prüfstelle",
    "a11y_answer_weeks": "6",
    "a11y_feedback_email": "barrierefreiheit@zdmv.example",
    "enforcement_name": "Überwachungsstelle des Landes Mecklenburg-Vorpommern für digitale "
                        "Barrierefreiheit",
    "enforcement_address": "Werderstraße 124\n19055 Schwerin",
    "enforcement_website": "https://www.barrierefreies-web-mv.de",
    "enforcement_email": "ueberwachung@example.org",
}


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin(login, client):
    user = f.staff("admin", email="ada@zdmv.example")
    login(user)
    return user


def _fill(client, slug, values):
    response = client.post(f"/admin/pages/{slug}/fields", data=values)
    assert response.status_code == 303, text(response)
    return response


def _first_line(value: str) -> str:
    return value.splitlines()[0]


# ---------------------------------------------------------------- every mandatory item shown


def test_impressum_shows_every_mandatory_item(app, client, admin):
    _fill(client, "impressum", IMPRESSUM)
    visitor = app.test_client()
    body = text(visitor.get("/pages/impressum"))
    for name, value in IMPRESSUM.items():
        if name == "phone_hours_en":
            continue
        for line in value.splitlines():
            assert line in body, (name, line)
    assert "Vertreten durch: Erika Musterfrau, Direktorin" in body
    assert "Inhaltlich verantwortlich nach § 18 Abs. 2 MStV" in body
    assert "Aufsichtsbehörde" in body
    assert 'href="mailto:poststelle@zd.mv-regierung.de"' in body
    assert "Haftung für Links" in body  # the free text is still shown
    assert body.count("<h1") == 1
    assert WARNING not in body


def test_datenschutz_shows_controller_dpo_purposes_rights_and_supervisory_authority(
        app, client, admin):
    _fill(client, "impressum", IMPRESSUM)
    _fill(client, "datenschutz", DATENSCHUTZ)
    body = text(app.test_client().get("/pages/datenschutz"))
    for value in (*IMPRESSUM.values(), *DATENSCHUTZ.values()):
        if value in (IMPRESSUM["director"], IMPRESSUM["vat_id"], IMPRESSUM["phone_hours_de"],
                     IMPRESSUM["phone_hours_en"], IMPRESSUM["supervisory_authority"],
                     IMPRESSUM["supervisory_address"], IMPRESSUM["content_responsible"]):
            continue
        for line in value.splitlines():
            assert line in body, line
    for item in ("Verantwortlicher", "Datenschutzbeauftragte",
                 "Art. 6 Abs. 1 Buchstabe e DSGVO in Verbindung mit § 4 DSG M-V",
                 "Art. 6 Abs. 1 Buchstabe a DSGVO", "Empfänger", 'id="speicherdauer"',
                 "Die Speicherfristen finden Sie", "Art. 15 DSGVO", "Art. 16 DSGVO",
                 "Art. 17 DSGVO", "Art. 18 DSGVO", "Art. 20 DSGVO", "Art. 21 DSGVO",
                 "Art. 77 DSGVO", "Sitzungscookie", "Sprachcookie", "Welche Daten wir verarbeiten"):
        assert item in body, item


def test_datenschutz_defaults_name_the_state_commissioner(client):
    body = text(client.get("/pages/datenschutz"))
    assert ("Der Landesbeauftragte für Datenschutz und Informationsfreiheit "
            "Mecklenburg-Vorpommern") in body
    assert "Schloss Schwerin" in body and "Lennéstraße 1" in body and "19053 Schwerin" in body
    assert 'href="https://www.datenschutz-mv.de"' in body
    # without a DPO contact the page still names a way to reach them
    assert "Betreff „Datenschutz“" in body


def test_barrierefreiheit_follows_the_eu_model_and_the_state_rules(app, client, admin):
    _fill(client, "barrierefreiheit", BARRIEREFREIHEIT)
    body = text(app.test_client().get("/pages/barrierefreiheit"))
    for item in ("§ 14 Absatz 1 des Landesbehindertengleichstellungsgesetzes",
                 "LBGG M-V", "BITVO M-V", "BITV 2.0", "WCAG", "Stand der Vereinbarkeit",
                 "<strong>teilweise vereinbar</strong>", "Nicht barrierefreie Inhalte",
                 "Grund:", "Alternative:", "2. November 2026", "30. November 2026",
                 "Prüfung durch Dritte", "BITV-Test durch eine Prüfstelle",
                 "innerhalb von 6 Wochen", "/barrierefreiheit/rueckmeldung",
                 "Durchsetzungsverfahren", "Werderstraße 124",
                 'href="https://www.barrierefreies-web-mv.de"',
                 "mailto:ueberwachung@example.org", "/leichte-sprache", "/gebaerdensprache"):
        assert item in body, item
    assert BARRIEREFREIHEIT["enforcement_name"] in body
    assert "§ 16" not in body  # no longer the federal conciliation body


def test_english_pages_render_from_the_same_fields(app, client, admin):
    _fill(client, "impressum", IMPRESSUM)
    visitor = app.test_client()
    visitor.set_cookie("lang", "en")
    impressum = text(visitor.get("/pages/impressum"))
    assert "Published by" in impressum and "Erika Musterfrau" in impressum
    assert "Tuesdays 1–4 pm" in impressum
    assert "section 18(2)" in impressum
    datenschutz = text(visitor.get("/pages/datenschutz"))
    assert "Controller" in datenschutz and "Art. 77 GDPR" in datenschutz
    statement = text(visitor.get("/pages/barrierefreiheit"))
    assert "Compliance status" in statement and "partially compliant" in statement
    assert "Enforcement procedure" in statement


# ---------------------------------------------------------------- the admins' warning


def test_admin_sees_warning_listing_empty_fields_visitors_never_do(app, client, admin):
    body = text(client.get("/pages/impressum"))
    assert WARNING in body
    # the defaults leave the director and the person responsible for the content empty
    assert "Vertretungsberechtigte Person (Direktorin oder Direktor)" in body
    assert "Inhaltlich verantwortlich nach § 18 Abs. 2 MStV" in body
    assert 'href="/admin/pages/impressum/fields#director"' in body
    for who in (app.test_client(), _partner_client(app), _staff_client(app)):
        page = text(who.get("/pages/impressum"))
        assert WARNING not in page and "/admin/pages/impressum/fields" not in page


def _client_of(app, user):
    c = app.test_client()
    with c.session_transaction() as session:
        session["_user_id"] = f.session_token(user)
    return c


def _partner_client(app):
    return _client_of(app, f.user(email="partnerin@firma.example"))


def _staff_client(app):
    return _client_of(app, f.staff("coordinator", email="koordination@zdmv.example"))


def test_filling_the_fields_removes_the_warning(client, admin):
    assert WARNING in text(client.get("/pages/impressum"))
    _fill(client, "impressum", {**_form_values("impressum"),
                                "director": "Erika Musterfrau, Direktorin",
                                "content_responsible": "Max Beispiel, Schwerin"})
    assert WARNING not in text(client.get("/pages/impressum"))
    # the privacy policy still misses the DPO contact, the statement its dates
    datenschutz = text(client.get("/pages/datenschutz"))
    assert WARNING in datenschutz and "Kontakt der oder des Datenschutzbeauftragten" in datenschutz
    statement = text(client.get("/pages/barrierefreiheit"))
    assert WARNING in statement and "Erstellt am" in statement
    _fill(client, "datenschutz", {**_form_values("datenschutz"), "dpo_contact": "dsb@x.example"})
    _fill(client, "barrierefreiheit", {**_form_values("barrierefreiheit"),
                                       "a11y_prepared_on": "2026-11-02",
                                       "a11y_reviewed_on": "2026-11-30"})
    assert WARNING not in text(client.get("/pages/datenschutz"))
    assert WARNING not in text(client.get("/pages/barrierefreiheit"))
    events = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "setting.change")).scalars().all()
    assert {"legal.director", "legal.dpo_contact", "legal.a11y_prepared_on"} <= {
        e.details["key"] for e in events}


def test_clearing_a_prefilled_mandatory_field_brings_the_warning_back(client, admin):
    _fill(client, "impressum", {**_form_values("impressum"), "director": "E. M., Direktorin",
                                "content_responsible": "M. B.", "email": ""})
    body = text(client.get("/pages/impressum"))
    assert WARNING in body and "E-Mail-Adresse" in body
    assert db.session.get(PlatformSetting, "legal.email").value == ""


def _form_values(slug):
    values = legal.values()
    return {f.name: values[f.name] for f in legal.fields_of(slug)}


# ---------------------------------------------------------------- the admin form


def test_admin_form_prefilled_with_defaults_and_marks_mandatory(client, admin):
    body = text(client.get("/admin/pages/impressum/fields"))
    assert "poststelle@zd.mv-regierung.de" in body and "0385 588 57777" in body
    assert "Lübecker Straße 287" in body
    assert "Pflichtangabe." in body
    body = text(client.get("/admin/pages/barrierefreiheit/fields"))
    assert "Werderstraße 124" in body and 'value="6"' in body


def test_admin_form_bad_input_keeps_what_was_typed(client, admin):
    values = {**_form_values("barrierefreiheit"), "a11y_feedback_email": "keine-adresse",
              "enforcement_website": "ftp://x", "a11y_answer_weeks": "100",
              "enforcement_name": "Meine Stelle"}
    response = client.post("/admin/pages/barrierefreiheit/fields", data=values)
    body = text(response)
    assert response.status_code == 422
    assert "Bitte prüfen Sie Ihre Eingaben" in body
    assert "Bitte geben Sie eine gültige E-Mail-Adresse an." in body
    assert "Bitte geben Sie eine vollständige Adresse mit https:// an." in body
    assert "Bitte geben Sie eine Zahl von 1 bis 52 an." in body
    assert 'value="keine-adresse"' in body and 'value="Meine Stelle"' in body
    assert db.session.execute(select(PlatformSetting)).first() is None


def test_admin_form_unknown_page_is_404_and_visitors_are_kept_out(app, client, admin):
    assert client.get("/admin/pages/kontakt/fields").status_code == 404
    assert app.test_client().get("/admin/pages/impressum/fields").status_code == 302
    assert _partner_client(app).post("/admin/pages/impressum/fields",
                                     data={"director": "X"}).status_code in (403, 404)
    assert db.session.get(PlatformSetting, "legal.director") is None


def test_free_markdown_text_still_edited_and_shown_with_the_fields(client, admin):
    response = client.post("/admin/pages/impressum/de", data={
        "title": "Impressum", "body": "## Bildnachweise\n\nAlle Bilder: ZDMV"})
    assert response.status_code == 303
    assert db.session.execute(select(SitePage)).scalar_one().slug == "impressum"
    body = text(client.get("/pages/impressum"))
    assert "<h2>Bildnachweise</h2>" in body and "Lübecker Straße 287" in body


def test_pages_overview_counts_missing_fields(client, admin):
    body = text(client.get("/admin/pages"))
    assert "/admin/pages/impressum/fields" in body
    assert "2 Pflichtangaben fehlen" in body
