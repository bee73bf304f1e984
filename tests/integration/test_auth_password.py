"""Forgotten password, the reset (and staff invitation) link, changing the password."""
from __future__ import annotations

from sqlalchemy import select

from innolab.domain import accounts, registration
from innolab.extensions import db
from innolab.models import AuditEvent
from tests import factories
from tests.integration.auth_support import link_in, page_text, sign_in

NEW = "Ein ganz neues Passwort 2026"


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def _request_reset(client, outbox, email="erika@example.org"):
    client.post("/password/forgot", data={"email": email})
    return link_in(outbox(email)[-1], "/password/reset/")


# ------------------------------------------------------------------ forgot password

def test_forgot_password_mails_a_link_that_sets_a_new_password(client, app_ctx, outbox):
    user = factories.user(email="erika@example.org", name="Erika Muster")
    page = client.get("/password/forgot")
    assert page.status_code == 200 and "Passwort vergessen" in page_text(page)

    response = client.post("/password/forgot", data={"email": "erika@example.org"})
    assert response.status_code == 200
    assert "Wir haben Ihnen eine E-Mail geschickt" in page_text(response)
    (mail,) = outbox("erika@example.org")
    assert mail.subject == "Passwort für das InnoLab festlegen"
    assert "Guten Tag Erika Muster" in mail.body_text
    assert "zwei Stunden gültig" in mail.body_text

    link = link_in(mail, "/password/reset/")
    form = client.get(link)
    assert form.status_code == 200
    assert "Neues Passwort festlegen" in page_text(form)
    assert "erika@example.org" in page_text(form)

    done = client.post(link, data={"password": NEW, "password_confirm": NEW})
    assert done.status_code == 303 and done.location == "/account"
    assert "Ihr Passwort ist gespeichert" in page_text(client.get("/account"))
    assert _events("user.password_reset")[0].object_id == user.id

    fresh = client.__class__(client.application, client.response_wrapper, use_cookies=True)
    assert sign_in(fresh, "erika@example.org", factories.PASSWORD).status_code == 422
    assert sign_in(fresh, "erika@example.org", NEW).status_code == 303


def test_forgot_password_does_not_reveal_whether_an_address_is_known(new_client, app_ctx, outbox):
    factories.user(email="erika@example.org")
    factories.user(email="weg@example.org", active=False)
    texts = {
        email: page_text(new_client().post("/password/forgot", data={"email": email}))
        for email in ("erika@example.org", "unbekannt@example.org", "weg@example.org")
    }
    assert len(set(texts.values())) == 1
    assert [m.recipient for m in outbox()] == ["erika@example.org"]


def test_forgot_password_bad_address_is_a_422_form_error(client, app_ctx, outbox):
    response = client.post("/password/forgot", data={"email": "erika(at)example.org"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein" in html
    assert 'value="erika(at)example.org"' in html
    assert outbox() == []


# ------------------------------------------------------------------ the reset link

def test_reset_link_works_only_once(client, app_ctx, outbox):
    factories.user(email="erika@example.org")
    link = _request_reset(client, outbox)
    assert client.post(link, data={"password": NEW, "password_confirm": NEW}).status_code == 303
    again = client.get(link)
    assert again.status_code == 400
    assert "Dieser Link ist nicht mehr gültig" in page_text(again)
    assert "Neuen Link anfordern" in page_text(again)
    assert client.post(link, data={"password": "noch-ein-Passwort-99",
                                   "password_confirm": "noch-ein-Passwort-99"}).status_code == 400


def test_reset_link_expires(client, app_ctx, outbox, monkeypatch):
    factories.user(email="erika@example.org")
    link = _request_reset(client, outbox)
    monkeypatch.setitem(accounts.MAX_AGE, "reset", -1)
    response = client.get(link)
    assert response.status_code == 400
    assert "abgelaufen" in page_text(response)


def test_reset_link_of_a_deactivated_account_is_refused(client, app_ctx, outbox):
    user = factories.user(email="erika@example.org")
    link = _request_reset(client, outbox)
    user.active = False
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 400
    assert "Dieser Link ist nicht mehr gültig" in page_text(response)
    response = client.post(link, data={"password": "Ein ganz neues Passwort 7",
                                       "password_confirm": "Ein ganz neues Passwort 7"})
    assert response.status_code == 400
    db.session.refresh(user)
    assert accounts.verify_password(user, factories.PASSWORD)  # the password stays as it was


def test_reset_ends_every_other_session(client, new_client, app_ctx, outbox, login):
    user = factories.user(email="erika@example.org")
    elsewhere = login(user, new_client())
    assert elsewhere.get("/account").status_code == 200
    link = _request_reset(client, outbox)
    client.post(link, data={"password": NEW, "password_confirm": NEW})
    assert elsewhere.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def test_reset_confirms_an_unconfirmed_address(client, app_ctx, outbox):
    user = factories.user(email="offen@example.org", confirmed=False)
    link = _request_reset(client, outbox, "offen@example.org")
    client.post(link, data={"password": NEW, "password_confirm": NEW})
    db.session.refresh(user)
    assert user.email_confirmed_at is not None


def test_reset_bad_input_is_a_german_422(client, app_ctx, outbox):
    user = factories.user(email="erika@example.org")
    old_hash = user.password_hash
    link = _request_reset(client, outbox)
    response = client.post(link, data={"password": "zu-kurz", "password_confirm": "anders"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Das Passwort muss zwischen 12 und 256 Zeichen lang sein." in html
    assert "Die beiden Passwörter stimmen nicht überein." in html
    assert "zu-kurz" not in html
    db.session.refresh(user)
    assert user.password_hash == old_hash
    assert client.get(link).status_code == 200  # the link still works


def test_invited_staff_sets_the_first_password_through_the_reset_page(client, app_ctx, outbox):
    # what the admin area does: an account without password and a "reset" link by mail
    staff = factories.staff("reviewer", email="gutachterin@example.org", confirmed=False)
    staff.password_hash = None
    registration.send_reset(staff, invited=True)
    db.session.commit()

    (mail,) = outbox("gutachterin@example.org")
    assert "für Sie wurde ein Konto beim InnoLab des ZDMV eingerichtet" in mail.body_text
    assert "legen Sie über den folgenden Link Ihr Passwort fest" in mail.body_text
    link = link_in(mail, "/password/reset/")
    assert "Passwort festlegen" in page_text(client.get(link))

    done = client.post(link, data={"password": NEW, "password_confirm": NEW})
    assert done.status_code == 303
    assert client.get("/account").status_code == 200
    db.session.refresh(staff)
    assert staff.email_confirmed and accounts.verify_password(staff, NEW)


# ------------------------------------------------------------------ change password

def _change(client, current=factories.PASSWORD, new=NEW, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "password": new,
        "password_confirm": new if confirm is None else confirm})


def test_change_password_needs_sign_in(client, app_ctx):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.location
    assert _change(client).status_code == 302


def test_change_password_keeps_this_session_and_ends_the_others(client, new_client, app_ctx,
                                                                login):
    user = factories.user(email="erika@example.org")
    login(user)
    elsewhere = login(user, new_client())
    page = client.get("/account/password")
    assert page.status_code == 200 and "Passwort ändern" in page_text(page)

    response = _change(client)
    assert response.status_code == 303 and response.location == "/account"
    assert "Auf allen anderen Geräten sind Sie abgemeldet" in page_text(client.get("/account"))
    assert client.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    db.session.refresh(user)
    assert accounts.verify_password(user, NEW)
    assert len(_events("user.password_changed")) == 1


def test_change_password_with_wrong_current_password_is_refused(client, app_ctx, login):
    user = factories.user()
    old_hash = user.password_hash
    login(user)
    response = _change(client, current="nicht-mein-Passwort")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Das aktuelle Passwort ist nicht richtig." in html
    assert NEW not in html and "nicht-mein-Passwort" not in html
    db.session.refresh(user)
    assert user.password_hash == old_hash
    assert client.get("/account").status_code == 200  # still signed in


def test_change_password_bad_new_password_is_a_german_422(client, app_ctx, login):
    login(factories.user())
    assert "Die beiden Passwörter stimmen nicht überein." in _change(
        client, confirm="etwas anderes 123").get_data(as_text=True)
    short = _change(client, new="kurz")
    assert short.status_code == 422
    assert ("Das Passwort muss zwischen 12 und 256 Zeichen lang sein."
            in short.get_data(as_text=True))
    same = _change(client, new=factories.PASSWORD)
    assert same.status_code == 422
    assert "muss sich vom aktuellen unterscheiden" in same.get_data(as_text=True)
    empty = client.post("/account/password", data={})
    assert empty.status_code == 422
    assert "Bitte geben Sie Ihr aktuelles Passwort ein." in empty.get_data(as_text=True)


def test_account_without_password_is_offered_a_link_to_set_one(client, app_ctx, login, outbox):
    user = factories.user(email="extern@example.org")
    user.password_hash = None
    db.session.commit()
    login(user)
    assert "Sie haben noch kein Passwort." in page_text(client.get("/account"))
    page = client.get("/account/password")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Sie melden sich bisher ohne Passwort an" in page_text(page)
    assert 'name="current_password"' not in html
    assert client.post("/account/password", data={"current_password": "",
                                                   "password": NEW,
                                                   "password_confirm": NEW}).status_code == 200
    db.session.refresh(user)
    assert user.password_hash is None
    client.post("/password/forgot", data={"email": "extern@example.org"})
    assert "/password/reset/" in outbox("extern@example.org")[0].body_text
