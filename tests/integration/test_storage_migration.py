"""`flask innolab storage migrate --to s3|filesystem`: every stored file (attachments, document
versions, the sign-language video) copied from the configured backend to the other one,
verified by SHA-256, idempotent, with a dry run; problems named, with exit code 1. Between the
upload folder and a bucket of moto's S3 server (tests/s3.py)."""
from __future__ import annotations

import hashlib
import io
import os
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import FileStorage

from innolab.domain import accessibility, storage, uploads, workspace
from innolab.extensions import db
from tests import factories as f
from tests.s3 import BucketFiles, FolderFiles, use_s3

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PDF2 = PDF.replace(b"%%EOF", b"% zweite Fassung\n%%EOF")
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4096


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


@pytest.fixture
def both(app, app_ctx, tmp_path, monkeypatch, s3_server):
    """The app on the upload folder (configured), with the bucket set up as the other
    backend; one file of every kind stored in the folder."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    prefix = use_s3(app, monkeypatch, s3_server, s3_server.bucket)
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "filesystem")
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    owner = f.user()
    p = f.proposal(f.organisation(owner=owner), status="running")
    attachment = uploads.store(p, _file(PDF, "konzept.pdf"), owner)
    document = workspace.add_document(p, owner, title="Plan", file_storage=_file(PDF, "plan.pdf"))
    version = workspace.add_version(document, owner, _file(PDF2, "plan-2.pdf"))
    video = accessibility.save_video(f.staff("admin"), _file(MP4, "dgs.mp4"), "Transkript")
    db.session.commit()
    names = sorted([attachment.stored_name, document.versions[0].stored_name,
                    version.stored_name, video.stored_name])
    return SimpleNamespace(folder=FolderFiles(folder), bucket=BucketFiles(
        s3_server, s3_server.bucket, prefix), names=names, attachment=attachment,
        video=video, owner=owner, p=p)


def migrate(app, *args):
    return app.test_cli_runner().invoke(args=["innolab", "storage", "migrate", *args])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_files_go_to_s3_and_back_verified_and_only_once(app, both, client, login,
                                                       monkeypatch, tmp_path):
    assert both.folder.names() == both.names and both.bucket.all() == []

    dry = migrate(app, "--to", "s3", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "4 file(s) would be copied, 0 already there" in dry.output
    assert "Nothing was changed (dry run)." in dry.output
    assert both.bucket.all() == []  # a dry run changes nothing

    done = migrate(app, "--to", "s3", "--verbose")
    assert done.exit_code == 0, done.output
    assert "4 file(s) copied, 0 already there with the same checksum, 0 problem(s)." in done.output
    assert f"copied: attachments id {both.attachment.id}" in done.output
    assert f"copied: sign_language_videos id {both.video.id}" in done.output
    assert "Set STORAGE_BACKEND=s3" in done.output
    assert both.bucket.all() == both.names
    for name in both.names:
        assert _sha(both.bucket.read(name)) == _sha(both.folder.read(name))
    assert both.folder.names() == both.names  # nothing is deleted in the source

    again = migrate(app, "--to", "s3")
    assert again.exit_code == 0, again.output
    assert "0 file(s) copied, 4 already there with the same checksum" in again.output

    # switched over: the app reads from the bucket alone
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "s3")
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "empty"))
    login(both.owner)
    download = client.get(f"/proposals/attachments/{both.attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert app.test_client().get("/gebaerdensprache/video").data == MP4
    assert uploads.check_files().ok

    # and back, into a new upload folder
    back = migrate(app, "--to", "filesystem")
    assert back.exit_code == 0, back.output
    assert "4 file(s) copied, 0 already there" in back.output
    restored = FolderFiles(tmp_path / "empty")
    assert restored.all() == both.names  # no temporary file left behind
    for name in both.names:
        assert restored.read(name) == both.bucket.read(name)
        assert oct(os.stat(restored.folder / name).st_mode & 0o777) == oct(0o600)
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "filesystem")
    assert client.get(f"/proposals/attachments/{both.attachment.id}").data == PDF
    assert uploads.check_files().ok


def test_a_missing_source_is_named_and_the_rest_copied(app, both):
    both.folder.remove(both.attachment.stored_name)
    for args in (["--dry-run"], []):
        result = migrate(app, "--to", "s3", *args)
        assert result.exit_code == 1, result.output
        assert (f"problem: attachments id {both.attachment.id} ({both.attachment.stored_name}): "
                "missing in the source") in result.output
        assert "1 problem(s)" in result.output
    assert both.bucket.all() == sorted(set(both.names) - {both.attachment.stored_name})


def test_a_damaged_source_is_named_and_not_copied(app, both):
    # the file no longer has the size its row records (truncated, overwritten)
    both.folder.write(both.attachment.stored_name, PDF[:20])
    result = migrate(app, "--to", "s3")
    assert result.exit_code == 1
    assert f"attachments id {both.attachment.id}" in result.output
    assert "damaged, not copied" in result.output
    assert both.attachment.stored_name not in both.bucket.all()
    assert len(both.bucket.all()) == 3


def test_a_different_copy_in_the_target_is_replaced(app, both):
    both.bucket.write(both.attachment.stored_name, b"eine halbe Kopie")
    result = migrate(app, "--to", "s3")
    assert result.exit_code == 0, result.output
    assert "4 file(s) copied (1 replacing a different copy)" in result.output
    assert both.bucket.read(both.attachment.stored_name) == PDF


def test_a_copy_whose_checksum_differs_is_named(app, both, monkeypatch):
    real_put = storage.S3Storage.put

    def damaging_put(self, name, stream):  # the bytes change on the way to the storage
        data = stream.read()
        if name == both.attachment.stored_name:
            data = data[:-1] + b"X"
        real_put(self, name, io.BytesIO(data))

    monkeypatch.setattr(storage.S3Storage, "put", damaging_put)
    result = migrate(app, "--to", "s3")
    assert result.exit_code == 1
    assert (f"problem: attachments id {both.attachment.id} ({both.attachment.stored_name}): "
            "checksum of the copy differs") in result.output
    assert "3 file(s) copied" in result.output


def test_migrating_to_the_configured_backend_is_refused(app, both):
    result = migrate(app, "--to", "filesystem")
    assert result.exit_code == 2
    assert "STORAGE_BACKEND is already filesystem" in result.output
    assert both.bucket.all() == []


def test_a_target_that_does_not_answer_stops_the_run(app, both, monkeypatch):
    monkeypatch.setitem(app.config, "S3_BUCKET", "innolab-no-such-bucket")
    result = migrate(app, "--to", "s3")
    assert result.exit_code == 1
    assert "stopped: the target does not answer" in result.output
