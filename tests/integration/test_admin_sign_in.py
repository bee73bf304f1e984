"""The admin's switch for staff passwords, on an installation without a staff provider."""
from __future__ import annotations

from innolab.domain import identities
from tests import factories as f


def test_local_passwords_stay_on_without_a_staff_provider(app_ctx, client, login):
    admin = f.staff("admin")
    login(admin)
    page = client.get("/admin/sign-in").get_data(as_text=True)
    assert "Es ist kein Identitätsanbieter für Beschäftigte eingerichtet." in page

    response = client.post("/admin/sign-in", data={"staff_local_login": "off"})
    assert response.status_code == 422
    assert "erst abgeschaltet werden" in response.get_data(as_text=True)
    assert identities.staff_local_login_enabled() is True


def test_sign_in_settings_are_for_admins_only(app_ctx, client, login):
    assert client.get("/admin/sign-in").status_code in (302, 303)  # visitor: to the login
    for role in ("coordinator", "reviewer", "decider", "dpo", "iso"):
        login(f.staff(role))
        assert client.get("/admin/sign-in").status_code == 403
        assert client.post("/admin/sign-in", data={}).status_code == 403
    login(f.user())
    assert client.get("/admin/sign-in").status_code == 403
    assert identities.staff_local_login_enabled() is True
