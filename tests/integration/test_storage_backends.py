"""Both storage backends (STORAGE_BACKEND): the upload folder and an S3 bucket, here moto's
S3 server on 127.0.0.1 spoken to with boto3 over HTTP. The upload, download, version, video,
export and deletion tests of the other modules run on both (the `storage_backend` fixture);
what is here is about the backends themselves: check_files on both, presigned downloads, a
storage that stops answering."""
from __future__ import annotations

import io
import time
import urllib.error
import urllib.request

import pytest
from flask import url_for
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from innolab.domain import storage, uploads
from innolab.extensions import db
from innolab.models import Attachment, DataExport, DocumentVersion, Role
from innolab.web import errors
from tests import factories as f
from tests.s3 import BucketFiles, S3Server, bucket_name, use_s3

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
LATER = 2 * uploads.STALE_AFTER_SECONDS  # seconds: what "an hour later" is for check_files


def _count(model=Attachment) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _stored(p, name="konzept.pdf", data=PDF):
    a = uploads.store(p, FileStorage(io.BytesIO(data), filename=name),
                      p.organisation.memberships[0].user)
    db.session.commit()
    return a


def _upload(client, p, name, data):
    return client.post(f"/proposals/{p.id}/attachments",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.fixture
def member(app_ctx, login):
    u = f.user(name="Erika Partnerin")
    org = f.organisation(owner=u)
    login(u)
    return u, org


# ---------------------------------------------------------------- check_files on both


def test_check_files_finds_missing_and_orphan_files(app_ctx, storage_backend):
    org = f.organisation(owner=f.user())
    kept = _stored(f.proposal(org), "bleibt.pdf")
    lost = _stored(f.proposal(org), "verloren.pdf")
    storage_backend.remove(lost.stored_name)
    orphan = "f" * 32
    storage_backend.write(orphan, b"niemandes Datei")
    later = time.time() + LATER

    result = uploads.check_files(now=later)
    assert result.orphans == [orphan]
    assert result.missing == [("attachments", lost.id, lost.stored_name)]
    assert not result.ok

    result = uploads.check_files(fix=True, now=later)
    assert result.removed == [orphan]
    assert storage_backend.all() == [kept.stored_name]  # the orphan went, nothing else
    assert result.missing and result.problems == 1  # a lost file comes from a backup only


def test_check_files_on_s3_gives_an_object_without_a_row_its_hour(app_ctx, s3_files):
    # S3 writes the object before its row is committed: a fresh object without a row may be
    # an upload whose transaction is still open, and must not be deleted as an orphan.
    in_progress = "e" * 32
    s3_files.write(in_progress, PDF)
    result = uploads.check_files(fix=True)
    assert result.ok and result.orphans == [] and s3_files.all() == [in_progress]
    result = uploads.check_files(now=time.time() + LATER)
    assert result.orphans == [in_progress]


def test_check_files_command_names_s3_objects(app, app_ctx, s3_files):
    org = f.organisation(owner=f.user())
    lost = _stored(f.proposal(org))
    s3_files.remove(lost.stored_name)
    result = app.test_cli_runner().invoke(args=["innolab", "check-files"])
    assert result.exit_code == 1
    where = f"s3://{s3_files.bucket}/{s3_files.prefix}{lost.stored_name}"
    assert f"row without a file: attachments id {lost.id} ({where})" in result.output
    db.session.delete(db.session.get(Attachment, lost.id))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["innolab", "check-files"])
    assert result.exit_code == 0 and "Bucket and database match." in result.output


# ---------------------------------------------------------------- presigned downloads


@pytest.fixture
def presigned(app, monkeypatch, s3_files):
    monkeypatch.setitem(app.config, "S3_PRESIGNED_DOWNLOADS", True)
    monkeypatch.setitem(app.config, "S3_PRESIGN_SECONDS", 30)
    return s3_files


def test_presigned_download_redirects_to_an_address_that_serves_the_file(
        app, client, member, presigned, s3_server, monkeypatch):
    _, org = member
    a = _stored(f.proposal(org), name="Kostenplan Überblick.pdf")
    response = client.get(f"/proposals/attachments/{a.id}")
    assert response.status_code == 302
    url = response.headers["Location"]
    assert url.startswith(f"{s3_server.url}/{presigned.bucket}/{presigned.prefix}{a.stored_name}?")
    assert "X-Amz-Expires=30" in url and "X-Amz-Signature=" in url
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"

    with urllib.request.urlopen(url, timeout=10) as answer:  # as the browser fetches it
        body, headers = answer.read(), answer.headers
    assert body == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Cache-Control"] == "private, no-store"
    # the same download name as when the app sends the file itself
    monkeypatch.setitem(app.config, "S3_PRESIGNED_DOWNLOADS", False)
    direct = client.get(f"/proposals/attachments/{a.id}")
    assert direct.status_code == 200 and direct.data == PDF
    assert headers["Content-Disposition"] == direct.headers["Content-Disposition"]
    assert headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''Kostenplan%20%C3%9Cberblick.pdf" in headers["Content-Disposition"]


def test_presigned_address_without_its_signature_is_refused(app, client, member, presigned):
    _, org = member
    a = _stored(f.proposal(org))
    url = client.get(f"/proposals/attachments/{a.id}").headers["Location"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url.split("?")[0], timeout=10)  # the object is not public
    assert refused.value.code == 403


@pytest.mark.parametrize("who", ["visitor", "other_partner", "reviewer"])
def test_presigned_download_is_refused_before_any_redirect(app, app_ctx, client, login,
                                                           presigned, who):
    org = f.organisation(owner=f.user())
    a = _stored(f.proposal(org, status="submitted"))
    if who == "other_partner":
        other = f.user()
        f.organisation(owner=other)
        login(other)
    elif who == "reviewer":
        login(f.staff(Role.REVIEWER.value))  # not assigned
    response = client.get(f"/proposals/attachments/{a.id}")
    if who == "visitor":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 404
    assert presigned.bucket not in response.headers.get("Location", "")
    assert "X-Amz-Signature" not in response.get_data(as_text=True)


def test_presigned_download_of_a_lost_file_is_404(app, client, member, presigned):
    _, org = member
    a = _stored(f.proposal(org))
    presigned.remove(a.stored_name)
    response = client.get(f"/proposals/attachments/{a.id}")
    assert response.status_code == 404 and "Location" not in response.headers


def test_document_version_download_is_presigned_too(app, app_ctx, client, login, presigned):
    owner = f.user()
    p = f.proposal(f.organisation(owner=owner), status="running")
    login(owner)
    assert client.post(url_for("pilots.documents", proposal_id=p.id),
                       data={"document-title": "Plan",
                             "document-file": (io.BytesIO(PDF), "plan.pdf")},
                       content_type="multipart/form-data").status_code == 303
    v = db.session.scalars(select(DocumentVersion)).one()
    response = client.get(url_for("pilots.document_version", version_id=v.id))
    assert response.status_code == 302
    with urllib.request.urlopen(response.headers["Location"], timeout=10) as answer:
        assert answer.read() == PDF
        assert answer.headers["Content-Disposition"] == "attachment; filename=plan.pdf"


# ---------------------------------------------------------------- a storage that stops answering


@pytest.fixture
def own_s3(app, monkeypatch):
    """A moto server of this test's own (so that it may be stopped), with a bucket, the app
    set to it; `.stop()` ends it."""
    server = S3Server().start()
    bucket = server.create_bucket(bucket_name("down"))
    prefix = use_s3(app, monkeypatch, server, bucket)
    files = BucketFiles(server, bucket, prefix)
    try:
        yield files
    finally:
        if server.url:
            server.stop()


def _stop(files: BucketFiles) -> None:
    files.server.stop()
    files.server.url = ""  # stopped: the fixture leaves it


def test_download_while_s3_is_away_is_a_503_page_in_german(app, client, member, own_s3):
    _, org = member
    a = _stored(f.proposal(org))
    assert client.get(f"/proposals/attachments/{a.id}").data == PDF
    _stop(own_s3)
    response = client.get(f"/proposals/attachments/{a.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(errors.STORAGE_RETRY_AFTER_SECONDS)
    assert "Vorübergehend nicht verfügbar" in body
    assert "Der Dateispeicher antwortet gerade nicht" in body
    assert "Vorgangsnummer" in body and PDF.decode() not in body


def test_download_while_s3_is_away_is_a_503_page_in_english(app, app_ctx, client, login,
                                                            own_s3):
    u = f.user(name="Erika Partner", locale="en")
    p = f.proposal(f.organisation(owner=u))
    login(u)
    a = _stored(p)
    _stop(own_s3)
    client.set_cookie("lang", "en")
    response = client.get(f"/proposals/attachments/{a.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    with force_locale("en"):
        assert str(errors.STORAGE_AWAY) in body and str(errors.TITLES[503]) in body
    assert "Der Dateispeicher" not in body


def test_video_while_s3_is_away_is_a_503(app, app_ctx, client, login, own_s3):
    login(f.staff("admin", email="ada@zdmv.example"))
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2048
    assert client.post("/admin/sign-language",
                       data={"transcript": "Hallo.", "video": (io.BytesIO(mp4), "dgs.mp4")},
                       content_type="multipart/form-data").status_code == 303
    _stop(own_s3)
    assert app.test_client().get("/gebaerdensprache/video").status_code == 503


def test_upload_while_s3_is_away_is_refused_with_a_message(app, client, member, own_s3):
    _, org = member
    p = f.proposal(org)
    _stop(own_s3)
    response = _upload(client, p, "konzept.pdf", PDF)
    assert response.status_code == 422
    with force_locale("de"):
        assert str(uploads.NOT_STORED) in response.get_data(as_text=True)
    assert _count() == 0


def test_data_export_while_s3_is_away_waits_for_the_worker(app, app_ctx, client, login,
                                                           own_s3):
    u = f.user()
    _stored(f.proposal(f.organisation(owner=u)))
    login(u)
    _stop(own_s3)
    response = client.post("/account/data-export")
    assert response.status_code == 303  # not a 500: the worker tries again later
    export = db.session.execute(select(DataExport)).scalar_one()
    assert export.status == "requested"


def test_storage_that_is_not_there_raises_storage_unavailable(app_ctx, own_s3):
    _stop(own_s3)
    with pytest.raises(storage.StorageUnavailable):
        storage.current().exists("a" * 32)
    with pytest.raises(storage.StorageUnavailable):
        storage.current().check_ready()
