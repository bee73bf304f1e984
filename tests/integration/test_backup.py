"""scripts/backup.sh and scripts/restore.sh as docs/deployment.md runs them: a backup of the
test database and an upload folder, restored into a new database and a new folder, holds every
row and every file again."""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from innolab import ROOT
from innolab.domain import uploads, workspace
from innolab.extensions import db
from innolab.models import Attachment, DocumentVersion
from tests import factories as f

URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not URL.startswith(("postgresql", "postgres:")),
    reason="backup and restore use pg_dump and pg_restore: set TEST_DATABASE_URL to a "
           "PostgreSQL database to run them (they do not apply to SQLite)")

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
BACKUP = ROOT / "scripts" / "backup.sh"
RESTORE = ROOT / "scripts" / "restore.sh"


def _plain(url) -> str:
    """A URL as libpq and the scripts take it (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def restore_db(app):
    """A new, empty database `<test database>_restore` on the same server, dropped afterwards."""
    source = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    target = source.set(database=f"{source.database}_restore")
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = target.database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield target
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    path = tmp_path / "uploads"
    path.mkdir()
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(path))
    return path


def _run(script: Path, *args, **env) -> subprocess.CompletedProcess:
    # Only what the scripts document, so nothing of the test's own settings leaks in.
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                   "INNOLAB_ENV_FILE": "/nonexistent", **{k: str(v) for k, v in env.items()}}
    return subprocess.run([str(script), *map(str, args)], env=environment, capture_output=True,
                          text=True, timeout=300)


def _some_data():
    """Partners, proposals with attachments, a pilot with a shared document."""
    owner = f.user(name="Paula Partnerin")
    colleague = f.user(name="Jörg Kollege", locale="en")
    org = f.organisation(owner=owner, members=[colleague], name="Nordlicht KI GmbH")
    drafts = [f.proposal(org, title=f"Digitale Akte {n}") for n in range(3)]
    for n, p in enumerate(drafts):
        for m in range(n + 1):
            data = PDF + f"% Anhang {n}-{m} äöü\n".encode() + os.urandom(64)
            uploads.store(p, FileStorage(io.BytesIO(data), filename=f"anhang-{n}-{m}.pdf"), owner)
    db.session.commit()
    pilot = f.proposal(org, status="running", title="Poststelle")
    f.goal(pilot)
    workspace.add_document(pilot, owner, title="Betriebskonzept",
                           file_storage=FileStorage(io.BytesIO(PDF + b"% v1"), filename="b.pdf"))
    db.session.commit()
    f.staff("coordinator", name="Clara Koordination")


def _rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t.name: sorted(conn.execute(select(t)).all(), key=repr)
                for t in db.metadata.sorted_tables}


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}


def test_backup_then_restore_into_a_new_database_brings_back_every_row_and_file(
        app, app_ctx, folder, restore_db, tmp_path):
    _some_data()
    source_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    backups = tmp_path / "backups"
    # the app's own spelling of the URL (with +psycopg) works as well as the plain one
    done = _run(BACKUP, backups, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                UPLOAD_FOLDER=folder)
    assert done.returncode == 0, done.stderr + done.stdout
    (made,) = [p for p in backups.iterdir() if p.name.startswith("innolab-")]
    assert sorted(p.name for p in made.iterdir()) == [
        "SHA256SUMS", "database.dump", "manifest.txt", "uploads.tar.gz"]
    manifest = (made / "manifest.txt").read_text()
    assert f"database: {source_url.database}" in manifest and "(7 files)" in manifest
    assert oct(made.stat().st_mode & 0o777) == oct(0o700)

    restored = tmp_path / "restored-uploads"
    done = _run(RESTORE, made, DATABASE_URL=_plain(restore_db), UPLOAD_FOLDER=restored)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "checksums verified" in done.stdout

    source = db.engine
    target = create_engine(restore_db)
    try:
        before, after = _rows(source), _rows(target)
        for table in before:
            assert len(after[table]) == len(before[table]), table
            assert after[table] == before[table], table
        assert len(after["attachments"]) == 6 and len(after["document_versions"]) == 1
        with target.connect() as conn:
            names = set(conn.execute(text("SELECT name FROM users")).scalars())
        assert {"Paula Partnerin", "Jörg Kollege", "Clara Koordination"} <= names
    finally:
        target.dispose()
    stored = {a.stored_name for a in db.session.scalars(select(Attachment))} | {
        v.stored_name for v in db.session.scalars(select(DocumentVersion))}
    assert set(_files(restored)) == stored
    assert _files(restored) == _files(folder)


def test_restore_refuses_a_damaged_backup_and_changes_nothing(app, app_ctx, folder, restore_db,
                                                            tmp_path):
    _some_data()
    backups = tmp_path / "backups"
    done = _run(BACKUP, backups, DATABASE_URL=_plain(make_url(
        app.config["SQLALCHEMY_DATABASE_URI"])), UPLOAD_FOLDER=folder)
    assert done.returncode == 0, done.stderr
    (made,) = [p for p in backups.iterdir() if p.name.startswith("innolab-")]
    with open(made / "uploads.tar.gz", "ab") as fh:
        fh.write(b"kaputt")
    restored = tmp_path / "restored-uploads"
    done = _run(RESTORE, made, DATABASE_URL=_plain(restore_db), UPLOAD_FOLDER=restored)
    assert done.returncode != 0 and "checksums do not match" in done.stderr
    assert not restored.exists()
    target = create_engine(restore_db)
    try:
        with target.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = "
                                     "'public'")).scalar_one() == 0
    finally:
        target.dispose()


def test_restore_over_an_earlier_restore_gives_the_backup_again(app, app_ctx, folder,
                                                                restore_db, tmp_path):
    _some_data()
    backups = tmp_path / "backups"
    url = _plain(make_url(app.config["SQLALCHEMY_DATABASE_URI"]))
    assert _run(BACKUP, backups, DATABASE_URL=url, UPLOAD_FOLDER=folder).returncode == 0
    (made,) = [p for p in backups.iterdir() if p.name.startswith("innolab-")]
    restored = tmp_path / "restored-uploads"
    target_url = _plain(restore_db)
    assert _run(RESTORE, made, DATABASE_URL=target_url, UPLOAD_FOLDER=restored).returncode == 0
    # what happens after a backup: a row more, one less, a file that came later
    target = create_engine(restore_db)
    try:
        with target.begin() as conn:
            conn.execute(text("UPDATE users SET name = 'Geändert'"))
            conn.execute(text("DELETE FROM attachments WHERE id = (SELECT min(id) FROM "
                              "attachments)"))
        (restored / ("f" * 32)).write_bytes(b"kam nach der Sicherung")
        done = _run(RESTORE, made, DATABASE_URL=target_url, UPLOAD_FOLDER=restored,
                    UPLOAD_OWNER=f"{os.getuid()}:{os.getgid()}")
        assert done.returncode == 0, done.stderr
        assert _rows(target) == _rows(db.engine)
    finally:
        target.dispose()
    assert _files(restored) == _files(folder)
    (aside,) = [p for p in restored.iterdir() if p.name.startswith(".before-restore-")]
    assert (aside / ("f" * 32)).read_bytes() == b"kam nach der Sicherung"
    assert len(list(aside.iterdir())) == len(_files(folder)) + 1


def test_backup_reads_the_settings_file_and_keeps_the_newest_backups(app, app_ctx, folder,
                                                                     tmp_path):
    backups = tmp_path / "backups"
    settings = tmp_path / "innolab.env"  # as docs/deployment.md writes /etc/innolab/innolab.env
    settings.write_text(
        "INNOLAB_ENV=production\n"
        f"DATABASE_URL={_plain(make_url(app.config['SQLALCHEMY_DATABASE_URI']))}\n"
        'MAIL_FROM="InnoLab des ZDMV <innolab@zdmv.example>"\n'
        f"UPLOAD_FOLDER={folder}\n")
    for _ in range(3):
        done = _run(BACKUP, backups, INNOLAB_ENV_FILE=settings, BACKUP_KEEP="2")
        assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in backups.iterdir())
    assert len(kept) == 2 and all(name.startswith("innolab-") for name in kept)


def test_backup_without_settings_says_what_is_missing(tmp_path):
    done = _run(BACKUP, tmp_path / "backups")
    assert done.returncode != 0 and "DATABASE_URL is not set" in done.stderr
    assert not (tmp_path / "backups").exists()
