"""Administration: authorities, topics, footer pages and the audit log."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest
from sqlalchemy import select

from innolab.domain import audit, pages
from innolab.extensions import db
from innolab.models import AuditEvent, Authority, SitePage, Topic
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


@pytest.fixture
def admin(login):
    user = f.staff("admin", email="ada@zdmv.example")
    login(user)
    return user


def _actions():
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
    return [e.action for e in events]


# ------------------------------------------------------------------ authorities

def test_authority_create_edit_delete(client, admin):
    response = client.post("/admin/authorities", data={
        "name": "Landesamt für innere Verwaltung", "short_name": "LAiV",
        "website": "https://www.laiv-mv.de"})
    assert response.status_code == 303
    a = db.session.execute(select(Authority)).scalar_one()
    assert a.short_name == "LAiV"
    assert "Landesamt für innere Verwaltung" in client.get("/admin/authorities").get_data(
        as_text=True)

    response = client.post(f"/admin/authorities/{a.id}", data={
        "name": "Landesamt für innere Verwaltung M-V", "short_name": "LAiV", "website": ""})
    assert response.status_code == 303
    db.session.refresh(a)
    assert a.name.endswith("M-V") and a.website is None

    response = client.post(f"/admin/authorities/{a.id}/delete")
    assert response.status_code == 303
    assert db.session.execute(select(Authority)).first() is None
    assert _actions() == ["authority.create", "authority.update", "authority.delete"]


def test_authority_in_use_cannot_be_deleted(client, admin):
    c = f.challenge(title="Bessere Formulare")
    response = client.post(f"/admin/authorities/{c.authority_id}/delete", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "kann deshalb nicht gelöscht werden" in html
    assert db.session.get(Authority, c.authority_id) is not None


def test_authority_invalid_input(client, admin):
    f.authority(name="Staatskanzlei")
    response = client.post("/admin/authorities", data={"name": "staatskanzlei",
                                                       "website": "javascript:alert(1)"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "gibt es bereits" in html or "https://" in html
    assert "vollständige Adresse" in html
    response = client.post("/admin/authorities", data={"name": "staatskanzlei"})
    assert response.status_code == 422
    assert "gibt es bereits" in response.get_data(as_text=True)
    assert client.post("/admin/authorities", data={"name": ""}).status_code == 422
    assert len(db.session.execute(select(Authority)).scalars().all()) == 1


# ------------------------------------------------------------------ topics

def test_topic_create_with_generated_slug_edit_delete(client, admin):
    response = client.post("/admin/topics", data={"name_de": "Künstliche Intelligenz",
                                                  "name_en": "Artificial intelligence"})
    assert response.status_code == 303
    t = db.session.execute(select(Topic)).scalar_one()
    assert t.slug == "kuenstliche-intelligenz"
    response = client.post(f"/admin/topics/{t.id}", data={
        "name_de": "KI", "name_en": "AI", "slug": "ki"})
    assert response.status_code == 303
    db.session.refresh(t)
    assert (t.slug, t.name_de, t.name_en) == ("ki", "KI", "AI")
    assert client.post(f"/admin/topics/{t.id}/delete").status_code == 303
    assert db.session.execute(select(Topic)).first() is None
    assert _actions() == ["topic.create", "topic.update", "topic.delete"]


def test_topic_in_use_cannot_be_deleted(client, admin):
    t = f.topic(name_de="Mobilität")
    f.challenge(topics=[t])
    html = client.post(f"/admin/topics/{t.id}/delete", follow_redirects=True).get_data(
        as_text=True)
    assert "„Mobilität“ wird von 1 Herausforderung(en) oder Vorschlägen verwendet" in html
    assert db.session.get(Topic, t.id) is not None


def test_topic_used_by_proposal_cannot_be_deleted(client, admin):
    t = f.topic()
    p = f.proposal()
    p.topics.append(t)
    db.session.commit()
    client.post(f"/admin/topics/{t.id}/delete")
    assert db.session.get(Topic, t.id) is not None


def test_topic_duplicate_and_bad_slug(client, admin):
    f.topic(slug="ki")
    response = client.post("/admin/topics", data={"name_de": "KI", "name_en": "AI",
                                                  "slug": "ki"})
    assert response.status_code == 422
    assert "gibt es bereits" in response.get_data(as_text=True)
    response = client.post("/admin/topics", data={"name_de": "X", "name_en": "X",
                                                  "slug": "Nicht Erlaubt!"})
    assert response.status_code == 422
    assert "Nur Kleinbuchstaben" in response.get_data(as_text=True)


# ------------------------------------------------------------------ pages

def test_pages_overview_lists_every_page_and_language(client, admin):
    html = client.get("/admin/pages").get_data(as_text=True)
    for slug in ("impressum", "datenschutz", "barrierefreiheit", "kontakt"):
        for locale in ("de", "en"):
            assert f"/admin/pages/{slug}/{locale}" in html
    assert "Standardtext" in html


def test_page_editor_prefilled_with_default_text(client, admin):
    html = client.get("/admin/pages/impressum/de").get_data(as_text=True)
    default = pages.DEFAULTS["impressum"]["de"]
    assert default["title"] in html
    assert "Haftung für Links" in html  # from the default Markdown body


def test_page_edit_shows_on_showcase(app, client, admin):
    response = client.post("/admin/pages/kontakt/de", data={
        "title": "Kontakt zum InnoLab", "body": "Schreiben Sie uns: **innolab@zdmv.example**"})
    assert response.status_code == 303
    page = db.session.execute(select(SitePage)).scalar_one()
    assert (page.slug, page.locale, page.updated_by_id) == ("kontakt", "de", admin.id)
    assert "page.update" in _actions()

    html = client.get("/pages/kontakt").get_data(as_text=True)
    assert "Kontakt zum InnoLab" in html
    assert "<strong>innolab@zdmv.example</strong>" in html
    # the English page is still the default
    visitor = app.test_client()
    visitor.set_cookie("lang", "en")
    html = visitor.get("/pages/kontakt").get_data(as_text=True)
    assert "Contact" in html and "Kontakt zum InnoLab" not in html

    html = client.get("/admin/pages/kontakt/de").get_data(as_text=True)
    assert "Kontakt zum InnoLab" in html


def test_page_edit_escapes_html(client, admin):
    client.post("/admin/pages/impressum/de", data={
        "title": "<script>alert(1)</script>", "body": "<script>alert(2)</script> Text"})
    html = client.get("/pages/impressum").get_data(as_text=True)
    assert "<script>alert" not in html


def test_page_edit_requires_title_and_body(client, admin):
    response = client.post("/admin/pages/datenschutz/en", data={"title": "", "body": ""})
    assert response.status_code == 422
    assert "Bitte füllen Sie dieses Feld aus." in response.get_data(as_text=True)
    assert db.session.execute(select(SitePage)).first() is None


# ------------------------------------------------------------------ audit log

@pytest.fixture
def events(admin):
    other = f.staff("coordinator", email="koord@zdmv.example")
    partner = f.user(email="partner@firma.example")
    old = audit.record(partner, "organisation.create", None, name="Alt")
    old.created_at = datetime.now(UTC) - timedelta(days=40)
    audit.record(other, "challenge.publish", None, title="Neu")
    audit.record(admin, "authority.create", f.authority(name="Landeskriminalamt"),
                 name="Landeskriminalamt")
    db.session.commit()
    return other, partner


def test_audit_newest_first_with_actor_action_object_ip(client, admin, events):
    html = client.get("/admin/audit").get_data(as_text=True)
    assert html.index("authority.create") < html.index("challenge.publish") \
        < html.index("organisation.create")
    assert "koord@zdmv.example" in html and "Landeskriminalamt" in html
    assert "Behörde" in html  # object type label


def test_audit_filter_by_action_prefix(client, admin, events):
    html = client.get("/admin/audit?prefix=challenge").get_data(as_text=True)
    assert "challenge.publish" in html and "authority.create" not in html
    assert "Herausforderungen" in html  # the prefix label in the select


def test_audit_filter_by_actor_email(client, admin, events):
    html = client.get("/admin/audit?actor=FIRMA.example").get_data(as_text=True)
    assert "organisation.create" in html and "challenge.publish" not in html


def test_audit_filter_by_object_type(client, admin, events):
    html = client.get("/admin/audit?object_type=authorities").get_data(as_text=True)
    assert "authority.create" in html and "challenge.publish" not in html


def test_audit_filter_by_dates(client, admin, events):
    today = datetime.now(UTC).date()
    html = client.get(f"/admin/audit?date_from={today - timedelta(days=1)}").get_data(
        as_text=True)
    assert "challenge.publish" in html and "organisation.create" not in html
    html = client.get(f"/admin/audit?date_to={today - timedelta(days=10)}").get_data(
        as_text=True)
    assert "organisation.create" in html and "challenge.publish" not in html


def test_audit_bad_filters_give_form_errors_not_500(client, admin, events):
    response = client.get("/admin/audit?date_from=gestern&prefix=evil&object_type=x&page=-3")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte prüfen Sie Ihre Eingaben" in html
    assert "challenge.publish" in html  # the valid part still shows entries
    response = client.get("/admin/audit?date_from=2026-05-02&date_to=2026-05-01")
    assert response.status_code == 422
    assert "Enddatum liegt vor dem Anfangsdatum" in response.get_data(as_text=True)


def test_audit_pagination(client, admin):
    for i in range(60):
        audit.record(admin, "topic.update", None, n=i)
    db.session.commit()
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Seite 1 von 2" in html
    assert client.get("/admin/audit?page=2").status_code == 200
