"""Files and rows change together: a file is in place only after its row was committed, gone
after a rollback or a full disk, removed only after the deletion was committed; `check-files`
and the worker report what does not match."""
from __future__ import annotations

import io
import os
import queue
import subprocess
import sys
import threading
import time

import pytest
from flask import url_for
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from innolab import ROOT
from innolab.domain import uploads
from innolab.extensions import db
from innolab.models import Attachment, Document, DocumentVersion, Message
from tests import factories as f

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
FULL_DE = "Die Datei konnte nicht gespeichert werden, weil der Speicherplatz voll ist."


def _count(model=Attachment) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _files(folder) -> list[str]:
    return sorted(os.listdir(folder))


def _pdf(data=PDF, name="konzept.pdf"):
    return FileStorage(io.BytesIO(data), filename=name)


@pytest.fixture
def member(app_ctx, login):
    u = f.user(name="Erika Partnerin")
    org = f.organisation(owner=u)
    login(u)
    return u, org


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    """An empty upload folder of this test's own."""
    path = tmp_path / "uploads"
    path.mkdir()
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(path))
    return path


def _upload(client, p, name, data, headers=None):
    return client.post(f"/proposals/{p.id}/attachments",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", headers=headers or {})


# ---------------------------------------------------------------- a full disk


def test_upload_bigger_than_the_free_space_is_refused_in_german(app, client, member,
                                                                full_upload_folder):
    _, org = member
    p = f.proposal(org)
    resp = _upload(client, p, "gross.pdf", full_upload_folder.too_big)
    assert resp.status_code == 422
    assert FULL_DE in resp.get_data(as_text=True)
    assert _count() == 0
    assert _files(full_upload_folder.path) == []  # no temporary file either


def test_upload_bigger_than_the_free_space_is_refused_in_english(app, app_ctx, client, login,
                                                                 full_upload_folder):
    u = f.user(name="Erika Partner", locale="en")
    p = f.proposal(f.organisation(owner=u))
    login(u)
    with force_locale("en"):
        english = str(uploads.NO_SPACE)
    if FULL_DE in english:
        pytest.xfail("the English catalogue does not have this message yet")
    resp = _upload(client, p, "big.pdf", full_upload_folder.too_big)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "storage space is full" in html and FULL_DE not in html
    assert _count() == 0 and _files(full_upload_folder.path) == []


def test_htmx_upload_on_a_full_disk_shows_the_reason_in_the_block(app, client, member,
                                                                  full_upload_folder):
    _, org = member
    p = f.proposal(org)
    resp = _upload(client, p, "gross.pdf", full_upload_folder.too_big,
                   headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html and FULL_DE in html
    assert _count() == 0 and _files(full_upload_folder.path) == []


def test_message_with_a_file_on_a_full_disk_keeps_the_text(app, app_ctx, client, login,
                                                           full_upload_folder):
    owner = f.user()
    p = f.proposal(f.organisation(owner=owner), status="running")
    login(owner)
    resp = client.post(
        url_for("pilots.messages", proposal_id=p.id),
        data={"message-body": "Anbei der Zwischenbericht",
              "message-files": [(io.BytesIO(full_upload_folder.fits), "klein.pdf"),
                                (io.BytesIO(full_upload_folder.too_big), "gross.pdf")]},
        content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert FULL_DE in html and "Anbei der Zwischenbericht" in html
    # the small file that did fit went with the rollback, too
    assert _count(Message) == 0 and _count() == 0
    assert _files(full_upload_folder.path) == []


def test_document_on_a_full_disk_keeps_the_title(app, app_ctx, client, login,
                                                 full_upload_folder):
    owner = f.user()
    p = f.proposal(f.organisation(owner=owner), status="running")
    login(owner)
    resp = client.post(
        url_for("pilots.documents", proposal_id=p.id),
        data={"document-title": "Betriebskonzept",
              "document-file": (io.BytesIO(full_upload_folder.too_big), "konzept.pdf")},
        content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and FULL_DE in html and 'value="Betriebskonzept"' in html
    assert _count(Document) == 0 and _count(DocumentVersion) == 0
    assert _files(full_upload_folder.path) == []


def test_upload_that_fits_is_stored_on_the_small_disk(app, client, member, full_upload_folder):
    _, org = member
    p = f.proposal(org)
    assert _upload(client, p, "klein.pdf", full_upload_folder.fits).status_code == 303
    a = db.session.execute(select(Attachment)).scalar_one()
    assert _files(full_upload_folder.path) == [a.stored_name]
    assert (full_upload_folder.path / a.stored_name).read_bytes() == full_upload_folder.fits


# ---------------------------------------------------------------- tied to the commit


def test_file_is_in_place_only_after_the_commit(app_ctx, folder):
    org = f.organisation(owner=f.user())
    p = f.proposal(org)
    a = uploads.store(p, _pdf(), org.memberships[0].user)
    assert not (folder / a.stored_name).exists()
    assert _files(folder) == [uploads.TEMP_PREFIX + a.stored_name]
    db.session.commit()
    assert _files(folder) == [a.stored_name]
    assert (folder / a.stored_name).read_bytes() == PDF
    assert oct((folder / a.stored_name).stat().st_mode & 0o777) == oct(0o600)


def test_object_is_written_before_the_commit_and_kept_by_it(app_ctx, s3_files):
    # S3 has no rename: the object is written at once, so the committed row always has it
    org = f.organisation(owner=f.user())
    p = f.proposal(org)
    a = uploads.store(p, _pdf(), org.memberships[0].user)
    assert s3_files.all() == [a.stored_name]
    db.session.commit()
    assert s3_files.all() == [a.stored_name] and s3_files.read(a.stored_name) == PDF


# The same on both backends (storage_backend: the upload folder, or a bucket of moto's S3
# server): what the transaction does not commit leaves no file behind.


def test_rollback_after_store_leaves_no_file(app_ctx, storage_backend):
    org = f.organisation(owner=f.user())
    p = f.proposal(org)
    uploads.store(p, _pdf(), org.memberships[0].user)
    db.session.rollback()
    assert storage_backend.all() == [] and _count() == 0


def test_session_ended_without_commit_leaves_no_file(app_ctx, storage_backend):
    org = f.organisation(owner=f.user())
    p = f.proposal(org)
    uploads.store(p, _pdf(), org.memberships[0].user)
    db.session.remove()  # what the end of a request does after an unexpected error
    assert storage_backend.all() == [] and _count() == 0


def test_savepoint_rolled_back_takes_only_its_own_file(app_ctx, storage_backend):
    org = f.organisation(owner=f.user())
    p = f.proposal(org)
    user = org.memberships[0].user
    kept = uploads.store(p, _pdf(name="bleibt.pdf"), user)
    savepoint = db.session.begin_nested()
    uploads.store(p, _pdf(name="weg.pdf"), user)
    savepoint.rollback()
    inner = db.session.begin_nested()
    released = uploads.store(p, _pdf(name="auch.pdf"), user)
    inner.commit()
    db.session.commit()
    assert storage_backend.all() == sorted([kept.stored_name, released.stored_name])
    assert sorted(a.filename for a in db.session.scalars(select(Attachment))) == [
        "auch.pdf", "bleibt.pdf"]


def test_failed_commit_leaves_no_file(app_ctx, storage_backend):
    org = f.organisation(owner=f.user())
    p = f.proposal(org)
    a = uploads.store(p, _pdf(), org.memberships[0].user)
    twin = Attachment(proposal=p, filename="zwilling.pdf", stored_name=a.stored_name,
                      content_type="application/pdf", size=1)
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.commit()  # stored_name is unique: the flush fails
    db.session.rollback()
    assert storage_backend.all() == [] and _count() == 0


def test_delete_removes_the_file_only_after_the_commit(app, client, member, storage_backend):
    _, org = member
    p = f.proposal(org)
    a = uploads.store(p, _pdf(), org.memberships[0].user)
    db.session.commit()
    uploads.delete(a, org.memberships[0].user)
    assert storage_backend.all() == [a.stored_name]
    db.session.rollback()
    assert storage_backend.all() == [a.stored_name] and _count() == 1
    resp = client.post(f"/proposals/attachments/{a.id}/delete")
    assert resp.status_code == 303
    assert storage_backend.all() == [] and _count() == 0


# ---------------------------------------------------------------- check-files


@pytest.fixture
def check_files(app, folder):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["innolab", "check-files", *args])


def _committed_attachment(org, name="konzept.pdf"):
    a = uploads.store(f.proposal(org), _pdf(name=name), org.memberships[0].user)
    db.session.commit()
    return a


def _make_old(path, hours=2):
    old = time.time() - hours * 3600
    os.utime(path, (old, old))


def test_check_files_all_in_order_exits_0(app_ctx, folder, check_files):
    org = f.organisation(owner=f.user())
    _committed_attachment(org)
    result = check_files()
    assert result.exit_code == 0, result.output
    assert "Upload folder and database match." in result.output


def test_check_files_reports_orphans_missing_files_and_stale_temps(app_ctx, folder, check_files):
    org = f.organisation(owner=f.user())
    kept = _committed_attachment(org, "bleibt.pdf")
    lost = _committed_attachment(org, "verloren.pdf")
    (folder / lost.stored_name).unlink()
    orphan = folder / ("f" * 32)
    orphan.write_bytes(b"niemandes Datei")
    stale = folder / (uploads.TEMP_PREFIX + "e" * 32)
    stale.write_bytes(b"abgebrochen")
    _make_old(stale)
    fresh = folder / (uploads.TEMP_PREFIX + "d" * 32)
    fresh.write_bytes(b"wird gerade hochgeladen")

    result = check_files()
    assert result.exit_code == 1
    out = result.output
    assert f"file without a row: {orphan}" in out
    assert f"row without a file: attachments id {lost.id}" in out
    assert f"stale temporary file: {stale}" in out
    assert str(fresh) not in out and kept.stored_name not in out
    assert "1 file(s) without a row, 1 row(s) without a file, 1 stale temporary file(s)" in out
    assert "--fix" in out
    assert orphan.exists() and stale.exists()  # nothing removed without --fix

    result = check_files("--fix")
    assert result.exit_code == 1  # the row without its file is still wrong
    assert "(removed)" in result.output
    assert not orphan.exists() and not stale.exists()
    assert fresh.exists() and (folder / kept.stored_name).exists()

    db.session.delete(db.session.get(Attachment, lost.id))
    db.session.commit()
    result = check_files()
    assert result.exit_code == 0, result.output


def test_check_files_fix_of_orphans_alone_exits_0(app_ctx, folder, check_files):
    orphan = folder / ("c" * 32)
    orphan.write_bytes(b"alt")
    result = check_files("--fix")
    assert result.exit_code == 0, result.output
    assert "1 file(s) removed" in result.output and not orphan.exists()


def test_check_files_knows_document_versions(app_ctx, folder, check_files, login, client):
    owner = f.user()
    p = f.proposal(f.organisation(owner=owner), status="running")
    login(owner)
    resp = client.post(url_for("pilots.documents", proposal_id=p.id),
                       data={"document-title": "Plan",
                             "document-file": (io.BytesIO(PDF), "plan.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303
    assert check_files().exit_code == 0
    v = db.session.scalars(select(DocumentVersion)).one()
    (folder / v.stored_name).unlink()
    result = check_files()
    assert result.exit_code == 1
    assert f"row without a file: document_versions id {v.id}" in result.output


# ---------------------------------------------------------------- the worker checks, too


def _lines(stream, out: queue.Queue):
    for line in iter(stream.readline, ""):
        out.put(line)
    out.put(None)


def test_worker_logs_a_warning_when_folder_and_database_differ(app, app_ctx, folder):
    org = f.organisation(owner=f.user())
    lost = _committed_attachment(org)
    (folder / lost.stored_name).unlink()
    (folder / ("b" * 32)).write_bytes(b"verwaist")
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "UPLOAD_FOLDER": str(folder), "SECRET_KEY": "test-secret-key-not-for-production",
           "INNOLAB_ENV": "development", "SMTP_HOST": "", "RATELIMIT_STORAGE_URI": "memory://",
           "FILE_CHECK_INTERVAL": "3600", "WORKER_INTERVAL": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "innolab",
                             "worker"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen, warning = [], None
    try:
        deadline = time.monotonic() + 60  # generous: the worker has to start first
        while warning is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            seen.append(line)
            if "Upload folder check" in line:
                warning = line
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert warning is not None, "".join(seen)
    assert "WARNING" in warning
    assert "1 file(s) without a row, 1 row(s) without a file, 0 stale" in warning
