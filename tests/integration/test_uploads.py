"""Attachments: checked by content and size, stored under random names, served to the allowed."""
from __future__ import annotations

from innolab.models._base import utcnow
import io
import os
import zipfile

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from innolab.domain import uploads
from innolab.extensions import db
from innolab.models import Attachment, AuditEvent, ReviewAssignment, Role
from tests import factories as f

# ---------------------------------------------------------------- sample files

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG_BYTES = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
             b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
             b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG_BYTES = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
              + b"\x00" * 64 + b"\xff\xd9")


def _ooxml(kind: str) -> bytes:
    main = {"docx": ("word/document.xml", "wordprocessingml.document"),
            "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet")}[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/' + main[0] + '" ContentType="application/'
            'vnd.openxmlformats-officedocument.' + main[1] + '.main+xml"/></Types>'))
        zf.writestr("_rels/.rels", "<Relationships/>")
        zf.writestr(main[0], "<document/>")
    return buf.getvalue()


def _odt() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                    compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", "<office:document-content/>")
        zf.writestr("META-INF/manifest.xml", "<manifest/>")
    return buf.getvalue()


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("liesmich.txt", "nur ein Archiv")
    return buf.getvalue()


GOOD = [
    ("konzept.pdf", PDF_BYTES, "application/pdf"),
    ("skizze.png", PNG_BYTES, "image/png"),
    ("foto.jpg", JPEG_BYTES, "image/jpeg"),
    ("foto.JPEG", JPEG_BYTES, "image/jpeg"),
    ("beschreibung.docx", _ooxml("docx"), uploads.DOCX),
    ("kostenplan.xlsx", _ooxml("xlsx"), uploads.XLSX),
    ("konzept.odt", _odt(), uploads.ODT),
]

BAD = [
    ("text.pdf", b"Das ist nur Text, kein PDF.", "keine gültige PDF-Datei"),
    ("html.png", b"<html><script>alert(1)</script></html>", "keine gültige PNG-Datei"),
    ("tabelle.docx", _ooxml("xlsx"), "passt nicht zur Dateiendung „.docx“"),
    ("text.xlsx", _ooxml("docx"), "passt nicht zur Dateiendung „.xlsx“"),
    ("brief.odt", _ooxml("docx"), "passt nicht zur Dateiendung „.odt“"),
    ("brief.docx", _odt(), "passt nicht zur Dateiendung „.docx“"),
    ("archiv.docx", _plain_zip(), "keine gültige DOCX-Datei"),
    ("kaputt.docx", b"PK\x03\x04kaputt", "keine gültige DOCX-Datei"),
    ("bild.pdf", PNG_BYTES, "passt nicht zur Dateiendung „.pdf“"),
    ("programm.exe", b"MZ\x90\x00", "nicht erlaubt"),
    ("notizen.txt", b"Hallo", "nicht erlaubt"),
    ("ohne-endung", PDF_BYTES, "nicht erlaubt"),
    ("leer.pdf", b"", "leer"),
]


def _count(model=Attachment) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _files(app) -> list[str]:
    return sorted(os.listdir(app.config["UPLOAD_FOLDER"]))


@pytest.fixture
def member(app_ctx, login):
    u = f.user(name="Erika Partnerin")
    org = f.organisation(owner=u)
    login(u)
    return u, org


def _upload(client, p, name, data, headers=None, **extra):
    form = {"file": (io.BytesIO(data), name), **extra}
    return client.post(f"/proposals/{p.id}/attachments", data=form,
                       content_type="multipart/form-data", headers=headers or {})


# ---------------------------------------------------------------- the checks themselves


@pytest.mark.parametrize("name,data,mime", GOOD, ids=[g[0] for g in GOOD])
def test_check_accepts_allowed_types_by_content(app_ctx, name, data, mime):
    checked = uploads.check(FileStorage(io.BytesIO(data), filename=name))
    assert checked.content_type == mime and checked.data == data


@pytest.mark.parametrize("name,data,reason", BAD, ids=[b[0] for b in BAD])
def test_check_refuses_by_content_and_extension(app_ctx, name, data, reason):
    with pytest.raises(uploads.UploadRefused) as exc:
        uploads.check(FileStorage(io.BytesIO(data), filename=name))
    assert reason in str(exc.value.reason)


def test_check_refuses_a_file_over_the_limit(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "UPLOAD_MAX_BYTES", 1024 * 1024)
    data = PDF_BYTES + b"0" * (1024 * 1024)
    with pytest.raises(uploads.UploadRefused) as exc:
        uploads.check(FileStorage(io.BytesIO(data), filename="gross.pdf"))
    assert "größer als 1 MB" in str(exc.value.reason)


def test_check_refuses_a_missing_file(app_ctx):
    with pytest.raises(uploads.UploadRefused) as exc:
        uploads.check(FileStorage(io.BytesIO(b""), filename=""))
    assert "Bitte wählen Sie eine Datei aus" in str(exc.value.reason)


@pytest.mark.parametrize("given,shown", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\erika\\Konzept Äpfel.pdf", "Konzept Äpfel.pdf"),
    ("bad\x00name\n.pdf", "badname.pdf"),
    ('a<b>"c".pdf', "a_b__c_.pdf"),
    ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
])
def test_clean_filename(given, shown):
    assert uploads.clean_filename(given) == shown


# ---------------------------------------------------------------- upload through the page


def test_upload_stores_under_a_random_name_outside_static(app, client, member, storage_backend):
    user, org = member
    p = f.proposal(org)
    resp = _upload(client, p, "../Konzept für Bauämter.pdf", PDF_BYTES)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(
        f"/proposals/{p.id}#attachments")
    a = db.session.execute(select(Attachment)).scalar_one()
    assert a.filename == "Konzept für Bauämter.pdf" and a.content_type == "application/pdf"
    assert a.size == len(PDF_BYTES) and not a.internal and a.uploaded_by_id == user.id
    assert len(a.stored_name) == 32 and int(a.stored_name, 16) >= 0
    assert storage_backend.all() == [a.stored_name]
    assert storage_backend.read(a.stored_name) == PDF_BYTES
    assert "static" not in os.path.abspath(app.config["UPLOAD_FOLDER"]).split(os.sep)
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "attachment.upload")).scalar_one().object_id == a.id
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Konzept für Bauämter.pdf" in html and "wurde hochgeladen" in html


@pytest.mark.parametrize("name,data,reason", BAD[:4], ids=[b[0] for b in BAD[:4]])
def test_bad_upload_shows_the_reason_and_stores_nothing(app, client, member, name, data, reason):
    _, org = member
    p = f.proposal(org)
    before = _files(app)
    resp = _upload(client, p, name, data)
    assert resp.status_code == 422 and reason in resp.get_data(as_text=True)
    assert _count() == 0 and _files(app) == before


def test_upload_too_big_for_the_limit(app, client, member, monkeypatch):
    _, org = member
    p = f.proposal(org)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 2048)
    resp = _upload(client, p, "gross.pdf", PDF_BYTES + b"0" * 4096)
    assert resp.status_code == 422 and "größer als" in resp.get_data(as_text=True)
    assert _count() == 0


def test_upload_larger_than_the_request_limit_gives_413_page(app, client, member, monkeypatch):
    _, org = member
    p = f.proposal(org)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    resp = _upload(client, p, "riesig.pdf", PDF_BYTES + b"0" * 8192)
    assert resp.status_code == 413 and "Datei zu groß" in resp.get_data(as_text=True)
    assert _count() == 0


def test_upload_without_file(client, member):
    _, org = member
    p = f.proposal(org)
    resp = client.post(f"/proposals/{p.id}/attachments", data={},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "Bitte wählen Sie eine Datei aus" in resp.get_data(
        as_text=True)


def test_htmx_upload_renders_the_attachments_block(client, member):
    _, org = member
    p = f.proposal(org)
    resp = _upload(client, p, "skizze.png", PNG_BYTES, headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert "skizze.png" in html and "wurde hochgeladen" in html
    resp = _upload(client, p, "text.pdf", b"nur Text", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "keine gültige PDF-Datei" in html and "<html" not in html
    assert _count() == 1


def test_member_cannot_mark_an_upload_internal(client, member):
    _, org = member
    p = f.proposal(org)
    _upload(client, p, "konzept.pdf", PDF_BYTES, internal="y")
    assert db.session.execute(select(Attachment)).scalar_one().internal is False


def test_member_cannot_upload_once_submitted(client, member):
    _, org = member
    p = f.proposal(org, status="submitted")
    resp = _upload(client, p, "konzept.pdf", PDF_BYTES)
    assert resp.status_code == 403 and _count() == 0
    assert "Datei hinzufügen" not in client.get(f"/proposals/{p.id}").get_data(as_text=True)


def test_member_may_upload_while_changes_are_requested(client, member):
    _, org = member
    p = f.proposal(org, status="changes_requested")
    assert _upload(client, p, "konzept.pdf", PDF_BYTES).status_code == 303
    assert _count() == 1


# ---------------------------------------------------------------- download


def _stored(app, p, name="konzept.pdf", data=PDF_BYTES, internal=False, uploader=None):
    fs = FileStorage(io.BytesIO(data), filename=name)
    a = uploads.store(p, fs, uploader or p.organisation.memberships[0].user, internal=internal)
    db.session.commit()
    return a


def test_download_is_an_attachment_with_safe_headers(app, client, member, storage_backend):
    _, org = member
    p = f.proposal(org)
    a = _stored(app, p, name="Kostenplan Überblick.pdf")
    resp = client.get(f"/proposals/attachments/{a.id}")
    assert resp.status_code == 200 and resp.data == PDF_BYTES
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Length"] == str(len(PDF_BYTES))
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "Kostenplan" in disposition
    assert "filename*=UTF-8''Kostenplan%20%C3%9Cberblick.pdf" in disposition
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in resp.headers["Cache-Control"] and "private" in resp.headers[
        "Cache-Control"]


def test_download_of_a_lost_file_is_404(app, client, member, storage_backend):
    _, org = member
    p = f.proposal(org)
    a = _stored(app, p)
    storage_backend.remove(a.stored_name)
    assert client.get(f"/proposals/attachments/{a.id}").status_code == 404


@pytest.mark.parametrize("role", ["visitor", "other_partner", "reviewer"])
def test_download_refused_to_outsiders(app, app_ctx, client, login, role):
    org = f.organisation(owner=f.user())
    p = f.proposal(org, status="submitted")
    a = _stored(app, p)
    if role == "other_partner":
        u = f.user()
        f.organisation(owner=u)
        login(u)
    elif role == "reviewer":
        login(f.staff(Role.REVIEWER.value))  # not assigned
    resp = client.get(f"/proposals/attachments/{a.id}")
    if role == "visitor":
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    else:
        assert resp.status_code == 404
    assert resp.data != PDF_BYTES


@pytest.mark.parametrize("role", ["admin", "coordinator", "decider", "dpo", "iso"])
def test_staff_download_submitted_but_not_draft_attachments(app, app_ctx, client, login, role):
    org = f.organisation(owner=f.user())
    submitted = _stored(app, f.proposal(org, status="submitted"))
    draft = _stored(app, f.proposal(org), name="entwurf.pdf")
    login(f.staff(role))
    assert client.get(f"/proposals/attachments/{submitted.id}").status_code == 200
    assert client.get(f"/proposals/attachments/{draft.id}").status_code == 404


# ---------------------------------------------------------------- internal attachments (staff)


def test_staff_upload_may_be_internal_and_stays_hidden_from_members(app, client, login, member):
    user, org = member
    p = f.proposal(org, status="in_review")
    coordinator = f.staff(Role.COORDINATOR.value)
    login(coordinator)
    resp = _upload(client, p, "vermerk.pdf", PDF_BYTES, internal="y",
                   next=f"/staff/review/proposals/{p.id}")
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/review/proposals/{p.id}")
    a = db.session.execute(select(Attachment)).scalar_one()
    assert a.internal is True and a.uploaded_by_id == coordinator.id
    assert client.get(f"/proposals/attachments/{a.id}").status_code == 200

    login(user)
    assert client.get(f"/proposals/attachments/{a.id}").status_code == 404
    assert "vermerk.pdf" not in client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert client.post(f"/proposals/attachments/{a.id}/delete").status_code == 404


def test_staff_upload_refused_is_flashed_on_the_staff_page(app, client, login, member):
    _, org = member
    p = f.proposal(org, status="in_review")
    login(f.staff(Role.COORDINATOR.value))
    resp = _upload(client, p, "text.pdf", b"kein pdf", next="https://evil.example/")
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/staff/review/proposals/{p.id}")
    assert _count() == 0


def test_assigned_reviewer_may_store_internal_attachments_via_the_domain(app, app_ctx):
    org = f.organisation(owner=f.user())
    p = f.proposal(org, status="in_review")
    reviewer = f.staff(Role.REVIEWER.value)
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal=p, reviewer_id=reviewer.id))
    db.session.commit()
    a = _stored(app, p, name="notizen.docx", data=_ooxml("docx"), internal=True,
                uploader=reviewer)
    assert a.internal and a.content_type == uploads.DOCX
    assert uploads.visible_attachments(p, internal=False) == []
    assert uploads.visible_attachments(p, internal=True) == [a]


# ---------------------------------------------------------------- delete


def test_member_deletes_an_attachment_of_a_draft(app, client, member, storage_backend):
    _, org = member
    p = f.proposal(org)
    a = _stored(app, p)
    assert storage_backend.all() == [a.stored_name]
    resp = client.post(f"/proposals/attachments/{a.id}/delete")
    assert resp.status_code == 303
    assert _count() == 0 and storage_backend.all() == []
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "attachment.delete")).scalar_one()


def test_htmx_delete_renders_the_attachments_block(app, client, member):
    _, org = member
    p = f.proposal(org)
    a = _stored(app, p, name="weg.pdf")
    resp = client.post(f"/proposals/attachments/{a.id}/delete", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html and "wurde entfernt" in html


def test_member_cannot_delete_attachments_once_submitted(app, client, member):
    _, org = member
    p = f.proposal(org, status="submitted")
    a = _stored(app, p)
    assert client.post(f"/proposals/attachments/{a.id}/delete").status_code == 403
    assert _count() == 1


def test_deleting_a_draft_removes_its_files(app, client, member, storage_backend):
    _, org = member
    p = f.proposal(org)
    a = _stored(app, p)
    assert storage_backend.all() == [a.stored_name]
    assert client.post(f"/proposals/{p.id}/delete").status_code == 303
    assert storage_backend.all() == [] and _count() == 0
