"""Datenauskunft: a person downloads all their data as a ZIP – at once for a small account, from
the worker (announced by notification and mail) for a large one – and nothing of anyone else."""
from __future__ import annotations

import io
import json
import os
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from innolab.domain import privacy, throttle
from innolab.extensions import db
from innolab.models import AuditEvent, DataExport, Notification, OutboxMail, User
from innolab.models._base import utcnow
from tests import factories as f
from tests.integration.auth_support import page_text, sign_in
from tests.integration.privacy_support import (
    OTHER_MARKERS, PERSON_EMAIL, PERSON_MARKERS, world,
)
from tests.smtp import running_server

# Every kind of personal data the world gives Petra, as the section of daten.json that holds it.
SECTIONS = (
    "account", "sign_in_identities", "pending_role_grants", "organisations",
    "invitations_received", "invitations_sent", "proposals_authored", "edits",
    "attachments_uploaded", "messages", "documents", "pilot_goals", "milestones", "consents",
    "notifications", "notification_preferences", "audit_events", "sign_in_throttle",
    "mail_limit_counts", "mails", "form_receipts", "data_exports",
)


@pytest.fixture
def smtp(app):
    server, restore = running_server(app)
    yield server
    restore()


@pytest.fixture
def background(app):
    """Every export is made by the worker."""
    old = app.config["DATA_EXPORT_INLINE_MAX_BYTES"]
    app.config["DATA_EXPORT_INLINE_MAX_BYTES"] = 0
    yield
    app.config["DATA_EXPORT_INLINE_MAX_BYTES"] = old


def _signed_in(client, email=PERSON_EMAIL):
    """A real sign-in (a fresh proof of identity, which the download needs)."""
    response = sign_in(client, email, f.PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    throttle.failed(email)  # signing in cleared the account's counter: one failure since
    db.session.commit()
    return client


def _only_export():
    return db.session.execute(select(DataExport)).scalar_one()


def _download(client, export_id):
    response = client.get(f"/account/data-export/{export_id}/download")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def _check_zip(zf: zipfile.ZipFile, w) -> dict:
    """Every kind of Petra's data is there; nothing of the others is, in any file of the ZIP."""
    names = zf.namelist()
    assert {"README.txt", "daten.json"} <= set(names)
    data = json.loads(zf.read("daten.json"))
    for section in SECTIONS:
        assert data[section], f"{section} is empty"
    everything = "\n".join(zf.read(n).decode("utf-8", "replace") for n in names)
    for marker in OTHER_MARKERS:
        assert marker.lower() not in everything.lower(), f"{marker} leaked into the export"
    for marker, section in PERSON_MARKERS.items():
        assert marker in json.dumps(data[section], ensure_ascii=False), (marker, section)

    assert data["account"]["email"] == PERSON_EMAIL and data["account"]["name"] == "Petra Privat"
    (own,) = data["proposals_authored"]
    assert own["content"]["problem"].startswith("PETRA-PROBLEM")
    assert own["versions"][0]["content"]["solution"] == "PETRA-VERSION"
    assert own["results_report"]["summary"] == "PETRA-REPORT"
    # staff are the team, another member is "a member", their texts stay out
    assert {e["by"] for e in own["timeline"]} == {"InnoLab-Team", "Mitglied der Organisation"}
    assert [e["message"] for e in own["timeline"]] == ["Bewilligt.", None]
    # the edit of Otto's draft: only the field Petra changed
    (edit,) = [e for e in data["edits"] if e["record_id"] == w.ids["colleagues"]]
    assert edit["fields_you_changed"] == {"benefit": "PETRA-EDIT: schneller"}
    # invitations: the address Petra invited is not hers to get back
    assert data["invitations_received"][0]["email"] == PERSON_EMAIL
    assert "email" not in data["invitations_sent"][0]
    # audit events: about her account by staff, her own with IP, others' addresses removed
    by_staff = next(e for e in data["audit_events"] if e["action"] == "user.roles_change")
    assert by_staff["by"] == "InnoLab-Team" and by_staff["details"]["by"] == "…"
    assert by_staff["details"]["email"] == PERSON_EMAIL
    assert any(e["action"] == "security.login_failed" for e in data["audit_events"])
    assert data["consents"][0] == {"consent": "proposal_publication", "given": True,
                                   "proposal": {"id": w.ids["own"],
                                                "reference": w.ids["own_reference"],
                                                "title": "Petras Pilot"}}

    # the files: her uploads and the non-internal attachments of her proposal
    files = {n: zf.read(n) for n in names if n.startswith("dateien/")}
    contents = b"".join(files.values())
    assert b"PETRA-FILE" in contents and b"PETRA-DOC" in contents
    assert b"attachment of the pilot" in contents  # Otto's upload to Petra's proposal
    assert b"KLARA-INTERN" not in contents and b"OTTO-FILE" not in contents
    assert len(files) == 3
    attachment_files = {a["file"] for a in own["attachments"]}
    assert attachment_files <= set(names)

    readme = zf.read("README.txt").decode()
    assert "== Deutsch ==" in readme and "== English ==" in readme
    assert "Datenauskunft des InnoLab" in readme and "daten.json" in readme
    return data


# ---------------------------------------------------------------- at once (small account)


def test_small_account_gets_its_export_at_once_with_every_kind_and_nothing_of_others(
        client, app_ctx, outbox, storage_backend):
    # the files are read from the storage the app is set to: the upload folder or a bucket
    w = world(app_ctx)
    _signed_in(client)
    response = client.post("/account/data-export")
    assert response.status_code == 303 and response.location == "/account/data-export"
    page = client.get("/account/data-export")
    assert "Ihre Datenauskunft ist fertig" in page_text(page)
    export = _only_export()
    assert export.status == "ready" and export.stored_name and export.size
    assert export.expires_at - export.ready_at == timedelta(days=7)
    assert f"/account/data-export/{export.id}/download" in page.get_data(as_text=True)

    data = _check_zip(_download(client, export.id), w)
    assert data["data_exports"][0]["status"] == "requested"  # itself, while being made
    # no notification needed: the person has it in front of them
    assert db.session.execute(select(Notification).where(
        Notification.kind == privacy.EXPORT_KIND)).first() is None
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"privacy.export", "privacy.export_download"} <= actions


def test_account_page_links_to_download_and_deletion(client, app_ctx, login):
    login(f.user())
    response = client.get("/account")
    text, html = page_text(response), response.get_data(as_text=True)
    assert "Ihre Daten" in text
    assert 'href="/account/data-export"' in html and 'href="/account/delete"' in html


def test_export_pages_need_sign_in(client, app_ctx):
    for response in (client.get("/account/data-export"), client.post("/account/data-export"),
                     client.get("/account/data-export/1/download")):
        assert response.status_code == 302 and response.location.startswith("/login")


# ---------------------------------------------------------------- by the worker


def test_large_account_gets_its_export_from_the_worker_with_notification_and_mail(
        app, client, app_ctx, smtp, background):
    w = world(app_ctx)
    _signed_in(client)
    client.post("/account/data-export")
    page = page_text(client.get("/account/data-export"))
    assert "Wir stellen Ihre Daten zusammen" in page and "wird vorbereitet" in page
    assert _only_export().status == "requested"
    # asking again while it waits makes no second one
    client.post("/account/data-export")
    assert db.session.query(DataExport).count() == 1

    result = app.test_cli_runner().invoke(args=["innolab", "worker", "--once"])
    assert result.exit_code == 0, result.output

    export = _only_export()
    assert export.status == "ready" and export.expires_at > utcnow()
    (note,) = db.session.execute(select(Notification).where(
        Notification.kind == privacy.EXPORT_KIND)).scalars()
    assert note.user_id == w.ids["person"] and note.link == "/account/data-export"
    mails = [(to, msg) for to, msg in smtp.inbox.messages if to == [PERSON_EMAIL]
             and msg["Subject"] == "Ihre Datenauskunft steht bereit"]
    assert len(mails) == 1
    body = mails[0][1].get_body(preferencelist=("plain",)).get_content()
    assert "/account/data-export" in body and "herunterladen" in body
    _check_zip(_download(client, export.id), w)

    # a second pass builds nothing again
    app.test_cli_runner().invoke(args=["innolab", "worker", "--once"])
    assert db.session.query(Notification).filter_by(kind=privacy.EXPORT_KIND).count() == 1


def test_export_that_fails_is_marked_failed_and_can_be_asked_for_again(
        app, client, app_ctx, background, monkeypatch):
    world(app_ctx)
    _signed_in(client)
    client.post("/account/data-export")

    def broken(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(privacy, "collect", broken)
    app.test_cli_runner().invoke(args=["innolab", "worker", "--once"])
    export = _only_export()
    assert export.status == "failed" and "disk gone" in export.error
    assert "Fehlgeschlagen" in page_text(client.get("/account/data-export"))
    monkeypatch.undo()
    client.post("/account/data-export")
    assert db.session.query(DataExport).count() == 2


# ---------------------------------------------------------------- who may download, and how long


def test_someone_elses_export_is_not_found(client, new_client, app_ctx):
    w = world(app_ctx)
    _signed_in(client)
    client.post("/account/data-export")
    export = _only_export()
    other = _signed_in(new_client(), w.ids["colleague_email"])
    assert other.get(f"/account/data-export/{export.id}/download").status_code == 404
    assert "/download" not in other.get("/account/data-export").get_data(as_text=True)
    assert other.get("/account/data-export/999999/download").status_code == 404


def test_expired_export_is_refused_and_deleted_by_the_worker(app, client, app_ctx):
    world(app_ctx)
    _signed_in(client)
    client.post("/account/data-export")
    export = _only_export()
    path = privacy.export_path(export)
    assert path.exists()
    export.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    response = client.get(f"/account/data-export/{export.id}/download")
    assert response.status_code == 410
    assert "Diese Datenauskunft ist abgelaufen" in page_text(response)

    app.test_cli_runner().invoke(args=["innolab", "worker", "--once"])
    export = _only_export()
    assert export.status == "expired" and export.stored_name is None
    assert not path.exists()
    assert client.get(f"/account/data-export/{export.id}/download").status_code == 410
    assert "Abgelaufen und gelöscht" in page_text(client.get("/account/data-export"))


def test_worker_removes_files_without_a_row(app, app_ctx):
    folder = privacy.export_folder()
    stray = folder / "0123456789abcdef.zip"
    stray.write_bytes(b"PK")
    old = (utcnow() - timedelta(hours=2)).timestamp()
    os.utime(stray, (old, old))
    privacy.run()
    assert not stray.exists()


def test_scrub_keeps_own_address_and_removes_others():
    details = {"email": "Petra.Privat@example.org", "by": "x@y.example",
               "list": ["a <otto@example.org>"], "n": 3}
    assert privacy.scrub(details, PERSON_EMAIL) == {
        "email": "Petra.Privat@example.org", "by": "…", "list": ["a <…>"], "n": 3}


def test_export_of_staff_contains_their_reviews(app_ctx):
    reviewer = f.staff("reviewer", name="Rita Review")
    p = f.proposal(status="in_review")
    officer = f.staff("iso")
    f.ready_for_decision(p, reviewer, officer)
    data, _files = privacy.collect(db.session.get(User, reviewer.id))
    assert data["reviews"][0]["comment"] == "Solide Idee."
    assert data["staff_roles"][0]["role"] == "reviewer"
    assert data["review_assignments"] and not data["checks"]


def test_export_outbox_rows_list_only_mail_to_the_person(app_ctx):
    w = world(app_ctx)
    data, _files = privacy.collect(w.person)
    recipients = {m.recipient for m in db.session.query(OutboxMail)}
    assert "otto.anders@example.org" in recipients
    assert data["mails"] and all("OTTO" not in m["subject"] for m in data["mails"])
    assert re.search(r"Pilot .* hat begonnen", json.dumps(data["notifications"],
                                                          ensure_ascii=False))
