"""Administration: who may enter, staff accounts, roles, deactivation."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent, Role, User
from tests import factories as f
from innolab.domain import mailer, sessions
from innolab.models import OutboxMail
from innolab.models._base import utcnow
from datetime import timedelta
from innolab.models import PendingRoleGrant
from innolab.models import ExternalIdentity
from tests.smtp import running_server

pytestmark = pytest.mark.usefixtures("app_ctx")

NON_ADMIN_ROLES = ("coordinator", "reviewer", "decider", "dpo", "iso")


@pytest.fixture
def admin(login):
    user = f.staff("admin", name="Ada Admin", email="ada@zdmv.example")
    login(user)
    return user


def _audit(action):
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


# ------------------------------------------------------------------ permission matrix

GET_PAGES = ["/admin/", "/admin/users", "/admin/users/invite", "/admin/users/{user}",
             "/admin/authorities", "/admin/authorities/{authority}", "/admin/topics",
             "/admin/topics/{topic}", "/admin/audit", "/admin/pages",
             "/admin/pages/impressum/de", "/admin/mails"]
POSTS = ["/admin/users/invite", "/admin/users/{user}", "/admin/authorities",
         "/admin/authorities/{authority}", "/admin/authorities/{authority}/delete",
         "/admin/topics", "/admin/topics/{topic}/delete", "/admin/pages/kontakt/en",
         "/admin/mails/{mail}/send-again"]


@pytest.fixture
def targets():
    return {"user": f.user().id, "authority": f.authority().id, "topic": f.topic().id,
            "mail": _failed_mail().id}


def _failed_mail(**values):
    mail = OutboxMail(**{"recipient": "weg@example.org", "subject": "Einladung", "kind": "general",
                         "body_text": "Text", "attempts": 1, "failed_at": utcnow(),
                         "message_id": mailer.new_message_id(),
                         "last_error": "SMTPRecipientsRefused: 550 Mailbox unavailable",
                         **values})
    db.session.add(mail)
    db.session.commit()
    return mail


def test_admin_pages_visitor_redirected_to_login(client, targets):
    responses = [(url, client.get(url.format(**targets))) for url in GET_PAGES]
    responses += [(url, client.post(url.format(**targets))) for url in POSTS]
    for url, response in responses:
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


@pytest.mark.parametrize("who", ["partner", "owner", *NON_ADMIN_ROLES])
def test_admin_pages_refused_for_everyone_but_admins(client, login, targets, who):
    if who == "partner":
        user = f.user()
    elif who == "owner":
        user = f.user()
        f.organisation(owner=user)
    else:
        user = f.staff(who)
    login(user)
    for url in GET_PAGES:
        assert client.get(url.format(**targets)).status_code == 403, url
    for url in POSTS:
        assert client.post(url.format(**targets), data={"name": "X", "title": "X",
                                                        "body": "X"}).status_code == 403, url
    assert len(db.session.execute(select(User)).scalars().all()) == 2
    # nothing changed; each refusal is recorded as a security event, nothing else
    events = db.session.execute(select(AuditEvent)).scalars().all()
    assert {e.action for e in events} == {"security.forbidden"}
    assert len(events) == len(GET_PAGES) + len(POSTS)


def test_admin_pages_open_for_admin(client, admin, targets):
    for url in GET_PAGES:
        response = client.get(url.format(**targets))
        assert response.status_code == 200, url
        assert response.get_data(as_text=True).count("<h1") == 1, url


def test_admin_nav_link_only_for_admins(client, login):
    login(f.staff("coordinator"))
    assert 'href="/admin/"' not in client.get("/admin/").get_data(as_text=True)
    login(f.staff("admin"))
    assert 'href="/admin/"' in client.get("/admin/").get_data(as_text=True)


def test_admin_unknown_objects_are_404(client, admin):
    for url in ("/admin/users/99999", "/admin/authorities/99999", "/admin/topics/99999",
                "/admin/pages/agb/de", "/admin/pages/impressum/fr"):
        assert client.get(url).status_code == 404, url
    assert client.post("/admin/authorities/99999/delete").status_code == 404


# ------------------------------------------------------------------ dashboard

def test_dashboard_shows_counts(client, admin):
    f.staff("reviewer")
    org = f.organisation(owner=f.user())
    f.proposal(org=org, status="submitted")
    f.proposal(org=org, status="draft")
    html = client.get("/admin/").get_data(as_text=True)
    assert "Konten insgesamt" in html
    assert "Eingereicht" in html and "2 Pilotvorschläge insgesamt" in html
    assert "E-Mails im Postausgang" in html


# ------------------------------------------------------------------ user list

def test_users_search_by_name_and_email(client, admin):
    f.user(name="Berta Beispiel", email="berta@example.org")
    f.user(name="Carl Contoso", email="carl@firma.example")
    html = client.get("/admin/users?q=beispiel").get_data(as_text=True)
    assert "Berta Beispiel" in html and "Carl Contoso" not in html
    html = client.get("/admin/users?q=FIRMA.example").get_data(as_text=True)
    assert "Carl Contoso" in html and "Berta Beispiel" not in html


def test_users_filter_staff_partners_inactive(client, admin):
    f.staff("reviewer", name="Rita Review")
    f.user(name="Paul Partner")
    f.user(name="Ina Inaktiv", active=False)
    staff = client.get("/admin/users?kind=staff").get_data(as_text=True)
    assert "Rita Review" in staff and "Paul Partner" not in staff
    assert "Begutachtung" in staff
    partners = client.get("/admin/users?kind=partners").get_data(as_text=True)
    assert "Paul Partner" in partners and "Rita Review" not in partners
    inactive = client.get("/admin/users?kind=inactive").get_data(as_text=True)
    assert "Ina Inaktiv" in inactive and "Paul Partner" not in inactive


def test_users_wildcards_and_bad_filters_do_not_break(client, admin):
    f.user(name="Berta Beispiel")
    assert "Keine Konten gefunden" in client.get("/admin/users?q=%25_%25").get_data(as_text=True)
    assert client.get("/admin/users?kind=evil&page=abc").status_code == 200


def test_users_pagination(client, admin):
    for i in range(30):
        f.user(name=f"Person {i:02d}")
    html = client.get("/admin/users").get_data(as_text=True)
    assert "Seite 1 von 2" in html
    assert "Person 29" in client.get("/admin/users?page=2").get_data(as_text=True)


def test_users_htmx_request_gets_only_the_results(client, admin):
    f.user(name="Berta Beispiel")
    html = client.get("/admin/users?q=berta",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Berta Beispiel" in html and "<h1" not in html


# ------------------------------------------------------------------ invite staff

def _link(mail):
    url = re.search(r"https?://\S+/account/staff-invitation/\S+", mail.body_text).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_invite_staff_creates_account_and_mail_link_sets_password(client, admin, outbox,
                                                                  new_client):
    response = client.post("/admin/users/invite", data={
        "email": "Neue.Kollegin@ZDMV.example", "name": "Nele Neu",
        "roles": ["reviewer", "dpo"]})
    assert response.status_code == 303
    user = db.session.execute(
        select(User).where(User.email == "neue.kollegin@zdmv.example")).scalar_one()
    assert user.password_hash is None and not user.email_confirmed
    assert user.roles == set()  # pending until the link is followed
    assert _audit("user.invite_staff")[0].actor_id == admin.id
    assert _audit("user.roles_pending")[0].details["roles"] == ["reviewer", "dpo"]
    (mail,) = outbox("neue.kollegin@zdmv.example")
    assert "Begutachtung" in mail.body_text and "Datenschutzbeauftragte/r" in mail.body_text

    invited = new_client()
    link = _link(mail)
    assert invited.get(link).status_code == 200
    response = invited.post(link, data={"password": "mein-neues-Passwort-1",
                                        "password_confirm": "mein-neues-Passwort-1"})
    assert response.status_code in (302, 303)
    db.session.refresh(user)
    assert user.password_hash and user.email_confirmed
    assert user.roles == {Role.REVIEWER, Role.DPO}
    assert {r.source for r in user.role_rows} == {"admin"}
    assert _audit("user.roles_accepted")[0].actor_id == user.id
    assert invited.get(link).status_code == 400  # used up

    fresh = new_client()
    response = fresh.post("/login", data={"email": "neue.kollegin@zdmv.example",
                                          "password": "mein-neues-Passwort-1"})
    assert response.status_code in (302, 303)
    assert fresh.get("/staff/review/").status_code == 200


def test_invite_staff_existing_account_gets_roles_only_through_the_link(client, admin, outbox,
                                                                       new_client, login):
    existing = f.user(email="paula@partner.example", name="Paula Partner")
    response = client.post("/admin/users/invite", data={
        "email": "PAULA@partner.example", "name": "Egal", "roles": ["coordinator"]})
    assert response.status_code == 303
    db.session.refresh(existing)
    assert existing.roles == set()
    assert existing.name == "Paula Partner"
    assert db.session.execute(select(User).where(User.email.ilike("paula%"))).scalars().all() \
        == [existing]
    (mail,) = outbox("paula@partner.example")
    assert "Koordination" in mail.body_text and "/password/reset/" not in mail.body_text
    link = _link(mail)

    paula = new_client()
    response = paula.get(link)
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    login(existing, paula)
    assert paula.get(link).status_code == 200
    assert paula.post(link).status_code == 303
    db.session.refresh(existing)
    assert existing.roles == {Role.COORDINATOR}


@pytest.mark.parametrize("confirmed", [False, True], ids=["unconfirmed", "confirmed"])
def test_staff_roles_cannot_be_captured_by_registering_the_address_first(
        client, admin, outbox, new_client, confirmed):
    # someone registers the address of a future coordinator, with a password they know
    attacker = new_client()
    attacker.post("/register", data={"email": "kuenftig@zdmv.example", "name": "Mallory",
                                     "password": "mallorys-Passwort-123",
                                     "password_confirm": "mallorys-Passwort-123",
                                     "consent": "y"})
    account = db.session.execute(
        select(User).where(User.email == "kuenftig@zdmv.example")).scalar_one()
    if confirmed:  # even an account that got confirmed somehow gets nothing without the link
        account.email_confirmed_at = account.created_at
        db.session.commit()
    client.post("/admin/users/invite", data={"email": "kuenftig@zdmv.example", "name": "K",
                                             "roles": ["coordinator", "admin"]})
    db.session.refresh(account)
    assert account.roles == set()
    attacker.post("/login", data={"email": "kuenftig@zdmv.example",
                                  "password": "mallorys-Passwort-123"})
    assert attacker.get("/admin/").status_code in (302, 303, 403)
    assert attacker.get("/staff/review/").status_code in (302, 303, 403, 404)
    db.session.refresh(account)
    assert account.roles == set()
    # the link went to the mailbox only
    (invitation,) = [m for m in outbox("kuenftig@zdmv.example")
                     if "/account/staff-invitation/" in m.body_text]
    assert "Koordination" in invitation.body_text


def test_staff_invitation_link_for_another_account_gives_nothing(client, admin, outbox,
                                                                 new_client, login):
    invited = f.user(email="eingeladen@zdmv.example")
    other = f.user(email="andere@example.org")
    client.post("/admin/users/invite", data={"email": invited.email, "name": "E",
                                             "roles": ["reviewer"]})
    (mail,) = outbox(invited.email)
    intruder = login(other, new_client())
    assert intruder.post(_link(mail)).status_code == 403
    db.session.refresh(other)
    db.session.refresh(invited)
    assert other.roles == set() and invited.roles == set()


def test_staff_invitation_link_invalid_or_expired(client, admin, outbox, new_client):

    assert new_client().get("/account/staff-invitation/erfunden").status_code == 400
    client.post("/admin/users/invite", data={"email": "neu@zdmv.example", "name": "N",
                                             "roles": ["reviewer"]})
    (mail,) = outbox("neu@zdmv.example")
    grant = db.session.execute(select(PendingRoleGrant)).scalar_one()
    grant.expires_at = grant.created_at - timedelta(seconds=1)
    db.session.commit()
    response = new_client().get(_link(mail))
    assert response.status_code == 400
    assert "Einladungslink ist abgelaufen" in response.get_data(as_text=True)


def test_staff_invitation_password_errors_keep_the_page(client, admin, outbox, new_client):
    client.post("/admin/users/invite", data={"email": "neu@zdmv.example", "name": "N",
                                             "roles": ["reviewer"]})
    (mail,) = outbox("neu@zdmv.example")
    response = new_client().post(_link(mail), data={"password": "kurz",
                                                    "password_confirm": "anders"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte prüfen Sie Ihre Eingaben" in html or "Zeichen lang" in html
    user = db.session.execute(select(User).where(User.email == "neu@zdmv.example")).scalar_one()
    assert user.roles == set() and user.password_hash is None


def test_invite_staff_same_roles_again_changes_nothing(client, admin, outbox):
    f.staff("reviewer", email="rita@zdmv.example")
    response = client.post("/admin/users/invite", data={
        "email": "rita@zdmv.example", "name": "Rita", "roles": ["reviewer"]}, follow_redirects=True)
    assert "hat diese Rollen bereits" in response.get_data(as_text=True)
    assert outbox() == []


def test_invite_staff_again_sends_a_new_link_when_no_password_set(client, admin, outbox):
    client.post("/admin/users/invite", data={"email": "neu@zdmv.example", "name": "Nele Neu",
                                             "roles": ["decider"]})
    client.post("/admin/users/invite", data={
        "email": "neu@zdmv.example", "name": "Nele Neu", "roles": ["decider"]})
    first, second = outbox("neu@zdmv.example")
    assert "/account/staff-invitation/" in second.body_text and "Entscheidung" in second.body_text
    assert "Passwort fest" in second.body_text


def test_invite_staff_external_login_account_gets_link_to_accept(client, admin, outbox):
    user = f.user(email="oidc@partner.example")
    user.password_hash = None
    db.session.add(ExternalIdentity(user_id=user.id, provider="github", subject="42"))
    db.session.commit()
    client.post("/admin/users/invite", data={"email": "oidc@partner.example", "name": "O",
                                             "roles": ["reviewer"]})
    (mail,) = outbox("oidc@partner.example")
    assert "/account/staff-invitation/" in mail.body_text
    assert "/password/reset/" not in mail.body_text
    db.session.refresh(user)
    assert user.roles == set()


def test_invite_staff_invalid_input_shows_errors(client, admin, outbox):
    response = client.post("/admin/users/invite", data={"email": "kein-at", "name": "",
                                                        "roles": ["superuser"]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte prüfen Sie Ihre Eingaben" in html
    assert "gültige E-Mail-Adresse" in html
    assert 'value="kein-at"' in html
    response = client.post("/admin/users/invite", data={"email": "a@b.example", "name": "A"})
    assert response.status_code == 422
    assert "mindestens eine Rolle" in response.get_data(as_text=True)
    assert outbox() == []


def test_invite_form_shows_german_role_labels(client, admin):
    html = client.get("/admin/users/invite").get_data(as_text=True)
    for label in ("Administration", "Koordination", "Begutachtung", "Entscheidung",
                  "Datenschutzbeauftragte/r", "Informationssicherheitsbeauftragte/r"):
        assert label in html


# ------------------------------------------------------------------ roles

def test_roles_give_and_take(client, admin, outbox, login, new_client):
    user = f.staff("reviewer")
    response = client.post(f"/admin/users/{user.id}", data={
        "form": "roles", "roles": ["coordinator", "decider"]})
    assert response.status_code == 303
    db.session.refresh(user)
    # taken away at once; given only through the link mailed to the account's address
    assert user.roles == set()
    (event,) = _audit("user.roles_change")
    assert event.details["removed"] == ["reviewer"]
    (pending,) = _audit("user.roles_pending")
    assert pending.details["roles"] == ["coordinator", "decider"]
    (mail,) = outbox(user.email)
    holder = login(user, new_client())
    assert holder.post(_link(mail)).status_code == 303
    db.session.refresh(user)
    assert user.roles == {Role.COORDINATOR, Role.DECIDER}


def test_roles_all_taken_makes_a_partner_account(client, admin):
    user = f.staff("reviewer")
    client.post(f"/admin/users/{user.id}", data={"form": "roles"})
    db.session.refresh(user)
    assert user.roles == set() and not user.is_staff


def test_roles_last_admin_cannot_take_own_admin_role(client, admin):
    response = client.post(f"/admin/users/{admin.id}", data={"form": "roles",
                                                             "roles": ["coordinator"]})
    assert response.status_code == 422
    assert "einzige aktive Person mit der Rolle Administration" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.roles == {Role.ADMIN}
    assert _audit("user.roles_change") == []


def test_roles_admin_may_give_up_admin_role_when_another_admin_exists(client, admin):
    f.staff("admin")
    response = client.post(f"/admin/users/{admin.id}", data={"form": "roles",
                                                             "roles": ["coordinator"]})
    assert response.status_code == 303
    db.session.refresh(admin)
    assert admin.roles == set()  # coordinator waits for the link mailed to the address
    assert client.get("/admin/").status_code == 403


def test_roles_inactive_other_admin_does_not_count(client, admin):
    f.staff("admin", active=False)
    response = client.post(f"/admin/users/{admin.id}", data={"form": "roles", "roles": []})
    assert response.status_code == 422
    assert "Sie sind die einzige aktive Person mit der Rolle Administration." in response.text
    db.session.refresh(admin)
    assert Role.ADMIN in admin.roles


def test_roles_unknown_role_refused(client, admin):
    user = f.staff("reviewer")
    response = client.post(f"/admin/users/{user.id}", data={"form": "roles", "roles": ["root"]})
    assert response.status_code == 422
    db.session.refresh(user)
    assert user.roles == {Role.REVIEWER}


def test_user_page_unknown_form_is_400(client, admin):
    user = f.user()
    assert client.post(f"/admin/users/{user.id}", data={"form": "x"}).status_code == 400
    assert client.post(f"/admin/users/{user.id}",
                       data={"form": "status", "action": "delete"}).status_code == 400


# ------------------------------------------------------------------ deactivation

def test_deactivate_ends_sessions_of_the_user(client, admin, login, new_client):
    victim = f.staff("coordinator", name="Viktor Weg")
    victim_client = login(victim, new_client())
    assert victim_client.get("/admin/").status_code == 403  # signed in, not an admin

    response = client.post(f"/admin/users/{victim.id}", data={"form": "status",
                                                              "action": "deactivate"})
    assert response.status_code == 303
    db.session.refresh(victim)
    assert victim.active is False
    response = victim_client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _audit("user.deactivate")[0].object_id == victim.id


def test_deactivated_user_cannot_sign_in(client, admin, new_client):
    victim = f.user(email="weg@example.org")
    client.post(f"/admin/users/{victim.id}", data={"form": "status", "action": "deactivate"})
    c = new_client()
    response = c.post("/login", data={"email": "weg@example.org", "password": f.PASSWORD})
    assert response.status_code == 422
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.text
    assert c.get("/account").status_code == 302  # not signed in


def test_reactivate(client, admin):
    user = f.user(active=False)
    response = client.post(f"/admin/users/{user.id}", data={"form": "status",
                                                            "action": "reactivate"})
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.active is True
    assert _audit("user.reactivate")


def test_admin_cannot_deactivate_self(client, admin):
    response = client.post(f"/admin/users/{admin.id}", data={"form": "status",
                                                             "action": "deactivate"},
                           follow_redirects=True)
    assert "eigenes Konto nicht deaktivieren" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active and len(sessions.active_sessions(admin)) == 1
    assert client.get("/account").status_code == 200


def test_user_page_shows_roles_memberships_and_history(client, admin):
    user = f.staff("dpo", name="Dora Daten")
    f.organisation(owner=user, name="Datenfirma GmbH")
    client.post(f"/admin/users/{user.id}", data={"form": "roles", "roles": ["dpo", "iso"]})
    html = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Dora Daten" in html and "Datenfirma GmbH" in html
    assert "Interessenkonflikt" in html
    assert "user.roles_pending" in html
    assert "Freigegebene Rollen, noch nicht angenommen" in html


# ------------------------------------------------------------------ mails not delivered


def test_admin_sees_failed_mail_and_sends_it_again_with_the_same_message_id(app, client, admin):
    mail = _failed_mail()
    mail_id, message_id = mail.id, mail.message_id
    page = client.get("/admin/mails").get_data(as_text=True)
    assert "weg@example.org" in page and "Einladung" in page
    assert "550 Mailbox unavailable" in page and "Erneut senden" in page
    assert "1 E-Mail(s) konnten bisher nicht zugestellt werden." in \
        client.get("/admin/").get_data(as_text=True)

    response = client.post(f"/admin/mails/{mail_id}/send-again", follow_redirects=True)
    assert "Die E-Mail an weg@example.org wird erneut gesendet." in \
        response.get_data(as_text=True)
    assert _audit("mail.send_again")[0].details["message_id"] == message_id

    server, restore = running_server(app)
    try:
        assert mailer.deliver_pending() == 1
    finally:
        restore()
    (_, msg), = server.inbox.messages
    assert msg["Message-ID"] == message_id
    db.session.expire_all()
    assert db.session.get(OutboxMail, mail_id).sent_at is not None
    assert "Keine fehlgeschlagenen E-Mails." in client.get("/admin/mails").get_data(as_text=True)


def test_admin_cannot_send_again_a_mail_that_did_not_fail(client, admin):
    mail = _failed_mail(failed_at=None, attempts=0)
    response = client.post(f"/admin/mails/{mail.id}/send-again", follow_redirects=True)
    assert "Diese E-Mail ist nicht fehlgeschlagen" in response.get_data(as_text=True)
    assert _audit("mail.send_again") == []
    db.session.expire_all()
    assert db.session.get(OutboxMail, mail.id).attempts == 0


def test_users_search_announces_its_count_outside_the_part_it_replaces(client, admin):
    f.user(name="Berta Beispiel", email="berta@example.org")
    full = client.get("/admin/users").get_data(as_text=True)
    assert 'id="user-count" role="status" aria-live="polite"' in full
    assert '<div id="user-results">' in full
    part = client.get("/admin/users?q=beispiel", headers={"HX-Request": "true"}).get_data(
        as_text=True)
    assert '<span id="user-count" hx-swap-oob="innerHTML">1 Konto gefunden</span>' in part
    assert 'id="user-results"' in part and "aria-live" not in part
