"""Deleting one's account: what docs/privacy.md lists is gone or anonymised, the records of
administrative procedures are kept under a pseudonym, and the refusals say what to do first."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import String, cast, func, select

from innolab.domain import DomainError, admin, mail_limits, mfa, privacy, throttle, uploads
from innolab.extensions import db
from innolab.models import (
    Attachment, AuditEvent, DataExport, EditSnapshot, ExternalIdentity, FormReceipt, Invitation,
    MailSend, Membership, MemberRole, Message, Notification, NotificationPreference,
    Organisation, OutboxMail, PendingRoleGrant, Proposal, ProposalVersion, SignInThrottle,
    TimelineEntry, User,
)
from innolab.models._base import utcnow
from tests import factories as f
from tests.integration.auth_support import link_in, page_text, sign_in
from tests.integration.privacy_support import PDF, PERSON_EMAIL, attachment, world
from tests.smtp import running_server


@pytest.fixture
def smtp(app):
    server, restore = running_server(app)
    yield server
    restore()


def _signed_in(client, email=PERSON_EMAIL):
    response = sign_in(client, email, f.PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def _delete(client, password=f.PASSWORD, understood=True):
    data = {"method": "password", "password": password}
    if understood:
        data["understood"] = "y"
    return client.post("/account/delete", data=data)


def _user(user_id) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _sole_organisation(person):
    """An organisation only Petra belongs to: a draft and a submitted proposal (no decision,
    with files) and an approved one (the record), an open invitation."""
    org = f.organisation(owner=person, name="Einzelfirma Petra")
    draft = f.proposal(org=org, status="draft", title="Entwurf")
    draft_file = attachment(draft, person, "entwurf.pdf", PDF + b"draft")
    submitted = f.proposal(org=org, status="submitted", title="Eingereicht")
    submitted_file = attachment(submitted, person, "eingereicht.pdf", PDF + b"sub")
    decided = f.proposal(org=org, status="approved", title="Bewilligt",
                         contact_name="Petra Privat", contact_email=PERSON_EMAIL)
    decided.decided_at = utcnow()
    db.session.add(ProposalVersion(proposal=decided, number=1, created_by_id=person.id,
                                   content=decided.snapshot()))
    db.session.add(TimelineEntry(proposal=decided, actor_id=person.id, action="submit",
                                 from_status="draft", to_status="submitted"))
    db.session.commit()
    kept_file = attachment(decided, person, "akte.pdf", PDF + b"record")
    db.session.add(Invitation(organisation=org, email="kandidat@example.org",
                              token_hash="f" * 64, invited_by_id=person.id,
                              expires_at=utcnow()))
    db.session.add(Notification(user_id=f.staff("coordinator").id, kind="submission_received",
                                proposal_id=submitted.id))
    db.session.commit()
    return {"org": org.id, "draft": draft.id, "submitted": submitted.id, "decided": decided.id,
            "files": {"draft": draft_file.stored_name, "submitted": submitted_file.stored_name,
                      "kept": kept_file.stored_name}}


def _hand_over_first(w):
    """Make Otto a second owner, so Petra's own organisation does not block."""
    m = db.session.execute(select(Membership).where(
        Membership.user_id == w.ids["colleague"])).scalar_one()
    m.role = MemberRole.OWNER.value
    db.session.commit()


# ---------------------------------------------------------------- the page


def test_delete_page_explains_what_is_deleted_and_kept(client, app_ctx):
    w = world(app_ctx)
    _hand_over_first(w)
    _sole_organisation(w.person)
    _signed_in(client)
    text = page_text(client.get("/account/delete"))
    for part in ("Was sofort gelöscht wird", "Was aufbewahrt wird und warum",
                 "Gelöschtes Konto", "Einzelfirma Petra", "Nordlicht Daten GmbH",
                 "2 Pilotvorschläge werden gelöscht.",
                 "1 Pilotvorschlag mit Entscheidung wird aufbewahrt.",
                 "Ihr aktuelles Passwort", "Konto endgültig löschen"):
        assert part in text, part


# ---------------------------------------------------------------- deleting


def test_deletion_removes_or_anonymises_everything_and_keeps_the_record(
        app, client, app_ctx, smtp):
    w = world(app_ctx)
    _hand_over_first(w)
    sole = _sole_organisation(w.person)
    uid, colleague_id = w.ids["person"], w.ids["colleague"]
    _signed_in(client)
    client.post("/account/data-export")  # a ready export: its file goes too
    export_file = privacy.export_path(db.session.execute(select(DataExport)).scalar_one())
    throttle.failed(PERSON_EMAIL)
    mail_limits.allow(PERSON_EMAIL, "reset")
    db.session.commit()
    assert export_file.exists()

    response = _delete(client)
    assert response.status_code == 303 and response.location == "/"
    assert "Ihr Konto ist gelöscht" in page_text(client.get("/"))
    # the session ended
    assert client.get("/account").status_code == 302

    user = _user(uid)
    assert re.fullmatch(r"[0-9a-f]{6}", user.pseudonym)
    assert user.name == f"Gelöschtes Konto ({user.pseudonym})"
    assert user.email == f"deleted-{user.pseudonym}@invalid"
    assert user.password_hash is None and not user.active and user.deleted_at is not None
    assert user.email_confirmed_at is None and user.last_login_at is None
    assert user.locale == "de"

    def count(model, *where):
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()

    for model, column in ((ExternalIdentity, ExternalIdentity.user_id),
                          (Membership, Membership.user_id),
                          (Notification, Notification.user_id),
                          (NotificationPreference, NotificationPreference.user_id),
                          (PendingRoleGrant, PendingRoleGrant.user_id),
                          (FormReceipt, FormReceipt.user_id),
                          (DataExport, DataExport.user_id)):
        assert count(model, column == uid) == 0, model.__name__
    assert count(Invitation, func.lower(Invitation.email) == PERSON_EMAIL) == 0
    assert count(SignInThrottle, SignInThrottle.key == privacy._throttle_key(PERSON_EMAIL)) == 0
    assert count(MailSend, MailSend.recipient_hash == privacy._mail_hash(PERSON_EMAIL)) == 0
    assert not export_file.exists()
    # the others keep theirs
    assert count(ExternalIdentity, ExternalIdentity.user_id == colleague_id) == 1
    assert count(Notification, Notification.user_id == colleague_id) >= 1
    assert count(SignInThrottle) == 1

    # Without a decision: deleted, with their files. With one: kept, contact data removed.
    assert db.session.get(Proposal, sole["draft"]) is None
    assert db.session.get(Proposal, sole["submitted"]) is None
    assert count(Notification, Notification.proposal_id == sole["submitted"]) == 0
    assert count(EditSnapshot, EditSnapshot.kind == "proposals",
                 EditSnapshot.record_id == sole["draft"]) == 0
    folder = uploads.folder()
    assert not (folder / sole["files"]["draft"]).exists()
    assert not (folder / sole["files"]["submitted"]).exists()
    assert (folder / sole["files"]["kept"]).exists()
    kept = db.session.get(Proposal, sole["decided"])
    assert kept is not None and kept.created_by_id == uid
    assert kept.contact_email is None and kept.contact_phone is None
    assert kept.contact_name == user.name
    assert kept.versions[0].content["contact_email"] is None
    org = db.session.get(Organisation, sole["org"])
    assert org is not None and org.memberships == [] and org.invitations == []
    # Petra's pilot in the organisation that goes on stays there, her contact data goes
    own = db.session.get(Proposal, w.ids["own"])
    assert own.contact_email is None and own.contact_name == user.name
    assert db.session.get(Proposal, w.ids["colleagues"]) is not None
    assert count(Message, Message.author_id == uid) == 1  # part of the pilot's record
    assert count(Attachment, Attachment.uploaded_by_id == uid) == 2  # in kept proposals

    # Audit log: kept, without her address or IP; the deletion itself with counts only.
    text = " ".join(str(d) for d in db.session.execute(
        select(cast(AuditEvent.details, String))).scalars())
    assert PERSON_EMAIL not in text.lower()
    assert all(e.ip is None for e in db.session.execute(
        select(AuditEvent).where(AuditEvent.actor_id == uid)).scalars())
    (event,) = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "account.delete")).scalars()
    assert event.actor_id == uid and event.details["method"] == "password"
    assert event.details["proposals_deleted"] == 2 and event.details["proposals_kept"] == 1
    assert all(isinstance(v, int) for k, v in event.details.items() if k != "method")

    # Mail: only the confirmation is left for the old address; it goes out, then it is gone.
    (mail,) = db.session.execute(select(OutboxMail).where(
        func.lower(OutboxMail.recipient) == PERSON_EMAIL)).scalars()
    assert mail.kind == "account_deleted"
    pseudonym = user.pseudonym
    result = app.test_cli_runner().invoke(args=["innolab", "worker", "--once"])
    assert result.exit_code == 0, result.output
    (msg,) = [m for to, m in smtp.inbox.messages if to == [PERSON_EMAIL]]
    assert msg["Subject"] == "Ihr Konto beim InnoLab wurde gelöscht"
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Guten Tag Petra Privat," in body and f"Gelöschtes Konto ({pseudonym})" in body
    assert db.session.execute(select(OutboxMail).where(
        func.lower(OutboxMail.recipient) == PERSON_EMAIL)).first() is None


def test_kept_record_shows_the_pseudonym(client, new_client, app_ctx):
    w = world(app_ctx)
    _hand_over_first(w)
    sole = _sole_organisation(w.person)
    coordinator_email = w.coordinator.email
    _signed_in(client)
    _delete(client)
    user = _user(w.ids["person"])
    staff = new_client()
    _signed_in(staff, coordinator_email)
    page = staff.get(f"/staff/review/proposals/{sole['decided']}")
    assert page.status_code == 200
    assert f"Gelöschtes Konto ({user.pseudonym})" in page_text(page)
    assert "Petra Privat" not in page_text(page)


def test_deleted_address_can_register_again(client, app_ctx, outbox):
    person = f.user(email=PERSON_EMAIL, name="Petra Privat")
    uid = person.id
    _signed_in(client)
    _delete(client)
    response = client.post("/register", data={
        "email": PERSON_EMAIL, "name": "Petra Neu", "password": "ein-ganz-neues-Passwort-7",
        "password_confirm": "ein-ganz-neues-Passwort-7", "consent": "y"})
    assert response.status_code == 200
    new = db.session.execute(select(User).where(User.email == PERSON_EMAIL)).scalar_one()
    assert new.id != uid and new.name == "Petra Neu"
    assert [m.kind for m in outbox(PERSON_EMAIL)] == ["account_deleted", "account"]


# ---------------------------------------------------------------- refusals


def test_last_owner_with_other_members_is_refused_with_a_link_to_hand_over(client, app_ctx):
    w = world(app_ctx)  # Petra is the only owner of Nordlicht, Otto a member
    uid, org_id = w.ids["person"], w.ids["org"]
    _signed_in(client)
    page = client.get("/account/delete")
    text = page_text(page)
    assert "Ihr Konto kann noch nicht gelöscht werden" in text
    assert "Nordlicht Daten GmbH" in text
    assert f'href="/account/organisations/{org_id}/transfer"' in page.get_data(as_text=True)
    assert "Konto endgültig löschen" not in text

    response = _delete(client)
    assert response.status_code == 303 and response.location == "/account/delete"
    assert "Übergeben Sie die Eigentümerschaft" in page_text(client.get("/account/delete"))
    user = _user(uid)
    assert user.deleted_at is None and user.email == PERSON_EMAIL and user.active
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "account.delete")).first() is None


def test_wrong_password_is_refused_and_the_form_keeps_its_state(client, app_ctx):
    person = f.user(email=PERSON_EMAIL)
    uid = person.id
    _signed_in(client)
    response = _delete(client, password="falsch-falsch-falsch")
    assert response.status_code == 422
    html, text = response.get_data(as_text=True), page_text(response)
    assert "Das Passwort ist nicht richtig." in text
    assert 'href="#password"' in html  # the error summary links to the field
    assert re.search(r'<input[^>]*checked[^>]*id="understood"|<input[^>]*id="understood"'
                     r'[^>]*checked', html)
    assert 'value="falsch-falsch-falsch"' not in html
    assert _user(uid).deleted_at is None
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "security.account_delete_confirm_failed")).first() is not None


def test_deletion_needs_the_checkbox(client, app_ctx):
    person = f.user(email=PERSON_EMAIL)
    _signed_in(client)
    response = _delete(client, understood=False)
    assert response.status_code == 422
    assert "Bitte bestätigen Sie, dass Sie Ihr Konto endgültig löschen möchten." in \
        page_text(response)
    assert _user(person.id).deleted_at is None


def test_staff_must_ask_the_administration(client, app_ctx):
    staff = f.staff("reviewer", email="rita@zdmv.example")
    _signed_in(client, "rita@zdmv.example")
    assert "Bitte wenden Sie sich an die Administration" in page_text(client.get("/account/delete"))
    response = client.post("/account/delete", data={"method": "password", "understood": "y",
                                                     "password": f.PASSWORD})
    assert response.status_code == 303
    assert _user(staff.id).deleted_at is None


def test_deletion_needs_sign_in(client, app_ctx):
    assert client.get("/account/delete").status_code == 302
    assert client.post("/account/delete").status_code == 302


# ---------------------------------------------------------------- accounts without a password


def test_account_without_password_confirms_by_mailed_link(client, new_client, login, app_ctx,
                                                          outbox):
    person = f.user(email=PERSON_EMAIL, name="Petra Privat")
    person.password_hash = None
    db.session.commit()
    uid = person.id
    login(person)
    page = client.get("/account/delete")
    assert "Bestätigungslink senden" in page_text(page)
    assert 'name="password"' not in page.get_data(as_text=True)
    # a password typed anyway is no way in for such an account
    assert client.post("/account/delete", data={"method": "password", "password": "x",
                                                "understood": "y"}).status_code == 422

    response = client.post("/account/delete/link")
    assert response.status_code == 303
    (mail,) = outbox(PERSON_EMAIL)
    link = link_in(mail, "/account/delete/confirm/")

    # someone else signed in with the link: not theirs
    other = login(f.user(), new_client())
    assert other.get(link).status_code == 400
    assert client.get("/account/delete/confirm/ungueltig").status_code == 400

    page = client.get(link)
    assert page.status_code == 200 and "Konto endgültig löschen" in page_text(page)
    assert _user(uid).deleted_at is None  # opening the link deletes nothing
    assert client.post(link, data={}).status_code == 422
    response = client.post(link, data={"understood": "y"})
    assert response.status_code == 303 and response.location == "/"
    user = _user(uid)
    assert user.deleted_at is not None and user.email.endswith("@invalid")
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "account.delete")).scalar_one()
    assert event.details["method"] == "mail_link"
    # the link is used up
    assert client.get(link).status_code == 302  # signed out now


def test_deleted_account_cannot_be_reactivated_by_an_admin(client, app_ctx):
    person = f.user(email=PERSON_EMAIL)
    admin_user = f.staff("admin")
    _signed_in(client)
    _delete(client)
    with pytest.raises(DomainError):
        admin.reactivate(db.session.get(User, admin_user.id), _user(person.id))


def test_deletion_ends_the_sessions_on_every_device(client, new_client, login, app_ctx):
    person = f.user(email=PERSON_EMAIL)
    phone = login(person, new_client())
    assert phone.get("/account").status_code == 200
    _signed_in(client)
    _delete(client)
    assert phone.get("/account").status_code == 302
    assert phone.get("/account/data-export").status_code == 302


def test_deletion_sent_twice_deletes_once(client, app_ctx):
    person = f.user(email=PERSON_EMAIL)
    _signed_in(client)
    first = client.get("/account/delete")
    token = re.search(r'name="_once" value="([^"]+)"', first.get_data(as_text=True)).group(1)
    data = {"method": "password", "password": f.PASSWORD, "understood": "y", "_once": token}
    assert client.post("/account/delete", data=data).status_code == 303
    assert client.post("/account/delete", data=data).status_code == 302  # signed out: to login
    assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "account.delete")).scalar() == 1
    assert _user(person.id).deleted_at is not None


def test_a_person_with_a_second_factor_may_confirm_with_a_code(app_ctx, login):
    person = f.user(email="zweifaktor@example.org")
    person_id = person.id
    secret = pyotp.random_base32()
    earlier = time.time() - 60  # set up a minute ago: the code of now is still unused
    mfa.add_totp(person, "Diensthandy", secret, pyotp.TOTP(secret).at(earlier), now=earlier)
    db.session.commit()
    c = login(person)
    page = c.get("/account/delete").get_data(as_text=True)
    assert "Mit Ihrem zweiten Faktor" in page and 'name="code"' in page

    wrong = c.post("/account/delete", data={"method": "second_factor", "code": "abcdef12",
                                            "understood": "y"})
    assert wrong.status_code == 422, wrong.location
    assert "Der Code ist nicht richtig." in page_text(wrong)
    assert _user(person_id).deleted_at is None

    right = c.post("/account/delete", data={"method": "second_factor", "understood": "y",
                                            "code": pyotp.TOTP(secret).now()})
    assert right.status_code == 303
    assert _user(person_id).deleted_at is not None
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "account.delete")).scalar_one()
    assert event.details["method"] == "second_factor"
