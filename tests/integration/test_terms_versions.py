"""A changed privacy notice: everyone agrees again before going on; every consent is kept."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.domain import privacy, terms
from innolab.extensions import db
from innolab.models import AuditEvent, TermsConsent, User
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

SUMMARY = "Neuer Abschnitt zur Speicherdauer von Entwürfen."


def _new_version(admin_client) -> None:
    response = admin_client.post("/admin/terms", data={"summary": SUMMARY})
    assert response.status_code == 303


def test_registration_records_the_version_agreed_to(client):
    client.post("/register", data={"email": "neu@example.org", "name": "Nora Neu",
                                   "password": "ein langes gutes Passwort 2026",
                                   "password_confirm": "ein langes gutes Passwort 2026",
                                   "consent": "y"})
    user = db.session.execute(select(User).where(User.email == "neu@example.org")).scalar_one()
    assert user.terms_version == "1"
    (consent,) = terms.history(user)
    assert consent.version == "1"


def test_after_a_new_version_everyone_is_asked_once_and_then_goes_on(client, login, new_client):
    admin = login(f.staff("admin"), new_client())
    partner = f.user(name="Paula Partner")
    c = login(partner)
    assert c.get("/proposals/").status_code == 200

    _new_version(admin)
    response = c.get("/proposals/")
    assert response.status_code == 303
    assert response.location == "/account/terms?next=/proposals/"
    page = c.get(response.location).get_data(as_text=True)
    assert "Geänderte Datenschutzhinweise" in page and SUMMARY in page

    refused = c.post("/account/terms", data={"next": "/proposals/"})
    assert refused.status_code == 422
    assert "Bitte bestätigen Sie, dass Sie die geänderten Datenschutzhinweise gelesen haben." \
        in refused.get_data(as_text=True)

    agreed = c.post("/account/terms", data={"agree": "y", "next": "/proposals/"})
    assert agreed.status_code == 303 and agreed.location == "/proposals/"
    assert c.get("/proposals/").status_code == 200
    db.session.expire_all()
    assert [x.version for x in terms.history(db.session.get(User, partner.id))] == ["2"]
    events = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "consent.terms")).scalars().all()
    assert [e.details["version"] for e in events] == ["2"]


def test_before_agreeing_a_person_may_read_sign_out_export_and_delete(client, login, new_client):
    admin = login(f.staff("admin"), new_client())
    c = login(f.user())
    _new_version(admin)
    for path in ("/pages/datenschutz", "/account/data-export", "/account/delete",
                 "/account/terms", "/robots.txt", "/healthz"):
        assert c.get(path).status_code == 200, path
    assert c.post("/logout").status_code in (302, 303)


def test_the_admin_sees_who_agreed_and_must_say_what_changed(client, login, new_client):
    admin = login(f.staff("admin"))
    f.user()
    html = admin.get("/admin/terms").get_data(as_text=True)
    assert "In Kraft ist Fassung 1." in html
    refused = admin.post("/admin/terms", data={"summary": "  "})
    assert refused.status_code == 422
    assert terms.current_version() == "1"
    _new_version(admin)
    assert terms.current_version() == "2" and terms.changes_summary() == SUMMARY
    # the admin has not agreed yet either
    assert admin.get("/admin/terms").status_code == 303


def test_the_data_export_lists_the_consents(client, login):
    user = f.user()
    terms.record_consent(user)
    db.session.commit()
    data, _files = privacy.collect(user)
    assert {"consent": "privacy_notice", "version": "1", "given": True} in [
        {k: v for k, v in c.items() if k != "at"} for c in data["consents"]]
    assert db.session.execute(select(TermsConsent)).scalar_one().user_id == user.id
