"""The account page: name, language, roles, links."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent
from tests import factories
from tests.integration.auth_support import page_text


def test_account_needs_sign_in(client, app_ctx):
    response = client.get("/account")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert client.post("/account", data={"name": "X", "locale": "de"}).status_code == 302


def test_account_shows_email_links_and_current_values(client, app_ctx, login):
    login(factories.user(email="erika@example.org", name="Erika Muster"))
    response = client.get("/account")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.count("<h1") == 1
    text = page_text(response)
    assert "Mein Konto" in text and "erika@example.org" in text
    assert 'value="Erika Muster"' in html
    assert re.search(r'<input checked[^>]*value="de"', html)
    assert 'href="/account/organisations/"' in html
    assert 'href="/account/password"' in html
    assert "Rollen im ZDMV" not in text  # partners hold no staff role


def test_account_of_staff_shows_the_roles(client, app_ctx, login):
    login(factories.staff("coordinator", "dpo"))
    text = page_text(client.get("/account"))
    assert "Rollen im ZDMV" in text
    assert "Koordination" in text and "Datenschutzbeauftragte/r" in text


def test_account_saves_name_and_language_and_sets_the_cookie(client, app_ctx, login):
    user = factories.user(name="Erika Muster")
    login(user)
    response = client.post("/account", data={"name": "  Erika Beispiel ", "locale": "en"})
    assert response.status_code == 303 and response.location == "/account"
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"
    db.session.refresh(user)
    assert user.name == "Erika Beispiel" and user.locale == "en"
    assert client.get("/account").headers.get("Content-Language") in (None, "en")
    assert '<html lang="en">' in client.get("/account").get_data(as_text=True)
    (event,) = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "user.settings_changed")).scalars()
    assert event.actor_id == user.id


@pytest.mark.parametrize("data,message", [
    ({"name": "", "locale": "de"}, "Bitte geben Sie Ihren Namen ein."),
    ({"name": "N" * 201, "locale": "de"}, "Der Name darf höchstens 200 Zeichen lang sein."),
    ({"name": "Erika", "locale": "fr"}, "Keine gültige Auswahl."),
])
def test_account_bad_input_is_refused_with_422(client, app_ctx, login, data, message):
    user = factories.user(name="Erika Muster")
    login(user)
    response = client.post("/account", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte prüfen Sie Ihre Eingaben" in html
    assert message in html
    db.session.refresh(user)
    assert user.name == "Erika Muster" and user.locale == "de"
