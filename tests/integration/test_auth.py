"""Registration, confirming the address, resending the confirmation."""
from __future__ import annotations

from sqlalchemy import func, select

from innolab.extensions import db
from innolab.models import AuditEvent, User
from tests import factories
from tests.integration.auth_support import link_in, page_text, sign_in

PASSWORD = "Sonnenblumen am Schweriner See"


def _form(**overrides):
    data = {"email": "anna@example.org", "name": "Anna Beispiel", "password": PASSWORD,
            "password_confirm": PASSWORD, "consent": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _confirm(client, link):
    """Open the link from the mail, then press the button on the page."""
    page = client.get(link)
    assert page.status_code == 200
    assert "E-Mail-Adresse bestätigen" in page_text(page)
    return client.post(link)


def _user(email):
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def test_register_page_shows_form_and_privacy_link(client, app_ctx):
    response = client.get("/register")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1" in html and html.count("<h1") == 1
    assert "Registrieren" in html
    assert 'href="/pages/datenschutz"' in html
    assert 'name="consent"' in html and 'type="password"' in html
    assert "Mindestens 12 Zeichen" in html


def test_register_creates_unconfirmed_account_and_mails_confirmation_link(client, app_ctx, outbox):
    response = client.post("/register", data=_form())
    assert response.status_code == 200
    assert "Wir haben Ihnen eine E-Mail geschickt" in page_text(response)

    user = _user("anna@example.org")
    assert user is not None and user.name == "Anna Beispiel"
    assert user.email_confirmed_at is None
    assert user.locale == "de"
    assert user.password_hash and PASSWORD not in user.password_hash

    (mail,) = outbox("anna@example.org")
    assert mail.subject == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert "Guten Tag Anna Beispiel" in mail.body_text
    assert "bestätigen Sie Ihre E-Mail-Adresse" in mail.body_text
    assert "/confirm/" in mail.body_text
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "user.register")) == 1


def test_register_normalises_the_address(client, app_ctx):
    client.post("/register", data=_form(email="  Anna.Beispiel@Example.ORG "))
    assert _user("anna.beispiel@example.org") is not None


def test_register_in_english_interface_stores_english_locale(client, app_ctx):
    client.set_cookie("lang", "en")
    client.post("/register", data=_form())
    assert _user("anna@example.org").locale == "en"


def test_register_then_confirm_from_mail_then_sign_in(client, app_ctx, outbox):
    client.post("/register", data=_form())
    (mail,) = outbox()

    # not yet confirmed: refused with a way to resend
    refused = sign_in(client, "anna@example.org", PASSWORD)
    assert refused.status_code == 422
    assert "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse" in page_text(refused)

    link = link_in(mail, "/confirm/")
    assert client.get(link).status_code == 200
    assert _user("anna@example.org").email_confirmed_at is None  # opening the link is not enough
    response = _confirm(client, link)
    assert response.status_code == 303 and response.location.endswith("/login")
    assert "Ihre E-Mail-Adresse ist bestätigt" in page_text(client.get(response.location))
    assert _user("anna@example.org").email_confirmed_at is not None

    signed_in = sign_in(client, "anna@example.org", PASSWORD)
    assert signed_in.status_code == 303
    assert client.get("/account").status_code == 200


def test_confirm_link_used_twice_says_it_is_no_longer_valid(client, app_ctx, outbox):
    client.post("/register", data=_form())
    link = link_in(outbox()[0], "/confirm/")
    assert _confirm(client, link).status_code == 303
    assert client.post(link).status_code == 400
    again = client.get(link)
    assert again.status_code == 400
    text = page_text(again)
    assert "Dieser Link ist nicht mehr gültig" in text
    assert "bereits verwendet" in text


def test_confirm_with_forged_token_is_refused(client, app_ctx):
    response = client.get("/confirm/eyJ1IjoxfQ.forged.token")
    assert response.status_code == 400
    assert "Dieser Link ist nicht mehr gültig" in page_text(response)
    assert client.post("/confirm/eyJ1IjoxfQ.forged.token").status_code == 400


def test_register_known_address_gives_same_page_and_mails_the_owner(client, new_client, app_ctx,
                                                                     outbox):
    owner = factories.user(email="erika@example.org", name="Erika Muster")
    known = new_client().post("/register", data=_form(email="erika@example.org", name="Mallory"))
    unknown = new_client().post("/register", data=_form(email="neu@example.org", name="Mallory"))

    assert known.status_code == unknown.status_code == 200
    assert page_text(known) == page_text(unknown)
    assert "Wir haben Ihnen eine E-Mail geschickt" in page_text(known)

    # no second account, the name of the existing one unchanged
    assert db.session.scalar(select(func.count()).select_from(User)
                             .where(User.email == "erika@example.org")) == 1
    db.session.refresh(owner)
    assert owner.name == "Erika Muster"

    (mail,) = outbox("erika@example.org")
    assert mail.subject == "Ihr Konto beim InnoLab"
    assert "Für diese Adresse gibt es bereits ein Konto" in mail.body_text
    assert "/login" in mail.body_text and "/password/forgot" in mail.body_text
    assert "/confirm/" not in mail.body_text  # already confirmed
    assert client.get(link_in(mail, "/password/forgot")).status_code == 200


def test_register_known_address_case_insensitive(client, app_ctx, outbox):
    factories.user(email="erika@example.org")
    client.post("/register", data=_form(email="Erika@Example.org"))
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert outbox("erika@example.org")[0].subject == "Ihr Konto beim InnoLab"


def test_register_known_unconfirmed_address_mail_offers_confirmation(client, app_ctx, outbox):
    factories.user(email="erika@example.org", confirmed=False)
    client.post("/register", data=_form(email="erika@example.org"))
    (mail,) = outbox("erika@example.org")
    assert "noch nicht bestätigt" in mail.body_text
    assert _confirm(client, link_in(mail, "/confirm/")).status_code == 303
    assert _user("erika@example.org").email_confirmed_at is not None


def test_register_deactivated_address_same_page_no_mail(client, app_ctx, outbox):
    factories.user(email="weg@example.org", active=False)
    response = client.post("/register", data=_form(email="weg@example.org"))
    assert "Wir haben Ihnen eine E-Mail geschickt" in page_text(response)
    assert outbox() == []


def test_register_bad_input_keeps_values_and_explains_in_german(client, app_ctx, outbox):
    response = client.post("/register", data=_form(
        email="keine-adresse", name="Anna Beispiel", password="kurz", password_confirm="anders",
        consent=None))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte prüfen Sie Ihre Eingaben" in html
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein" in html
    assert "Das Passwort muss zwischen 12 und 256 Zeichen lang sein." in html
    assert "Die beiden Passwörter stimmen nicht überein." in html
    assert "Bitte bestätigen Sie, dass Sie die Datenschutzhinweise gelesen haben." in html
    assert 'value="keine-adresse"' in html and 'value="Anna Beispiel"' in html
    assert "kurz" not in html and "anders" not in html  # passwords are never sent back
    assert _user("keine-adresse") is None and outbox() == []


def test_register_empty_form_is_refused_with_422(client, app_ctx):
    response = client.post("/register", data={})
    assert response.status_code == 422
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_register_very_long_values_are_form_errors_not_crashes(client, app_ctx):
    response = client.post("/register", data=_form(email="a" * 300 + "@example.org",
                                                   name="N" * 500, password="p" * 5000,
                                                   password_confirm="p" * 5000))
    assert response.status_code == 422
    assert "Der Name darf höchstens 200 Zeichen lang sein." in response.get_data(as_text=True)


def test_register_when_signed_in_goes_to_the_account(client, app_ctx, login):
    login(factories.user())
    response = client.get("/register")
    assert response.status_code == 303 and response.location.endswith("/account")


def test_resend_confirmation_mails_a_new_working_link(client, app_ctx, outbox):
    factories.user(email="erika@example.org", confirmed=False)
    page = client.get("/register/resend")
    assert page.status_code == 200 and "Bestätigungslink erneut anfordern" in page_text(page)

    response = client.post("/register/resend", data={"email": "erika@example.org"})
    assert response.status_code == 200
    assert "Wir haben Ihnen eine E-Mail geschickt" in page_text(response)
    (mail,) = outbox("erika@example.org")
    assert mail.subject == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert _confirm(client, link_in(mail, "/confirm/")).status_code == 303
    assert _user("erika@example.org").email_confirmed


def test_resend_confirmation_does_not_reveal_whether_an_address_is_known(client, new_client,
                                                                         app_ctx, outbox):
    factories.user(email="bestaetigt@example.org")
    factories.user(email="offen@example.org", confirmed=False)
    texts = {
        email: page_text(new_client().post("/register/resend", data={"email": email}))
        for email in ("bestaetigt@example.org", "offen@example.org", "unbekannt@example.org")
    }
    assert len(set(texts.values())) == 1
    assert [m.recipient for m in outbox()] == ["offen@example.org"]


def test_resend_confirmation_bad_address_is_a_422_form_error(client, app_ctx):
    response = client.post("/register/resend", data={"email": "nicht gültig"})
    assert response.status_code == 422
    assert 'value="nicht gültig"' in response.get_data(as_text=True)


def test_unconfirmed_login_offers_resend_which_sends_the_mail(client, app_ctx, outbox):
    factories.user(email="erika@example.org", confirmed=False)
    refused = sign_in(client, "erika@example.org", factories.PASSWORD)
    html = refused.get_data(as_text=True)
    assert 'action="/register/resend"' in html
    assert 'name="email" value="erika@example.org"' in html
    client.post("/register/resend", data={"email": "erika@example.org"})
    assert len(outbox("erika@example.org")) == 1


def test_register_refuses_a_breached_password_and_keeps_the_form(client):
    response = client.post("/register", data={
        "email": "nora@example.org", "name": "Nora Neu", "password": "password1234",
        "password_confirm": "password1234", "consent": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "steht auf einer Liste häufig verwendeter" in html
    assert 'value="nora@example.org"' in html and 'value="Nora Neu"' in html
    assert "password1234" not in html


def test_register_refuses_a_password_made_of_the_name(client):
    response = client.post("/register", data={
        "email": "nora.neumann@example.org", "name": "Nora Neumann",
        "password": "NoraNeumann2026", "password_confirm": "NoraNeumann2026", "consent": "y"})
    assert response.status_code == 422
    assert "besteht im Wesentlichen aus Ihrem Namen" in response.get_data(as_text=True)
