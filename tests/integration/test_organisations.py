"""My organisations: list, create, the members' page, edit the profile."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent, Membership, Organisation
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


STAFF_ROLES = ("admin", "coordinator", "reviewer", "decider", "dpo", "iso")

VALID = {"name": "Küstenlicht Software GmbH", "kind": "startup",
         "website": "https://kuestenlicht.example", "city": "Rostock",
         "description": "Wir bauen **barrierefreie** Formulare."}


def _audit(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


# ------------------------------------------------------------------ list

def test_organisations_visitor_redirected_to_login(client):
    response = client.get("/account/organisations/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_organisations_empty_state_invites_to_create(client, login):
    login(f.user())
    html = client.get("/account/organisations/").get_data(as_text=True)
    assert "Sie gehören noch keiner Organisation an." in html
    assert 'href="/account/organisations/new"' in html


def test_organisations_lists_only_my_organisations_with_role(client, login):
    me = f.user()
    owned = f.organisation(owner=me, name="Ostsee Daten GmbH")
    joined = f.organisation(owner=f.user(), members=[me], name="Moorwerk e. V.")
    f.organisation(owner=f.user(), name="Fremde Firma AG")
    login(me)
    html = client.get("/account/organisations/").get_data(as_text=True)
    assert "Ostsee Daten GmbH" in html and "Moorwerk e. V." in html
    assert "Fremde Firma AG" not in html
    assert f'/account/organisations/{owned.id}"' in html
    assert f'/account/organisations/{joined.id}"' in html
    assert "Eigentümer/in" in html and "Mitglied" in html
    assert "Sie gehören noch keiner Organisation an." not in html


# ------------------------------------------------------------------ create

def test_new_organisation_creator_becomes_owner(client, login):
    me = f.user()
    login(me)
    assert "Organisation anlegen" in client.get("/account/organisations/new").get_data(as_text=True)
    response = client.post("/account/organisations/new", data=VALID)
    assert response.status_code == 303
    org = db.session.execute(select(Organisation)).scalar_one()
    assert response.headers["Location"].endswith(f"/account/organisations/{org.id}")
    assert (org.name, org.kind, org.city) == ("Küstenlicht Software GmbH", "startup", "Rostock")
    assert org.website == "https://kuestenlicht.example"
    assert org.slug == "kuestenlicht-software-gmbh"
    assert org.is_owner(me)
    event = _audit("organisation.create")[0]
    assert event.actor_id == me.id and event.object_id == org.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "wurde angelegt" in page


def test_new_organisation_slug_gets_suffix_on_clash(client, login):
    taken = f.organisation(owner=f.user(), name="Küstenlicht Software GmbH")
    taken.slug = "kuestenlicht-software-gmbh"
    db.session.commit()
    login(f.user())
    client.post("/account/organisations/new", data=VALID)
    client.post("/account/organisations/new", data=VALID)
    slugs = sorted(db.session.execute(select(Organisation.slug)).scalars())
    assert slugs == ["kuestenlicht-software-gmbh", "kuestenlicht-software-gmbh-2",
                     "kuestenlicht-software-gmbh-3"]


def test_new_organisation_website_without_scheme_gets_https(client, login):
    login(f.user())
    client.post("/account/organisations/new", data=dict(VALID, website="www.beispiel.de"))
    website = db.session.execute(select(Organisation.website)).scalar_one()
    assert website == "https://www.beispiel.de"


@pytest.mark.parametrize("website", ["javascript:alert(1)", "ftp://example.org/datei",
                                     "https://", "https://exa mple.org", "nur text"])
def test_new_organisation_bad_website_refused(client, login, website):
    login(f.user())
    response = client.post("/account/organisations/new", data=dict(VALID, website=website))
    assert response.status_code == 422
    assert "Bitte geben Sie eine gültige Webadresse an" in response.get_data(as_text=True)
    assert db.session.execute(select(Organisation)).first() is None


def test_new_organisation_bad_input_keeps_values(client, login):
    login(f.user())
    response = client.post("/account/organisations/new", data={
        "name": "  ", "kind": "konzern", "website": "javascript:alert(1)", "city": "Wismar",
        "description": "Unsere Beschreibung bleibt erhalten."})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte prüfen Sie Ihre Eingaben" in html
    assert "Bitte geben Sie den Namen der Organisation ein." in html
    assert "Bitte wählen Sie eine Art der Organisation." in html
    assert 'value="Wismar"' in html
    assert "Unsere Beschreibung bleibt erhalten." in html
    assert db.session.execute(select(Organisation)).first() is None


def test_new_organisation_too_long_name_refused(client, login):
    login(f.user())
    response = client.post("/account/organisations/new", data=dict(VALID, name="x" * 201))
    assert response.status_code == 422
    assert "Bitte höchstens 200 Zeichen." in response.get_data(as_text=True)


def test_new_organisation_visitor_redirected(client):
    response = client.post("/account/organisations/new", data=VALID)
    assert response.status_code == 302
    assert db.session.execute(select(Organisation)).first() is None


# ------------------------------------------------------------------ members' page

def test_organisation_page_shows_profile_members_and_links(client, login):
    owner = f.user(name="Erika Eigner")
    member = f.user(name="Max Mitglied")
    org = f.organisation(owner=owner, members=[member], name="Ostsee Daten GmbH", kind="research")
    login(member)
    response = client.get(f"/account/organisations/{org.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1" in html and html.count("<h1") == 1
    assert "Ostsee Daten GmbH" in html and "Forschungseinrichtung" in html and "Schwerin" in html
    assert "Erika Eigner" in html and "Max Mitglied" in html
    assert f'/organisations/{org.slug}"' in html
    assert f"/proposals/new?organisation={org.id}" in html
    # a plain member sees no owner controls
    assert f"/account/organisations/{org.id}/invite" not in html
    assert f"/account/organisations/{org.id}/edit" not in html
    assert "Offene Einladungen" not in html
    assert f"/account/organisations/{org.id}/leave" in html


def test_organisation_page_owner_sees_controls(client, login):
    owner = f.user()
    org = f.organisation(owner=owner, members=[f.user()])
    login(owner)
    html = client.get(f"/account/organisations/{org.id}").get_data(as_text=True)
    assert f"/account/organisations/{org.id}/invite" in html
    assert f"/account/organisations/{org.id}/edit" in html
    assert f"/account/organisations/{org.id}/transfer" in html
    assert "Offene Einladungen" in html
    # the only owner cannot leave, and is told why
    assert f"/account/organisations/{org.id}/leave" not in html
    assert "braucht mindestens eine Eigentümerin oder einen Eigentümer" in html


def test_organisation_page_description_is_sanitised_markdown(client, login):
    owner = f.user()
    org = f.organisation(owner=owner)
    org.description = "**fett** <script>alert(1)</script>"
    db.session.commit()
    login(owner)
    html = client.get(f"/account/organisations/{org.id}").get_data(as_text=True)
    assert "<strong>fett</strong>" in html
    assert "<script>alert(1)" not in html


def test_organisation_page_visitor_redirected_to_login(client):
    org = f.organisation(owner=f.user())
    response = client.get(f"/account/organisations/{org.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_organisation_page_hidden_from_partner_of_other_organisation(client, login):
    org = f.organisation(owner=f.user())
    other = f.user()
    f.organisation(owner=other)
    login(other)
    response = client.get(f"/account/organisations/{org.id}")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.text and org.name not in response.text


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_organisation_page_hidden_from_staff(client, login, role):
    org = f.organisation(owner=f.user())
    login(f.staff(role))
    response = client.get(f"/account/organisations/{org.id}")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.text and org.name not in response.text


def test_organisation_page_unknown_id_404(client, login):
    login(f.user())
    assert client.get("/account/organisations/999999").status_code == 404


# ------------------------------------------------------------------ edit

def test_edit_organisation_owner_changes_profile(client, login):
    owner = f.user()
    org = f.organisation(owner=owner, name="Alter Name GmbH")
    slug = org.slug
    login(owner)
    form = client.get(f"/account/organisations/{org.id}/edit").get_data(as_text=True)
    assert 'value="Alter Name GmbH"' in form
    response = client.post(f"/account/organisations/{org.id}/edit",
                           data=dict(VALID, name="Neuer Name GmbH", kind="association", city=""))
    assert response.status_code == 303
    db.session.refresh(org)
    assert (org.name, org.kind, org.city) == ("Neuer Name GmbH", "association", None)
    assert org.slug == slug  # links to the public page keep working
    event = _audit("organisation.update")[0]
    assert event.actor_id == owner.id
    assert set(event.details["fields"]) >= {"name", "kind", "city"}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Das Profil der Organisation wurde gespeichert." in page
    assert "Verein oder Verband" in page


def test_edit_organisation_bad_input_keeps_values(client, login):
    owner = f.user()
    org = f.organisation(owner=owner, name="Bleibt GmbH")
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/edit",
                           data=dict(VALID, name="", city="Greifswald", website="ftp://x.de"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte geben Sie den Namen der Organisation ein." in html
    assert 'value="Greifswald"' in html and 'value="ftp://x.de"' in html
    db.session.refresh(org)
    assert org.name == "Bleibt GmbH"


def test_edit_organisation_member_refused_403(client, login):
    member = f.user()
    org = f.organisation(owner=f.user(), members=[member], name="Bleibt GmbH")
    login(member)
    assert client.get(f"/account/organisations/{org.id}/edit").status_code == 403
    response = client.post(f"/account/organisations/{org.id}/edit", data=dict(VALID))
    assert response.status_code == 403
    assert "Nur Eigentümerinnen und Eigentümer" in response.get_data(as_text=True)
    db.session.refresh(org)
    assert org.name == "Bleibt GmbH"


@pytest.mark.parametrize("role", (None,) + STAFF_ROLES)
def test_edit_organisation_non_member_refused_404(client, login, role):
    org = f.organisation(owner=f.user(), name="Bleibt GmbH")
    login(f.staff(role) if role else f.user())
    assert client.post(f"/account/organisations/{org.id}/edit", data=VALID).status_code == 404
    db.session.refresh(org)
    assert org.name == "Bleibt GmbH"


def test_edit_organisation_visitor_redirected(client):
    org = f.organisation(owner=f.user(), name="Bleibt GmbH")
    assert client.post(f"/account/organisations/{org.id}/edit", data=VALID).status_code == 302
    assert db.session.get(Organisation, org.id).name == "Bleibt GmbH"


def test_membership_count_unchanged_by_edit(client, login):
    owner = f.user()
    org = f.organisation(owner=owner, members=[f.user()])
    login(owner)
    client.post(f"/account/organisations/{org.id}/edit", data=VALID)
    assert db.session.query(Membership).filter_by(organisation_id=org.id).count() == 2
