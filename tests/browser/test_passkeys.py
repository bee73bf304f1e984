"""Passkeys in a real Chromium: a software authenticator through the DevTools protocol
(WebAuthn.addVirtualAuthenticator) registers a passkey and signs in with it.

WebAuthn needs a secure context and a host name as RP ID, so this module serves the live app
as http://localhost (the server listens on 127.0.0.1) and the enrolment rule is on, as in
production: the reviewer is sent to set up a factor right after the password.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select


@pytest.fixture(scope="module")
def on_localhost(live_app):
    before = live_app.url, live_app.config["BASE_URL"]
    url = live_app.url.replace("http://127.0.0.1:", "http://localhost:")
    live_app.url = url
    live_app.config.update(BASE_URL=url, MFA_ENFORCE_ENROLMENT=True)
    yield live_app
    live_app.url = before[0]
    live_app.config.update(BASE_URL=before[1], MFA_ENFORCE_ENROLMENT=False)


def _authenticator(ui) -> str:
    cdp = ui.page.context.new_cdp_session(ui.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    answer = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    ui.cdp = cdp
    return answer["authenticatorId"]


def _password(ui, email, password):
    ui.visit("/login")
    ui.page.get_by_label("E-Mail-Adresse").fill(email)
    ui.page.get_by_label("Passwort", exact=True).fill(password)
    ui.submit(ui.page.get_by_role("button", name="Anmelden", exact=True))


def _main(ui) -> str:
    return ui.page.locator("main").inner_text()


def test_register_a_passkey_then_sign_in_with_password_and_passkey(
        on_localhost, new_ui, staff_account, in_db):
    from innolab.models import AuditEvent, SecondFactor, User

    email, password = staff_account("reviewer", email="paula@zdmv.example",
                                    name="Paula Passkey")
    ui = new_ui("Gutachterin")
    authenticator = _authenticator(ui)

    _password(ui, email, password)
    assert ui.page.url.endswith("/account/security"), ui.page.url
    assert "Ein zweiter Faktor ist für Ihr Konto vorgeschrieben" in _main(ui)
    ui.submit(ui.page.get_by_role("link", name="Passkey hinzufügen"))
    ui.page.get_by_label("Bezeichnung").fill("Virtueller Schlüssel")
    ui.submit(ui.page.get_by_role("button", name="Passkey anlegen"))
    assert "Ihre Wiederherstellungscodes" in _main(ui), _main(ui)
    assert ui.page.locator("ol.recovery-codes li").count() == 10
    ui.submit(ui.page.get_by_role("link", name="Ich habe die Codes gesichert"))
    assert "Virtueller Schlüssel" in _main(ui)
    credentials = ui.cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1

    def _stored():
        from innolab.extensions import db

        return [(f.kind, f.transports) for f in db.session.execute(
            select(SecondFactor)).scalars()]

    [(kind, transports)] = in_db(_stored)
    assert kind == "webauthn" and "internal" in (transports or "")

    # the authenticator app's page: the QR code made on the server, no inline script
    ui.submit(ui.page.get_by_role("link", name="Authenticator-App hinzufügen"))
    assert ui.page.locator("svg.totp-qr").count() == 1
    ui.visit("/account/security")

    ui.submit(ui.page.get_by_role("button", name="Abmelden"))
    _password(ui, email, password)
    assert ui.page.url.endswith("/login/second-factor")
    assert "Zweiter Faktor" in _main(ui)
    ui.submit(ui.page.get_by_role("button", name="Mit Passkey bestätigen"))
    assert "Sie sind angemeldet." in _main(ui)
    assert ui.page.get_by_role("button", name="Abmelden").count() == 1
    ui.visit("/account")  # the session counts as second-factor: no detour
    assert ui.page.url.endswith("/account")

    def _verified():
        from innolab.extensions import db

        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        return [e.details["kind"] for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "mfa.verified",
                                     AuditEvent.object_id == user.id)).scalars()]

    assert in_db(_verified) == ["webauthn"]
