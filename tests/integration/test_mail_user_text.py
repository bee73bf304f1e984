"""Text from users never becomes a link or an instruction in a platform mail.

Names with an address are refused where they are typed (with a message, the form keeps the
rest); names and titles already stored with an address (old rows, inserted here directly) go
out quoted, with the address replaced, and the HTML part links only the platform itself.
Every mail is delivered to a real SMTP server (tests/smtp.py).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from innolab.domain import mailer
from innolab.domain import notifications as nt
from innolab.extensions import db
from innolab.models import Organisation, Proposal, User
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

EVIL = "bestätigen Sie sofort unter https://zdmv-login.example/verify"
ADDRESS_MESSAGE = "Bitte geben Sie hier keine Webadressen, E-Mail-Adressen oder Domainnamen an"
REMOVED = "[Adresse entfernt]"
PASSWORD = "Sonnenblumen am Schweriner See"


def _deliver(smtp_server):
    mailer.deliver_all()
    return smtp_server.inbox.messages


def _parts(msg):
    return (msg.get_body(preferencelist=("plain",)).get_content(),
            msg.get_body(preferencelist=("html",)).get_content())


def _assert_inert(plain: str, html: str) -> None:
    """No trace of the address in either part; every link of the HTML part is the site's."""
    for part in (plain, html):
        assert "zdmv-login" not in part and "example/verify" not in part
    assert REMOVED in plain and REMOVED in html
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith("http://localhost/"), href
    for anchor in re.findall(r"<a [^>]*>(.*?)</a>", html, re.S):
        assert "bestätigen" not in anchor and REMOVED not in anchor


# ---------------------------------------------------------------- refused where typed

def test_registration_with_an_address_in_the_name_is_refused_and_nothing_is_mailed(
        client, smtp_server):
    response = client.post("/register", data={
        "email": "opfer@example.org", "name": EVIL, "password": PASSWORD,
        "password_confirm": PASSWORD, "consent": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ADDRESS_MESSAGE in html and 'value="opfer@example.org"' in html
    assert db.session.execute(select(User)).first() is None
    assert _deliver(smtp_server) == []


@pytest.mark.parametrize("name", ["Anna www.beispiel.de", "Anna beispiel.de", "Anna@x.org",
                                  "Anna ｗｗｗ．evil．com"])
def test_settings_refuse_a_name_with_an_address(client, login, name):
    user = f.user(name="Anna Beispiel")
    db.session.commit()
    login(user)
    response = client.post("/account", data={"name": name, "locale": "de"})
    assert response.status_code == 422
    assert ADDRESS_MESSAGE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Anna Beispiel"


def test_organisation_name_with_an_address_is_refused(client, login):
    login(f.user())
    response = client.post("/account/organisations/new", data={
        "name": "Nordlicht https://nordlicht.example", "kind": "startup", "city": "Rostock"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ADDRESS_MESSAGE in html and 'value="Rostock"' in html
    assert db.session.execute(select(Organisation)).first() is None


def test_staff_invitation_with_an_address_in_the_name_is_refused(client, login, smtp_server):
    login(f.user(roles=["admin"]))  # signed in just now: a recent proof of identity
    response = client.post("/admin/users/invite", data={
        "email": "neu@zdmv.example", "name": EVIL, "roles": ["reviewer"]})
    assert response.status_code == 422
    assert ADDRESS_MESSAGE in response.get_data(as_text=True)
    assert db.session.execute(select(User).where(User.email == "neu@zdmv.example")).first() \
        is None
    assert _deliver(smtp_server) == []


def test_proposal_title_with_an_address_is_refused(client, login):
    owner = f.user()
    org = f.organisation(owner=owner)
    db.session.commit()
    login(owner)
    response = client.post("/proposals/new", data={
        "title": "Pilot – Anmeldung unter www.zdmv-login.de", "organisation_id": org.id,
        "personal_data": "no"})
    assert response.status_code == 422
    assert ADDRESS_MESSAGE in response.get_data(as_text=True)
    assert db.session.execute(select(Proposal)).first() is None


# ---------------------------------------------------------------- old rows, mailed

def test_invitation_mail_never_links_an_organisation_name_from_old_data(
        client, login, smtp_server):
    owner = f.user(name=f"Erika {EVIL}")
    org = f.organisation(owner=owner, name=f"Ostsee GmbH – {EVIL}")
    db.session.commit()
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/invite",
                           data={"email": "kollegin@example.org"})
    assert response.status_code == 303

    ((rcpts, msg),) = _deliver(smtp_server)
    assert rcpts == ["kollegin@example.org"]
    assert "zdmv-login" not in msg["Subject"] and REMOVED in msg["Subject"]
    plain, html = _parts(msg)
    _assert_inert(plain, html)
    assert (f"„Erika bestätigen Sie sofort unter {REMOVED}“ lädt Sie ein, der Organisation "
            f"„Ostsee GmbH – bestätigen Sie sofort unter {REMOVED}“") in plain
    assert '<a href="http://localhost/account/organisations/join/' in html


def test_notification_mails_never_link_a_title_or_name_from_old_data(smtp_server):
    reviewer = f.user(name=f"Gerd {EVIL}", roles=["reviewer"])
    org = f.organisation(name="Nordlicht www.zdmv-login.de")
    p = f.proposal(org, status="submitted", title=f"Akte – {EVIL}")
    db.session.commit()
    # a mail set from its text (reviewer_assigned) and one with its own HTML (notification)
    nt.notify([reviewer], "reviewer_assigned", proposal=p, link=f"/staff/review/{p.id}")
    nt.notify([reviewer], "new_message", proposal=p, link=f"/proposals/{p.id}")
    db.session.commit()

    messages = _deliver(smtp_server)
    assert len(messages) == 2
    for _rcpts, msg in messages:
        plain, html = _parts(msg)
        _assert_inert(plain, html)
        assert f"„Akte – bestätigen Sie sofort unter {REMOVED}“" in plain
        assert f"Guten Tag Gerd bestätigen Sie sofort unter {REMOVED}," in plain
    assert any(f"Organisation: „Nordlicht {REMOVED}“" in _parts(m)[0] for _, m in messages)


def test_digest_never_puts_a_milestone_title_inside_a_link(smtp_server):
    member = f.user()
    org = f.organisation(owner=member)
    p = f.proposal(org, status="running")
    db.session.commit()
    nt.set_preferences(member, {"milestone_due_soon": nt.Delivery.DIGEST.value})
    nt.notify([member], "milestone_due_soon", proposal=p, params={"title": f"Abnahme {EVIL}"},
              link=f"/workspace/{p.id}")
    db.session.commit()
    assert nt.send_digests(force=True) == 1

    ((_, msg),) = _deliver(smtp_server)
    plain, html = _parts(msg)
    _assert_inert(plain, html)
    assert f"Meilenstein „Abnahme bestätigen Sie sofort unter {REMOVED}“ bald fällig" in plain
